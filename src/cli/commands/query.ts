/** `query`: SQL over the registered datasets' tables through `POST /query`, as a table or as the API's JSON Lines. */
import type { Command } from "commander";
import { UsageError } from "../cli-errors";
import { readTextFile } from "../local-files";
import { type Cell, printTable } from "../output";
import { parseId } from "../references";
import type { Runner } from "../runner";

interface QueryOptions {
  file?: string;
  strings?: boolean;
  maxRows?: string;
  maxBytes?: string;
}

/** The columns in the order they first appear: the API leaves NULL columns out of a row, so rows differ in keys. */
function columnsOf(rows: readonly Record<string, unknown>[]): string[] {
  const columns = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) columns.add(key);
  return [...columns];
}

function cellOf(value: unknown): Cell {
  if (value === null || value === undefined || typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  return JSON.stringify(value);
}

export function registerQueryCommand(program: Command, run: Runner): void {
  program
    .command("query [sql]")
    .description("run SQL over the datasets' tables (e.g. 'SELECT count(*) FROM \"_/anvil@1.0.0\".logs'); --json prints the API's JSON Lines")
    .option("-f, --file <path>", "read the SQL from a file, or '-' for standard input")
    .option("--strings", "64-bit integers beyond ±2^53 and decimals as strings (?strings=true)")
    .option("--max-rows <n>", "fail rather than return more rows than this")
    .option("--max-bytes <n>", "fail rather than read more Parquet bytes than this")
    .action(run(async ({ client, out }, sql: string | undefined, options: QueryOptions) => {
      if ((sql === undefined) === (options.file === undefined)) throw new UsageError("give the SQL either as an argument or with --file, not both");
      const text = sql ?? (await readTextFile(options.file!));
      const response = await client.fetch("POST", "/query", {
        text,
        query: {
          strings: options.strings ? "true" : undefined,
          max_rows: options.maxRows === undefined ? undefined : parseId("--max-rows", options.maxRows),
          max_bytes: options.maxBytes === undefined ? undefined : parseId("--max-bytes", options.maxBytes),
        },
      });
      const body = await response.text();
      if (out.json) {
        out.stdout.write(body);
        return;
      }
      const rows = body
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const columns = columnsOf(rows);
      printTable(out, columns, rows.map((row) => columns.map((column) => cellOf(row[column]))));
    }));
}
