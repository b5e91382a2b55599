import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { fileFields } from "../../src/domain/dataset-kinds/evm-rpc";
import type { TableColumns } from "../../src/extract/block-source";
import { TableFile } from "../../src/extract/table-file";
import { readParquetFooter, readParquetRows } from "../../src/parquet";
import { fileObjectKey } from "../../src/store/r2-layout";
import { syntheticEvmRows } from "../support/evm-rows";

const FIELDS = fileFields("logs");

/** Rows as the evm-rpc source hands them over: one array per column. */
function columnsFrom(rows: readonly Record<string, unknown>[]): TableColumns {
  return Object.fromEntries(FIELDS.map((field) => [field.name, rows.map((row) => row[field.name])])) as TableColumns;
}

function tableFile(path: string, start: number): TableFile {
  return new TableFile({
    location: { table: "logs", locationId: 1, path },
    fields: FIELDS,
    network: "anvil",
    bucket: env.BUCKET,
    start,
    prevHash: null,
    predictEnd: () => Promise.reject(new Error("a small file needs no prediction")),
  });
}

describe("TableFile", () => {
  it("writes the rows of whole chunks and of parts of chunks in the order they were appended", async () => {
    const rows = syntheticEvmRows({ startBlock: 100, blockCount: 12, transactionsPerBlock: 3, logsPerTransaction: 2, seed: 7 }).logs;
    expect(rows.length).toBeGreaterThan(40);
    const [a, b, c] = [rows.slice(0, 20), rows.slice(20, 40), rows.slice(40)];
    const file = tableFile("table-file-test/chunks/logs/", 100);
    const last = (chunk: typeof rows) => ({ number: Number(chunk.at(-1)!._block_num), hash: "0x" + "ab".repeat(32) });
    // A part of a chunk first (rows 5..15 of a), then a whole chunk, then the two ends of another (rows 0..10, 10..30 of b).
    await file.append(columnsFrom(a), 5, 15, last(a.slice(0, 15)));
    await file.append(columnsFrom(c), 0, c.length, last(c));
    const bColumns = columnsFrom(b);
    await file.append(bColumns, 0, 10, last(b.slice(0, 10)));
    await file.append(bColumns, 10, b.length, last(b));
    // Nothing for an empty range.
    await file.append(columnsFrom(a), 3, 3, last(b));
    const written = await file.close();

    const expected = [...a.slice(5, 15), ...c, ...b];
    expect(written.rows).toBe(expected.length);
    const object = await env.BUCKET.get(fileObjectKey("table-file-test/chunks/logs/", written.fileName));
    const bytes = await object!.arrayBuffer();
    expect((await readParquetFooter(bytes)).rowCount).toBe(expected.length);
    expect(await readParquetRows(bytes)).toEqual(expected);
    // The chunks' arrays are the caller's: joining them for the row group left them as they were.
    expect(bColumns._block_num).toHaveLength(b.length);
  });

  it("adopts a single whole chunk as the row group", async () => {
    const rows = syntheticEvmRows({ startBlock: 1, blockCount: 3, transactionsPerBlock: 2, logsPerTransaction: 1, seed: 8 }).logs;
    const file = tableFile("table-file-test/single/logs/", 1);
    await file.append(columnsFrom(rows), 0, rows.length, { number: 3, hash: "0x" + "cd".repeat(32) });
    const written = await file.close();
    const object = await env.BUCKET.get(fileObjectKey("table-file-test/single/logs/", written.fileName));
    expect(await readParquetRows(await object!.arrayBuffer())).toEqual(rows);
  });
});
