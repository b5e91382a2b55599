#!/usr/bin/env node
// `duckdb -c <sql>` for machines without DuckDB's CLI: runs the SQL with the DuckDB npm package (a dev
// dependency) in the current directory and prints each row as JSON, so the README's walkthrough test can run the
// README's duckdb line as written.
import { DuckDBInstance } from "@duckdb/node-api";

const at = process.argv.indexOf("-c");
if (at < 0 || !process.argv[at + 1]) {
  console.error("usage: duckdb-cli.mjs -c <sql>");
  process.exit(2);
}
const instance = await DuckDBInstance.create(":memory:");
const connection = await instance.connect();
const reader = await connection.runAndReadAll(process.argv[at + 1]);
for (const row of reader.getRowObjectsJson()) console.log(JSON.stringify(row));
connection.closeSync();
instance.closeSync();
