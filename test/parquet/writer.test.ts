import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileFields } from "../../src/domain/dataset-kinds/evm-rpc";
import {
  type ArrowFieldSpec,
  BufferSink,
  ColumnValueError,
  type ColumnValues,
  FixedSizePartSink,
  ParquetStreamWriter,
  ParquetWriteError,
  UnsupportedColumnTypeError,
  readParquetFooter,
  readParquetRows,
} from "../../src/parquet";
import { type DuckDb, openDuckDb, sqlString } from "../support/duckdb";
import { columnsOf, createRandom, syntheticEvmRows } from "../support/evm-rows";

let dir: string;
let duck: DuckDb;
let fileCount = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "amp-parquet-writer-"));
  duck = await openDuckDb();
});

afterAll(async () => {
  duck?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function toFile(bytes: Uint8Array): Promise<string> {
  const file = path.join(dir, `f${fileCount++}.parquet`);
  await writeFile(file, bytes);
  return sqlString(file);
}

async function writeFileWith(fields: ArrowFieldSpec[], groups: ColumnValues[][], options: { compression?: "SNAPPY" | "UNCOMPRESSED" } = {}) {
  const sink = new BufferSink();
  const writer = new ParquetStreamWriter({ fields, sink, ...options });
  for (const group of groups) await writer.writeRowGroup(group);
  const written = await writer.finish({ generation: "0" });
  return { bytes: sink.bytes(), written };
}

const SMALL: ArrowFieldSpec[] = [
  { name: "n", type: "UInt64", nullable: false },
  { name: "i", type: "UInt32", nullable: true },
  { name: "s", type: "Int32", nullable: false },
  { name: "h", type: { FixedSizeBinary: 4 }, nullable: true },
];

describe("writing files", () => {
  it("writes a file with zero rows that both readers open, schema and metadata intact", async () => {
    const sink = new BufferSink();
    const writer = new ParquetStreamWriter({ fields: fileFields("logs"), sink });
    await writer.writeRowGroup(fileFields("logs").map(() => [])); // a group of zero rows adds nothing
    const written = await writer.finish({ nozzle_metadata: "{}", parent_file_ids: "[]", generation: "0" });
    expect(written).toMatchObject({ rows: 0, rowGroups: 0 });
    const bytes = sink.bytes();
    expect(written.bytes).toBe(bytes.length);

    const footer = await readParquetFooter(bytes);
    expect(footer).toMatchObject({ rowCount: 0, rowGroups: [], arrowFields: fileFields("logs") });
    expect(await readParquetRows(bytes)).toEqual([]);
    const file = await toFile(bytes);
    expect(await duck.query(`SELECT count(*)::INT AS n FROM read_parquet(${file})`)).toEqual([{ n: 0 }]);
    const names = await duck.query(`SELECT name FROM parquet_schema(${file})`);
    expect(names.slice(1).map((row) => row.name)).toEqual(fileFields("logs").map((field) => field.name));
  });

  it("takes typed arrays for columns without nulls, including values past 2^63 and 2^31", async () => {
    const u64 = BigUint64Array.of(0n, 2n ** 63n, (1n << 64n) - 1n);
    const u32 = Uint32Array.of(0, 2 ** 31, 2 ** 32 - 1);
    const i32 = Int32Array.of(-(2 ** 31), -1, 2 ** 31 - 1);
    const hashes = [Uint8Array.of(1, 2, 3, 4), Uint8Array.of(0, 0, 0, 0), Uint8Array.of(255, 255, 255, 255)];
    const { bytes } = await writeFileWith(SMALL, [[u64, u32, i32, hashes]]);
    expect(await readParquetRows(bytes)).toEqual([
      { n: 0n, i: 0, s: -(2 ** 31), h: hashes[0] },
      { n: 2n ** 63n, i: 2 ** 31, s: -1, h: hashes[1] },
      { n: (1n << 64n) - 1n, i: 2 ** 32 - 1, s: 2 ** 31 - 1, h: hashes[2] },
    ]);
    const file = await toFile(bytes);
    expect(await duck.query(`SELECT n::VARCHAR AS n, i::VARCHAR AS i, s FROM read_parquet(${file})`)).toEqual([
      { n: "0", i: "0", s: -(2 ** 31) },
      { n: "9223372036854775808", i: "2147483648", s: -1 },
      { n: "18446744073709551615", i: "4294967295", s: 2 ** 31 - 1 },
    ]);
    const stats = await duck.query(`SELECT path_in_schema AS c, stats_min_value AS lo, stats_max_value AS hi FROM parquet_metadata(${file})`);
    expect(stats.slice(0, 3)).toEqual([
      { c: "n", lo: "0", hi: "18446744073709551615" },
      { c: "i", lo: "0", hi: "4294967295" },
      { c: "s", lo: "-2147483648", hi: "2147483647" },
    ]);
  });

  it("takes a row group as an object keyed by column name", async () => {
    const sink = new BufferSink();
    const writer = new ParquetStreamWriter({ fields: SMALL, sink });
    await writer.writeRowGroup({ h: [null], s: [7], i: [null], n: [5n] });
    await writer.finish();
    expect(await readParquetRows(sink.bytes())).toEqual([{ n: 5n, i: null, s: 7, h: null }]);
    await expect(
      new ParquetStreamWriter({ fields: SMALL, sink }).writeRowGroup({ n: [1n], i: [1], s: [1], h: [null], extra: [1] }),
    ).rejects.toThrow(/unknown columns: extra/);
    await expect(new ParquetStreamWriter({ fields: SMALL, sink }).writeRowGroup({ n: [1n], i: [1], s: [1] })).rejects.toThrow(
      /column h is missing/,
    );
  });

  it("writes Decimal128 of other precisions and timestamps without a time zone", async () => {
    const fields: ArrowFieldSpec[] = [
      { name: "price", type: { Decimal128: [20, 2] }, nullable: true },
      { name: "at", type: { Timestamp: ["Nanosecond", null] }, nullable: false },
    ];
    const limit = 10n ** 20n - 1n;
    const { bytes } = await writeFileWith(fields, [[[12345n, -limit, null, limit], [1n, -1n, 0n, 1_650_000_000_123_456_789n]]]);
    expect((await readParquetRows(bytes)).map((row) => row.price)).toEqual([12345n, -limit, null, limit]);
    const file = await toFile(bytes);
    expect(await duck.query(`SELECT price::VARCHAR AS p FROM read_parquet(${file})`)).toEqual([
      { p: "123.45" },
      { p: "-999999999999999999.99" },
      { p: null },
      { p: "999999999999999999.99" },
    ]);
    const schema = await duck.query(`SELECT type, type_length, logical_type FROM parquet_schema(${file})`);
    expect(schema[1]).toMatchObject({ type: "FIXED_LEN_BYTE_ARRAY", type_length: "9", logical_type: "DecimalType(scale=2, precision=20)" });
    expect(String(schema[2]!.logical_type)).toContain("isAdjustedToUTC=0");
    const stats = await duck.query(`SELECT stats_min_value AS lo, stats_max_value AS hi, stats_null_count AS nulls FROM parquet_metadata(${file})`);
    expect(stats[0]).toEqual({ lo: "-999999999999999999.99", hi: "999999999999999999.99", nulls: "1" });
  });


  it("writes the types derived tables add: Int64 (counts), Float64 (averages) and Decimal256", async () => {
    const fields: ArrowFieldSpec[] = [
      { name: "n", type: "Int64", nullable: false },
      { name: "avg", type: "Float64", nullable: true },
      { name: "big", type: { Decimal256: [76, 0] }, nullable: true },
    ];
    const big = 10n ** 75n + 7n;
    const { bytes } = await writeFileWith(fields, [[[-(1n << 63n), 5n, (1n << 63n) - 1n], [1.5, null, -0.25], [big, -big, null]]]);
    const rows = await readParquetRows(bytes);
    expect(rows.map((row) => [row.n, row.avg, row.big])).toEqual([
      [-(1n << 63n), 1.5, big],
      [5n, null, -big],
      [(1n << 63n) - 1n, -0.25, null],
    ]);
    const file = await toFile(bytes);
    // DuckDB's decimals stop at 38 digits: it reads wider ones as DOUBLE.
    expect(await duck.query(`SELECT n::VARCHAR AS n, avg, big FROM read_parquet(${file})`)).toEqual([
      { n: "-9223372036854775808", avg: 1.5, big: Number(big) },
      { n: "5", avg: null, big: -Number(big) },
      { n: "9223372036854775807", avg: -0.25, big: null },
    ]);
    const stats = await duck.query(`SELECT stats_min_value AS lo, stats_max_value AS hi FROM parquet_metadata(${file}) ORDER BY column_id`);
    expect(stats.slice(0, 2)).toEqual([
      { lo: "-9223372036854775808", hi: "9223372036854775807" },
      { lo: "-0.25", hi: "1.5" },
    ]);
    await expect(writeFileWith([{ name: "f", type: "Float64", nullable: false }], [[[1n as unknown as number]]])).rejects.toThrow(ColumnValueError);
  });
  it("writes Utf8 columns as UTF-8 strings: BYTE_ARRAY annotated STRING, bytewise statistics", async () => {
    const fields: ArrowFieldSpec[] = [
      { name: "version", type: "Utf8", nullable: true },
      { name: "name", type: "Utf8", nullable: false },
    ];
    const { bytes } = await writeFileWith(fields, [[["electra", null, "", "ünïcødé ✓"], ["a", "b", "c", "d"]]]);
    expect((await readParquetRows(bytes)).map((row) => row.version)).toEqual(["electra", null, "", "ünïcødé ✓"]);
    const file = await toFile(bytes);
    expect(await duck.query(`SELECT version, typeof(version) AS t FROM read_parquet(${file})`)).toEqual([
      { version: "electra", t: "VARCHAR" },
      { version: null, t: "VARCHAR" },
      { version: "", t: "VARCHAR" },
      { version: "ünïcødé ✓", t: "VARCHAR" },
    ]);
    const schema = await duck.query(`SELECT type, converted_type, logical_type FROM parquet_schema(${file})`);
    expect(schema[1]).toMatchObject({ type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: "StringType()" });
    const stats = await duck.query(`SELECT stats_min_value AS lo, stats_max_value AS hi, stats_null_count AS nulls FROM parquet_metadata(${file})`);
    expect(stats[0]).toEqual({ lo: "", hi: "ünïcødé ✓", nulls: "1" });
    await expect(new ParquetStreamWriter({ fields, sink: new BufferSink() }).writeRowGroup([["x"], [null]])).rejects.toThrow(
      /column name, row 0: null in a non-nullable column/,
    );
    await expect(new ParquetStreamWriter({ fields, sink: new BufferSink() }).writeRowGroup([[new Uint8Array(1)], ["x"]])).rejects.toThrow(
      /column version, row 0: expected a string/,
    );
  });

  it("writes uncompressed files on request", async () => {
    const rows = syntheticEvmRows({ startBlock: 1, blockCount: 5, transactionsPerBlock: 4, logsPerTransaction: 1, seed: 3 });
    const { bytes } = await writeFileWith(fileFields("transactions"), [columnsOf("transactions", rows.transactions)], {
      compression: "UNCOMPRESSED",
    });
    const file = await toFile(bytes);
    const codecs = await duck.query(`SELECT DISTINCT compression FROM parquet_metadata(${file})`);
    expect(codecs).toEqual([{ compression: "UNCOMPRESSED" }]);
    expect(await readParquetRows(bytes)).toEqual(rows.transactions);
  });
});

describe("streaming", () => {
  it("hands bytes to the sink while row groups are written, not only at finish", async () => {
    const random = createRandom(11);
    const chunks: Uint8Array[] = [];
    const writer = new ParquetStreamWriter({
      fields: [{ name: "blob", type: "Binary", nullable: false }],
      sink: { write: (chunk) => void chunks.push(chunk) },
      flushBytes: 64 * 1024,
    });
    const seen: number[] = [];
    for (let group = 0; group < 4; group++) {
      // 400 kB of random bytes per group: large pages take the incompressible (stored) path
      await writer.writeRowGroup([Array.from({ length: 100 }, () => random.bytes(4000))]);
      seen.push(chunks.length);
    }
    expect(seen[0]).toBeGreaterThan(0);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(new Set(seen).size).toBe(4);
    const written = await writer.finish();
    const bytes = Buffer.concat(chunks);
    expect(bytes.length).toBe(written.bytes);
    expect(await readParquetFooter(bytes)).toMatchObject({ rowCount: 400, rowGroups: [{ rowCount: 100 }, { rowCount: 100 }, { rowCount: 100 }, { rowCount: 100 }] });
    const file = await toFile(bytes);
    expect(await duck.query(`SELECT count(*)::INT AS n, sum(octet_length(blob))::INT AS size FROM read_parquet(${file})`)).toEqual([
      { n: 400, size: 1_600_000 },
    ]);
  });

  it("cuts the stream into equal multipart parts, the last one shorter", async () => {
    const parts: { number: number; bytes: Uint8Array }[] = [];
    const sink = new FixedSizePartSink(40_000, async (number, bytes) => void parts.push({ number, bytes }));
    const writer = new ParquetStreamWriter({ fields: fileFields("transactions"), sink, flushBytes: 10_000 });
    const rows = syntheticEvmRows({ startBlock: 100, blockCount: 30, transactionsPerBlock: 20, logsPerTransaction: 1, seed: 5 });
    for (let i = 0; i < rows.transactions.length; i += 100) {
      await writer.writeRowGroup(columnsOf("transactions", rows.transactions.slice(i, i + 100)));
    }
    const written = await writer.finish();
    expect(await sink.close()).toBe(parts.length);
    expect(await sink.close()).toBe(parts.length);
    expect(parts.length).toBeGreaterThan(2);
    expect(parts.map((part) => part.number)).toEqual(parts.map((_, i) => i + 1));
    for (const part of parts.slice(0, -1)) expect(part.bytes.length).toBe(40_000);
    expect(parts.at(-1)!.bytes.length).toBeLessThanOrEqual(40_000);
    const bytes = Buffer.concat(parts.map((part) => part.bytes));
    expect(bytes.length).toBe(written.bytes);
    expect(await readParquetRows(bytes)).toEqual(rows.transactions);
  });

  it("keeps its buffers bounded across row groups; only the footer metadata grows, by a few kB per group", async () => {
    const writer = new ParquetStreamWriter({ fields: fileFields("blocks"), sink: { write: () => {} } });
    const rows = syntheticEvmRows({ startBlock: 0, blockCount: 200, transactionsPerBlock: 0, logsPerTransaction: 0, seed: 9 });
    const group = columnsOf("blocks", rows.blocks);
    const samples: { buffers: number; footerMetadata: number }[] = [];
    for (let i = 0; i < 300; i++) {
      await writer.writeRowGroup(group);
      samples.push(writer.retainedBytes);
    }
    // Buffers reach their size (scratch for the largest chunk, output up to the flush
    // threshold plus a chunk) within the first groups and then stop growing.
    expect(samples.at(-1)!.buffers).toBe(samples[99]!.buffers);
    expect(samples.at(-1)!.buffers).toBeLessThan(4 * 1024 * 1024);
    const perGroup = samples.at(-1)!.footerMetadata / 300;
    expect(perGroup).toBeLessThan(6000);
    expect(samples.at(-1)!.footerMetadata).toBeCloseTo(samples[149]!.footerMetadata * 2, -4);
  });
});

describe("bad input", () => {
  const fields: ArrowFieldSpec[] = [
    { name: "u64", type: "UInt64", nullable: false },
    { name: "u32", type: "UInt32", nullable: false },
    { name: "i32", type: "Int32", nullable: false },
    { name: "flag", type: "Boolean", nullable: false },
    { name: "hash", type: { FixedSizeBinary: 32 }, nullable: false },
    { name: "data", type: "Binary", nullable: false },
    { name: "amount", type: { Decimal128: [38, 0] }, nullable: false },
    { name: "at", type: { Timestamp: ["Nanosecond", "+00:00"] }, nullable: false },
  ];
  const good = (): ColumnValues[] => [[1n], [1], [1], [true], [new Uint8Array(32)], [new Uint8Array(0)], [1n], [1n]];

  it.each([
    ["u64", 0, 1, /column u64, row 0: expected an unsigned 64-bit bigint, got 1/],
    ["u64", 0, -1n, /got -1n/],
    ["u64", 0, 1n << 64n, /got 18446744073709551616n/],
    ["u64", 0, null, /column u64, row 0: null in a non-nullable column/],
    ["u32", 1, 2 ** 32, /column u32, row 0: expected an integer in \[0, 2\^32\)/],
    ["u32", 1, -1, /expected an integer in \[0, 2\^32\)/],
    ["i32", 2, 2 ** 31, /expected a 32-bit signed integer/],
    ["i32", 2, 1.5, /expected a 32-bit signed integer/],
    ["flag", 3, 1, /expected a boolean/],
    ["hash", 4, new Uint8Array(31), /expected a Uint8Array of 32 bytes, got 31 bytes/],
    ["data", 5, "text", /expected a Uint8Array, got text/],
    ["amount", 6, 10n ** 38n, /expected a bigint of at most 38 digits/],
    ["amount", 6, -(10n ** 38n), /at most 38 digits/],
    ["at", 7, 1n << 63n, /expected a signed 64-bit bigint/],
  ] as const)("rejects %s = %s", async (_name, index, value, message) => {
    const writer = new ParquetStreamWriter({ fields, sink: new BufferSink() });
    const columns = good();
    columns[index] = [value] as unknown as ColumnValues;
    await expect(writer.writeRowGroup(columns)).rejects.toThrow(ColumnValueError);
    await expect(new ParquetStreamWriter({ fields, sink: new BufferSink() }).writeRowGroup(columns)).rejects.toThrow(message);
    // a failed writer refuses to go on rather than finish a half-written file
    await expect(writer.writeRowGroup(good())).rejects.toThrow(/the writer is failed/);
    await expect(writer.finish()).rejects.toThrow(ParquetWriteError);
  });

  it("rejects columns of the wrong count or length", async () => {
    await expect(new ParquetStreamWriter({ fields, sink: new BufferSink() }).writeRowGroup(good().slice(1))).rejects.toThrow(
      /expected 8 columns, got 7/,
    );
    const uneven = good();
    uneven[3] = [true, false];
    await expect(new ParquetStreamWriter({ fields, sink: new BufferSink() }).writeRowGroup(uneven)).rejects.toThrow(
      /column flag has 2 values, expected 1/,
    );
  });

  it("rejects a write while the previous one is pending, and any write after finish", async () => {
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const writer = new ParquetStreamWriter({ fields, sink: { write: () => gate }, flushBytes: 1 });
    const first = writer.writeRowGroup(good());
    await expect(writer.writeRowGroup(good())).rejects.toThrow(/a previous write has not finished/);
    await expect(writer.finish()).rejects.toThrow(/a previous write has not finished/);
    open();
    await first;
    await writer.finish();
    await expect(writer.writeRowGroup(good())).rejects.toThrow(/the writer is finished/);
    await expect(writer.finish()).rejects.toThrow(/the writer is finished/);
  });

  it("refuses a caller-supplied ARROW:schema entry", async () => {
    const writer = new ParquetStreamWriter({ fields, sink: new BufferSink() });
    await expect(writer.finish({ "ARROW:schema": "x" })).rejects.toThrow(/written by the writer itself/);
  });

  it.each([
    [{ name: "x", type: "Float32", nullable: false }],
    [{ name: "x", type: "LargeUtf8", nullable: true }],
    [{ name: "x", type: { Decimal128: [10, 2] }, nullable: false }],
    [{ name: "x", type: { Timestamp: ["Microsecond", "+00:00"] }, nullable: false }],
    [{ name: "x", type: { FixedSizeBinary: 0 }, nullable: false }],
  ] as ArrowFieldSpec[][])("refuses unsupported column type %j at construction", (field) => {
    expect(() => new ParquetStreamWriter({ fields: [field], sink: new BufferSink() })).toThrow(UnsupportedColumnTypeError);
  });

  it("refuses duplicate column names", () => {
    expect(() => new ParquetStreamWriter({ fields: [SMALL[0]!, SMALL[0]!], sink: new BufferSink() })).toThrow(/appears twice/);
  });
});
