import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fileFields } from "../../src/domain/dataset-kinds/evm-rpc";
import {
  BufferSink,
  ParquetStreamWriter,
  rangeSource,
  readParquetColumns,
  readParquetFooter,
  readParquetRows,
} from "../../src/parquet";
import { columnsOf, syntheticEvmRows } from "../support/evm-rows";
import { REFERENCE_PARQUET_DIR, referenceFileFields } from "../support/reference-parquet";

/** The original's files for block 15,000,000 (../shared beside the checkout; absent in a user's clone). */

async function logsFile(blockCount = 40): Promise<{ bytes: Uint8Array; rows: ReturnType<typeof syntheticEvmRows>["logs"] }> {
  const rows = syntheticEvmRows({ startBlock: 500, blockCount, transactionsPerBlock: 10, logsPerTransaction: 2, seed: 21 }).logs;
  const sink = new BufferSink();
  const writer = new ParquetStreamWriter({ fields: fileFields("logs"), sink });
  for (let i = 0; i < rows.length; i += 250) await writer.writeRowGroup(columnsOf("logs", rows.slice(i, i + 250)));
  await writer.finish({ nozzle_metadata: '{"table":"logs"}', parent_file_ids: "[]", generation: "0" });
  return { bytes: sink.bytes(), rows };
}

describe("reading", () => {
  it("reads the footer through ranged reads, touching only the end of a large file", async () => {
    const { bytes } = await logsFile(300);
    const reads: [number, number][] = [];
    const source = rangeSource(bytes.length, async (offset, length) => {
      reads.push([offset, length]);
      return bytes.slice(offset, offset + length).buffer;
    });
    const footer = await readParquetFooter(source);
    expect(footer.keyValueMetadata).toEqual({
      "ARROW:schema": expect.any(String),
      nozzle_metadata: '{"table":"logs"}',
      parent_file_ids: "[]",
      generation: "0",
    });
    expect(footer.arrowFields).toEqual(fileFields("logs"));
    expect(footer.schema.map((element) => element.name)).toEqual(["arrow_schema", ...fileFields("logs").map((f) => f.name)]);
    expect(reads.length).toBeLessThanOrEqual(2);
    const fetched = reads.reduce((total, [, length]) => total + length, 0);
    expect(fetched).toBeLessThan(bytes.length / 2); // the data pages were never fetched
  });

  it("reads rows and columns, a subset of columns and a row range, from bytes or a view into a larger buffer", async () => {
    const { bytes, rows } = await logsFile();
    const padded = new Uint8Array(bytes.length + 20);
    padded.set(bytes, 10);
    const view = padded.subarray(10, 10 + bytes.length);
    expect(await readParquetRows(view)).toEqual(rows);

    const footer = await readParquetFooter(bytes);
    const slice = await readParquetRows(bytes.buffer as ArrayBuffer, { footer, columns: ["log_index", "topic1"], rowStart: 240, rowEnd: 260 });
    expect(slice).toEqual(rows.slice(240, 260).map((row) => ({ log_index: row.log_index, topic1: row.topic1 })));

    const columns = await readParquetColumns(bytes, { columns: ["block_num", "data"] });
    expect(columns.block_num).toEqual(rows.map((row) => row.block_num));
    expect(columns.data).toEqual(rows.map((row) => row.data));
  });
});

describe.skipIf(!existsSync(REFERENCE_PARQUET_DIR))("reading the original's files", () => {
  const file = (table: string) => path.join(REFERENCE_PARQUET_DIR, `${table}.parquet`);

  it("reads the reference footers: row counts, nozzle_metadata and Arrow fields", async () => {
    const expected = { blocks: 1, transactions: 348, logs: 719 };
    for (const [table, rows] of Object.entries(expected)) {
      const footer = await readParquetFooter(readFileSync(file(table)));
      expect(footer.rowCount, table).toBe(rows);
      expect(footer.createdBy).toMatch(/^parquet-rs/);
      const meta = JSON.parse(footer.keyValueMetadata.nozzle_metadata ?? "null");
      expect(meta).toMatchObject({ table, ranges: [{ numbers: { start: 15_000_000, end: 15_000_000 }, network: "mainnet" }] });
      expect(footer.arrowFields?.map((field) => field.name)).toEqual(referenceFileFields(table as "blocks").map((field) => field.name));
    }
  });

  it("refuses the rows of a zstd file with hyparquet's clear error (the writer never produces one)", async () => {
    await expect(readParquetRows(readFileSync(file("blocks")))).rejects.toThrow(/unsupported compression codec: ZSTD/);
  });
});
