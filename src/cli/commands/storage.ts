/** `location list|inspect|files|rm` and `file inspect|download`: where the Parquet files are, and the files themselves. */
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { Command } from "commander";
import { CommandFailure } from "../cli-errors";
import { emit, formatBytes, printFields, printLine, printTable } from "../output";
import { parseCount, parseId } from "../references";
import type { Runner } from "../runner";

interface LocationInfo {
  id: number;
  dataset_namespace: string;
  dataset_name: string;
  table: string;
  url: string;
  active: boolean;
  writer: unknown;
}

interface FileListInfo {
  id: number;
  file_name: string;
  object_size?: number;
}

const pageOptions = (command: Command, cursor: string) =>
  command.option("-l, --limit <n>", "entries per page (1 to 1000)", "50").option("-a, --after <id>", `the page after this ${cursor} (the previous page's next cursor)`);

function pageQuery(options: { limit: string; after?: string }, cursor: string) {
  return { limit: parseCount("--limit", options.limit), [cursor]: options.after === undefined ? undefined : parseId("--after", options.after) };
}

export function registerStorageCommands(program: Command, run: Runner): void {
  const location = program.command("location").description("locations: the R2 prefix of one storage revision of a table");

  pageOptions(location.command("list").description("locations, newest first, one page"), "location id").action(
    run(async ({ client, out }, options: { limit: string; after?: string }) => {
      const page = await client.get<{ locations: LocationInfo[]; next_cursor?: number }>("/locations", pageQuery(options, "last_location_id"));
      emit(out, page, () => {
        printTable(
          out,
          ["id", "dataset", "table", "active", "writer", "url"],
          page.locations.map((l) => [l.id, `${l.dataset_namespace}/${l.dataset_name}`, l.table, l.active, typeof l.writer === "number" ? l.writer : null, l.url]),
        );
        if (page.next_cursor !== undefined) printLine(out, `more: --after ${page.next_cursor}`);
      });
    }),
  );

  location
    .command("inspect <id>")
    .description("one location, with its writer job")
    .action(run(async ({ client, out }, id: string) => {
      const info = await client.get<Record<string, unknown>>(`/locations/${parseId("location id", id)}`);
      emit(out, info, () => printFields(out, info));
    }));

  pageOptions(location.command("files <id>").description("a location's files, newest first, one page"), "file id").action(
    run(async ({ client, out }, id: string, options: { limit: string; after?: string }) => {
      const page = await client.get<{ files: FileListInfo[]; next_cursor?: number }>(`/locations/${parseId("location id", id)}/files`, pageQuery(options, "last_file_id"));
      emit(out, page, () => {
        printTable(out, ["id", "file_name", "size"], page.files.map((f) => [f.id, f.file_name, f.object_size === undefined ? null : formatBytes(f.object_size)]));
        if (page.next_cursor !== undefined) printLine(out, `more: --after ${page.next_cursor}`);
      });
    }),
  );

  location
    .command("rm <id>")
    .description("delete a location: its Parquet objects and its rows")
    .option("--force", "also an active location")
    .action(run(async ({ client, out }, id: string, options: { force?: boolean }) => {
      const locationId = parseId("location id", id);
      await client.json("DELETE", `/locations/${locationId}`, { query: { force: options.force ? "true" : undefined } });
      emit(out, { location_id: locationId, deleted: true }, () => printLine(out, `deleted location ${locationId}`));
    }));

  const file = program.command("file").description("Parquet files");

  file
    .command("inspect <id>")
    .description("one file: its location, size, ETag and nozzle_metadata (block range and hashes)")
    .action(run(async ({ client, out }, id: string) => {
      const info = await client.get<Record<string, unknown>>(`/files/${parseId("file id", id)}`);
      emit(out, info, () => printFields(out, info));
    }));

  file
    .command("download <id>")
    .description("save a file's Parquet bytes (GET /files/{id}/content)")
    .option("-o, --out <path>", "where to write it (default: its file name, in the current directory)")
    .action(run(async ({ client, out }, id: string, options: { out?: string }) => {
      const fileId = parseId("file id", id);
      const info = await client.get<{ file_name: string }>(`/files/${fileId}`);
      const target = options.out ?? info.file_name;
      const response = await client.fetch("GET", `/files/${fileId}/content`);
      if (!response.body) throw new CommandFailure(`file ${fileId} answered no body`);
      // Written next to the target and renamed at the end, so an interrupted download leaves no partial file under its name.
      const partial = `${target}.partial`;
      try {
        await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), createWriteStream(partial));
        await rename(partial, target);
      } catch (error) {
        await rm(partial, { force: true });
        throw new CommandFailure(`cannot write ${target}: ${error instanceof Error ? error.message : String(error)}`);
      }
      const bytes = Number(response.headers.get("content-length") ?? 0);
      emit(out, { file_id: fileId, path: target, bytes }, () => printLine(out, `wrote ${target} (${formatBytes(bytes)})`));
    }));
}
