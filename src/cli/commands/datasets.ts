/** `dataset register|list|versions|inspect|manifest|progress|files|deploy|rm`: datasets, their revisions and deploys. */
import type { Command } from "commander";
import { readJsonFile } from "../local-files";
import { emit, formatBytes, printFields, printLine, printTable } from "../output";
import { datasetPath, parseCount, parseDatasetName, parseDatasetReference, revisionPath } from "../references";
import type { Runner } from "../runner";
import { addWatchOptions, watchJob, type WatchFlags } from "../watch/job-watch";

interface DatasetSummary {
  namespace: string;
  name: string;
  latest_version?: string;
  versions: string[];
}

interface TableProgress {
  table_name: string;
  start_block: number | null;
  current_block: number | null;
  job_id: number | null;
  job_status: string | null;
  files_count: number;
  total_size_bytes: number;
}

interface TableFile {
  id: number;
  file_name: string;
  start_block: number;
  end_block: number;
  row_count: number;
  object_size?: number;
  content_url: string;
}

const HASH = /^[0-9a-fA-F]{64}$/;

export function registerDatasetCommands(program: Command, run: Runner): void {
  const dataset = program.command("dataset").description("datasets: a namespace/name linked to manifests, with version tags");

  dataset
    .command("register <dataset> <manifest>")
    .description("link a manifest (a JSON file, - for standard input, or the hash of a stored one) to <namespace>/<name>; moves dev, and the version with --tag")
    .option("-t, --tag <version>", "semantic version to tag (e.g. 1.0.0)")
    .action(run(async ({ client, out }, name: string, manifest: string, options: { tag?: string }) => {
      const { namespace, name: datasetName } = parseDatasetName(name);
      const body = {
        namespace,
        name: datasetName,
        manifest: HASH.test(manifest) ? manifest : await readJsonFile(manifest),
        ...(options.tag === undefined ? {} : { version: options.tag }),
      };
      await client.json("POST", "/datasets", { body });
      const registered = `${namespace}/${datasetName}${options.tag === undefined ? "" : `@${options.tag}`}`;
      emit(out, { dataset: registered }, () => printLine(out, `registered ${registered}`));
    }));

  dataset
    .command("list")
    .description("every dataset with its versions")
    .action(run(async ({ client, out }) => {
      const { datasets } = await client.get<{ datasets: DatasetSummary[] }>("/datasets");
      emit(out, datasets, () =>
        printTable(out, ["dataset", "latest", "versions"], datasets.map((d) => [`${d.namespace}/${d.name}`, d.latest_version, d.versions.join(", ")])),
      );
    }));

  dataset
    .command("versions <dataset>")
    .description("a dataset's versions, highest first, and its latest and dev tags")
    .action(run(async ({ client, out }, name: string) => {
      const body = await client.get<{ versions: { version: string; manifest_hash: string; updated_at: string }[]; special_tags: { latest?: string; dev?: string } }>(
        `${datasetPath(parseDatasetName(name))}/versions`,
      );
      emit(out, body, () => {
        printTable(out, ["version", "manifest_hash", "updated_at"], body.versions.map((v) => [v.version, v.manifest_hash, v.updated_at]));
        printLine(out, `latest: ${body.special_tags.latest ?? "-"}  dev: ${body.special_tags.dev ?? "-"}`);
      });
    }));

  dataset
    .command("inspect <reference>")
    .description("what <namespace>/<name>[@revision] resolves to: its manifest hash and kind (revision: latest when left out)")
    .action(run(async ({ client, out }, reference: string) => {
      const info = await client.get<Record<string, unknown>>(revisionPath(parseDatasetReference(reference)));
      emit(out, info, () => printFields(out, info));
    }));

  dataset
    .command("manifest <reference>")
    .description("the manifest of a revision, as its canonical JSON")
    .action(run(async ({ client, out }, reference: string) => {
      const manifest = await client.get(`${revisionPath(parseDatasetReference(reference))}/manifest`);
      emit(out, manifest, () => printLine(out, JSON.stringify(manifest, null, 2)));
    }));

  dataset
    .command("progress <reference>")
    .description("each table's synced block range, files and bytes")
    .action(run(async ({ client, out }, reference: string) => {
      const body = await client.get<{ tables: TableProgress[] }>(`${revisionPath(parseDatasetReference(reference))}/progress`);
      emit(out, body, () =>
        printTable(
          out,
          ["table", "start", "current", "files", "size", "job", "status"],
          body.tables.map((t) => [t.table_name, t.start_block, t.current_block, t.files_count, formatBytes(t.total_size_bytes), t.job_id, t.job_status]),
        ),
      );
    }));

  dataset
    .command("files <reference> <table>")
    .description("the files of a table's canonical chain in block order, with their content URLs (for DuckDB, pandas, hyparquet)")
    .action(run(async ({ client, out }, reference: string, table: string) => {
      const body = await client.get<{ files: TableFile[] }>(`${revisionPath(parseDatasetReference(reference))}/tables/${encodeURIComponent(table)}/files`);
      emit(out, body, () =>
        printTable(
          out,
          ["id", "start", "end", "rows", "size", "content_url"],
          body.files.map((f) => [f.id, f.start_block, f.end_block, f.row_count, f.object_size === undefined ? null : formatBytes(f.object_size), f.content_url]),
        ),
      );
    }));

  addWatchOptions(
    dataset
      .command("deploy <reference>")
      .description("start an extraction job of <namespace>/<name>@<version>; prints its id, or watches it with --watch")
      .option("--end-block <block>", "where the job stops: latest, N, or -N (N below the head); continuous when left out")
      .option("--parallelism <n>", "steps extracted at once", "1")
      .option("-w, --watch", "follow the job with a progress bar per table until it ends"),
  ).action(run(async (context, reference: string, options: { endBlock?: string; parallelism: string; watch?: boolean } & WatchFlags) => {
    const { client, out } = context;
    const body = { end_block: options.endBlock ?? null, parallelism: parseCount("--parallelism", options.parallelism) };
    const { job_id } = await client.json<{ job_id: number }>("POST", `${revisionPath(parseDatasetReference(reference))}/deploy`, { body });
    if (!options.watch) {
      emit(out, { job_id }, () => printLine(out, `job ${job_id}`));
      return;
    }
    if (!out.json) printLine(out, `job ${job_id}`);
    await watchJob(context, job_id, options);
  }));

  dataset
    .command("rm <dataset>")
    .description("delete <namespace>/<name> (its tags, links and unlinked manifests), or only the version tag of <namespace>/<name>@<version>")
    .action(run(async ({ client, out }, text: string) => {
      if (text.includes("@")) {
        const reference = parseDatasetReference(text);
        await client.json("DELETE", revisionPath(reference));
      } else {
        await client.json("DELETE", datasetPath(parseDatasetName(text)));
      }
      emit(out, { dataset: text, deleted: true }, () => printLine(out, `deleted ${text}`));
    }));
}
