import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileFields } from "../../src/domain/dataset-kinds/evm-rpc";
import type { ArrowField } from "../../src/domain/arrow";
import { BufferSink, ParquetStreamWriter, decodeArrowSchema, readParquetFooter, readParquetRows } from "../../src/parquet";
import { type DuckDb, openDuckDb, sqlString } from "../support/duckdb";
import { columnsOf, type Row } from "../support/evm-rows";
import { TABLES, edgeRows, rowGroups } from "./edge-rows";
import { REFERENCE_PARQUET_DIR } from "../support/reference-parquet";

/**
 * Each evm-rpc table written with edge values in several row groups and
 * pages, then read back by hyparquet and by DuckDB (an independent reader
 * that rejects the INTEGER bit-width bug of hyparquet-writer 0.17.0), and
 * compared with the files the original wrote (reference §5.1).
 */

/** The original's files for block 15,000,000 (../shared beside the checkout; absent in a user's clone). */
const hasReference = existsSync(REFERENCE_PARQUET_DIR);

const NOZZLE_METADATA = JSON.stringify({
  table: "blocks",
  filename: "015000000-015000039-9a71a95b.parquet",
  created_at: { secs: 1754431714, nanos: 759816000 },
  ranges: [{ numbers: { start: 15000000, end: 15000039 }, network: "mainnet", hash: "0x9a71", prev_hash: "0x93a8" }],
});
const KEY_VALUES = { nozzle_metadata: NOZZLE_METADATA, parent_file_ids: "[]", generation: "0" };

let dir: string;
let duck: DuckDb;
const rows = edgeRows();
const files: Record<string, { path: string; bytes: Uint8Array; groups: Row[][] }> = {};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "amp-parquet-"));
  duck = await openDuckDb();
  for (const table of TABLES) {
    const sink = new BufferSink();
    // small pages and flushes, so chunks span several pages and the sink gets many pieces
    const writer = new ParquetStreamWriter({ fields: fileFields(table), sink, pageSize: 2048, flushBytes: 4096 });
    const groups = rowGroups(rows[table]);
    for (const group of groups) await writer.writeRowGroup(columnsOf(table, group));
    await writer.finish(KEY_VALUES);
    const bytes = sink.bytes();
    const file = path.join(dir, `${table}.parquet`);
    await writeFile(file, bytes);
    files[table] = { path: file, bytes, groups };
  }
});

afterAll(async () => {
  duck?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function fileOf(table: string): { path: string; bytes: Uint8Array; groups: Row[][] } {
  const file = files[table];
  if (file === undefined) throw new Error(`no file for ${table}`);
  return file;
}

/** How DuckDB is asked to print a column, and the same text computed from a JS value. */
function duckText(field: ArrowField): { sql: string; expected: (value: Row[string]) => string | null } {
  const quoted = `"${field.name}"`;
  if (field.type === "Binary" || (typeof field.type === "object" && "FixedSizeBinary" in field.type)) {
    return { sql: `hex(${quoted})`, expected: (v) => (v === null ? null : Buffer.from(v as Uint8Array).toString("hex").toUpperCase()) };
  }
  if (typeof field.type === "object" && "Timestamp" in field.type) {
    return { sql: `epoch_ns(${quoted})::VARCHAR`, expected: (v) => (v === null ? null : String(v)) };
  }
  return { sql: `${quoted}::VARCHAR`, expected: (v) => (v === null ? null : String(v)) };
}

describe.each(TABLES)("%s file", (table) => {
  const fields = fileFields(table);

  it("reads back with hyparquet: every value, row count and row groups", async () => {
    const { bytes, groups } = fileOf(table);
    const footer = await readParquetFooter(bytes);
    expect(footer.rowCount).toBe(rows[table].length);
    expect(footer.rowGroups.map((group) => group.rowCount)).toEqual(groups.map((group) => group.length));
    expect(await readParquetRows(bytes)).toEqual(rows[table]);
  });

  it("reads back with DuckDB: every value of every column", async () => {
    const { path: file } = fileOf(table);
    const columns = fields.map(duckText);
    const result = await duck.query(
      `SELECT ${columns.map((column, i) => `${column.sql} AS c${i}`).join(", ")}
       FROM read_parquet(${sqlString(file)}, file_row_number = true) ORDER BY file_row_number`,
    );
    expect(result).toHaveLength(rows[table].length);
    rows[table].forEach((row, r) => {
      const expected = Object.fromEntries(fields.map((field, i) => [`c${i}`, columns[i]!.expected(row[field.name] ?? null)]));
      expect(result[r]).toEqual(expected);
    });
  });

  it("has the Parquet types of reference §5.1 in DuckDB's parquet_schema", async () => {
    const schema = await duck.query(
      `SELECT name, type, type_length, repetition_type, converted_type, scale, precision, logical_type
       FROM parquet_schema(${sqlString(fileOf(table).path)})`,
    );
    expect(schema[0]).toMatchObject({ name: "arrow_schema", type: null });
    expect(schema.slice(1).map((column) => column.name)).toEqual(fields.map((field) => field.name));
    for (const [i, field] of fields.entries()) {
      const column = schema[i + 1]!;
      expect(column.repetition_type, field.name).toBe(field.nullable ? "OPTIONAL" : "REQUIRED");
      expect([column.type, column.type_length, column.converted_type, column.scale, column.precision], field.name).toEqual(
        expectedParquetType(field),
      );
    }
  });

  it("carries ARROW:schema, nozzle_metadata, parent_file_ids and generation", async () => {
    const kv = await duck.query(
      `SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata(${sqlString(fileOf(table).path)})`,
    );
    expect(kv.map((entry) => entry.key)).toEqual(["ARROW:schema", "nozzle_metadata", "parent_file_ids", "generation"]);
    expect(kv[1]!.value).toBe(NOZZLE_METADATA);
    expect(JSON.parse(String(kv[1]!.value))).toEqual(JSON.parse(NOZZLE_METADATA));
    expect(kv.slice(2).map((entry) => entry.value)).toEqual(["[]", "0"]);
    expect(decodeArrowSchema(String(kv[0]!.value))).toEqual(fields);
  });

  it("has column statistics that DuckDB reads as the true min, max and null count of each row group", async () => {
    const { path: file, groups } = fileOf(table);
    const stats = await duck.query(
      `SELECT row_group_id, path_in_schema, stats_min_value, stats_max_value, stats_null_count, min_is_exact, max_is_exact, compression
       FROM parquet_metadata(${sqlString(file)}) ORDER BY row_group_id, column_id`,
    );
    expect(stats).toHaveLength(groups.length * fields.length);
    const inexact: string[] = [];
    let firstRow = 0;
    for (const [group, groupRows] of groups.entries()) {
      const lastRow = firstRow + groupRows.length - 1;
      const selects = fields.flatMap((field, i) => [
        `min("${field.name}")::VARCHAR AS min${i}`,
        `max("${field.name}")::VARCHAR AS max${i}`,
        `(count(*) - count("${field.name}"))::VARCHAR AS nulls${i}`,
      ]);
      const [actual] = await duck.query(
        `SELECT ${selects.join(", ")} FROM read_parquet(${sqlString(file)}, file_row_number = true)
         WHERE file_row_number BETWEEN ${firstRow} AND ${lastRow}`,
      );
      for (const [i, field] of fields.entries()) {
        const stat = stats.find((s) => Number(s.row_group_id) === group && s.path_in_schema === field.name)!;
        expect(stat.compression).toBe("SNAPPY");
        expect(String(stat.stats_null_count), field.name).toBe(actual![`nulls${i}`]);
        if (actual![`min${i}`] === null) {
          expect(stat.stats_min_value, field.name).toBeNull();
          continue;
        }
        for (const [bound, exact, value, actualValue, holds] of [
          ["min", stat.min_is_exact, stat.stats_min_value, actual![`min${i}`], "<="],
          ["max", stat.max_is_exact, stat.stats_max_value, actual![`max${i}`], ">="],
        ] as const) {
          if (exact) {
            expect(value, `${field.name} ${bound}`).toBe(actualValue);
            continue;
          }
          // Long binary bounds are truncated to 64 bytes and marked inexact, but still bound the values.
          const [check] = await duck.query(
            `SELECT ${sqlString(String(value))}::BLOB ${holds} ${sqlString(String(actualValue))}::BLOB AS holds,
                    octet_length(${sqlString(String(value))}::BLOB) AS length`,
          );
          expect(check?.holds, `${field.name} ${bound}`).toBe(true);
          expect(Number(check?.length)).toBeLessThanOrEqual(64);
          inexact.push(field.name);
        }
      }
      firstRow = lastRow + 1;
    }
    // blocks.logs_bloom (256 bytes), transactions.input and logs.data (1000 bytes in one row) have long values
    expect(inexact.length).toBeGreaterThan(0);
  });

  it.skipIf(!hasReference)("matches the reference file's Parquet schema column by column", async () => {
    const query = (file: string) =>
      duck.query(
        `SELECT name, type, type_length, repetition_type, converted_type, scale, precision, logical_type
         FROM parquet_schema(${sqlString(file)})`,
      );
    const all = await query(fileOf(table).path);
    const reference = await query(path.join(REFERENCE_PARQUET_DIR, `${table}.parquet`));
    // The reference blocks file predates total_difficulty: it must be difficulty's type, nullable.
    const totalDifficulty = all.find((column) => column.name === "total_difficulty");
    if (table === "blocks") {
      const difficulty = reference.find((column) => column.name === "difficulty");
      expect(totalDifficulty).toEqual({ ...difficulty, name: "total_difficulty", repetition_type: "OPTIONAL" });
    }
    const ours = all.filter((column) => column !== totalDifficulty);
    expect(ours.map((column) => column.name)).toEqual(reference.map((column) => column.name));
    for (const [i, column] of ours.entries()) {
      const expected = { ...reference[i] };
      // The reference transactions file predates `to` becoming nullable (§5.1: "FSB20, NULL").
      if (table === "transactions" && column.name === "to") {
        expect(expected.repetition_type).toBe("REQUIRED");
        expected.repetition_type = "OPTIONAL";
      }
      expect(column, String(column.name)).toEqual(expected);
    }
  });
});

/** [type, type_length, converted_type, scale, precision] as DuckDB's parquet_schema prints them. */
function expectedParquetType(field: ArrowField): unknown[] {
  const type = field.type;
  if (type === "UInt64") return ["INT64", null, "UINT_64", null, null];
  if (type === "UInt32") return ["INT32", null, "UINT_32", null, null];
  if (type === "Int32") return ["INT32", null, null, null, null];
  if (type === "Boolean") return ["BOOLEAN", null, null, null, null];
  if (type === "Binary") return ["BYTE_ARRAY", null, null, null, null];
  if (typeof type === "object" && "FixedSizeBinary" in type) return ["FIXED_LEN_BYTE_ARRAY", String(type.FixedSizeBinary), null, null, null];
  if (typeof type === "object" && "Decimal128" in type) return ["FIXED_LEN_BYTE_ARRAY", "16", "DECIMAL", "0", "38"];
  if (typeof type === "object" && "Timestamp" in type) return ["INT64", null, null, null, null];
  throw new Error(`unexpected type ${JSON.stringify(type)}`);
}
