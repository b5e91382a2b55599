/** `manifest register|list|inspect|rm|prune|generate`: content-addressed dataset manifests. */
import { writeFile } from "node:fs/promises";
import { type Command, Option } from "commander";
import { canonicalManifestJson } from "../../domain/manifest/canonical";
import { evmRpcManifest } from "../../domain/manifest/evm-rpc";
import { CommandFailure } from "../cli-errors";
import { readJsonFile } from "../local-files";
import { emit, printLine, printTable } from "../output";
import { parseCount } from "../references";
import type { Runner } from "../runner";

interface ManifestSummary {
  hash: string;
  kind: string;
  dataset_count: number;
}

const manifestPath = (hash: string) => `/manifests/${encodeURIComponent(hash)}`;

export function registerManifestCommands(program: Command, run: Runner): void {
  const manifest = program.command("manifest").description("dataset manifests, stored by content hash");

  manifest
    .command("register <file>")
    .description("store a manifest (a JSON file, or - for standard input) without linking it to a dataset; prints its hash")
    .action(run(async ({ client, out }, file: string) => {
      const { hash } = await client.json<{ hash: string }>("POST", "/manifests", { body: await readJsonFile(file) });
      emit(out, { hash }, () => printLine(out, hash));
    }));

  manifest
    .command("list")
    .description("every stored manifest with its kind and how many dataset versions link it")
    .action(run(async ({ client, out }) => {
      const { manifests } = await client.get<{ manifests: ManifestSummary[] }>("/manifests");
      emit(out, manifests, () => printTable(out, ["hash", "kind", "datasets"], manifests.map((m) => [m.hash, m.kind, m.dataset_count])));
    }));

  manifest
    .command("inspect <hash>")
    .description("a stored manifest, as its canonical JSON")
    .action(run(async ({ client, out }, hash: string) => {
      const body = await client.get(manifestPath(hash));
      emit(out, body, () => printLine(out, JSON.stringify(body, null, 2)));
    }));

  manifest
    .command("rm <hash>")
    .description("delete a manifest no dataset links")
    .action(run(async ({ client, out }, hash: string) => {
      await client.json("DELETE", manifestPath(hash));
      emit(out, { hash, deleted: true }, () => printLine(out, `deleted manifest ${hash}`));
    }));

  manifest
    .command("prune")
    .description("delete every manifest no dataset links")
    .action(run(async ({ client, out }) => {
      const result = await client.json<{ deleted_count: number }>("DELETE", "/manifests");
      emit(out, result, () => printLine(out, `deleted ${result.deleted_count} manifest(s)`));
    }));

  manifest
    .command("generate")
    .description("print the evm-rpc manifest of a network with the tables amp-edge extracts (local, no API call)")
    .requiredOption("--network <network>", "the network's name, as providers name it")
    .addOption(new Option("--kind <kind>", "dataset kind").choices(["evm-rpc"]).default("evm-rpc"))
    .option("--start-block <n>", "first block of the dataset", "0")
    .option("--finalized-blocks-only", "extract finalized blocks only")
    .option("-o, --out <file>", "write it to a file instead of standard output")
    .action(run(async ({ out }, options: { network: string; startBlock: string; finalizedBlocksOnly?: boolean; out?: string }) => {
      const json = canonicalManifestJson(
        evmRpcManifest(options.network, { startBlock: parseCount("--start-block", options.startBlock), finalizedBlocksOnly: options.finalizedBlocksOnly === true }),
      );
      if (options.out === undefined) {
        printLine(out, json);
        return;
      }
      try {
        await writeFile(options.out, `${json}\n`);
      } catch (error) {
        throw new CommandFailure(`cannot write ${options.out}: ${error instanceof Error ? error.message : String(error)}`);
      }
      emit(out, { file: options.out }, () => printLine(out, `wrote ${options.out}`));
    }));
}
