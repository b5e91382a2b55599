import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";

/**
 * DuckDB as an independent Parquet reader for tests. Rows come back as JSON
 * values (bigints and decimals as strings, blobs as DuckDB's escaped text),
 * so queries usually cast what they compare to VARCHAR themselves.
 */
export type DuckRow = Record<string, unknown>;

export interface DuckDb {
  query(sql: string): Promise<DuckRow[]>;
  close(): void;
}

export async function openDuckDb(): Promise<DuckDb> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  // timestamps in statistics and casts print in UTC whatever the host says
  await connection.run("SET TimeZone = 'UTC'");
  return {
    async query(sql) {
      const reader = await connection.runAndReadAll(sql);
      return reader.getRowObjectsJson() as DuckRow[];
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** A path as a SQL string literal. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Runs `sql` over one Parquet file given as bytes; `{file}` in the query stands for it. */
export async function queryParquet(bytes: Uint8Array, sql: string): Promise<DuckRow[]> {
  const dir = await mkdtemp(path.join(tmpdir(), "amp-duckdb-"));
  const duck = await openDuckDb();
  try {
    const file = path.join(dir, "file.parquet");
    await writeFile(file, bytes);
    return await duck.query(sql.replaceAll("{file}", sqlString(file)));
  } finally {
    duck.close();
    await rm(dir, { recursive: true, force: true });
  }
}
