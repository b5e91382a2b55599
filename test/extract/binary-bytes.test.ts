import { describe, expect, it } from "vitest";
import type { ArrowField } from "../../src/domain/arrow";
import { type EvmRpcTableName, fileFields } from "../../src/domain/dataset-kinds/evm-rpc";
import { binaryBytesOf } from "../../src/extract/binary-bytes";
import type { ColumnValue, TableColumns } from "../../src/extract/block-source";
import { syntheticEvmRows } from "../support/evm-rows";

/** The plain count: every value of every column that holds bytes. */
function everyValue(columns: TableColumns, from: number, to: number): number {
  let bytes = 0;
  for (const values of Object.values(columns)) {
    for (let i = from; i < to; i++) if (values[i] instanceof Uint8Array) bytes += (values[i] as Uint8Array).byteLength;
  }
  return bytes;
}

describe("binaryBytesOf", () => {
  const rows = syntheticEvmRows({ startBlock: 1, blockCount: 20, transactionsPerBlock: 6, logsPerTransaction: 3, seed: 11 });

  it.each(["blocks", "transactions", "logs"] as EvmRpcTableName[])("counts the bytes of every binary value of %s rows, whole and in parts", (table) => {
    const fields = fileFields(table);
    const columns = Object.fromEntries(fields.map((field) => [field.name, rows[table].map((row) => row[field.name] ?? null)])) as TableColumns;
    const count = binaryBytesOf(fields);
    const n = rows[table].length;
    for (const [from, to] of [[0, n], [0, 1], [3, Math.min(n, 17)], [n - 1, n], [5, 5]] as const) {
      expect(count(columns, from, to)).toBe(everyValue(columns, from, to));
    }
    expect(count(columns, 0, n)).toBeGreaterThan(0);
  });

  it("counts a nullable fixed-width column's non-null values only, variable widths value by value, and no missing column", () => {
    const fields: ArrowField[] = [
      { name: "hash", type: { FixedSizeBinary: 32 }, nullable: false },
      { name: "to", type: { FixedSizeBinary: 20 }, nullable: true },
      { name: "input", type: "Binary", nullable: false },
      { name: "absent", type: { FixedSizeBinary: 8 }, nullable: false },
      { name: "n", type: "UInt64", nullable: false },
    ];
    const bytes = (size: number) => new Uint8Array(size);
    const columns: Record<string, ColumnValue[]> = {
      hash: [bytes(32), bytes(32), bytes(32)],
      to: [null, bytes(20), null],
      input: [bytes(0), bytes(7), bytes(100)],
      n: [1n, 2n, 3n],
    };
    const count = binaryBytesOf(fields);
    expect(count(columns, 0, 3)).toBe(3 * 32 + 20 + 107);
    expect(count(columns, 2, 3)).toBe(32 + 100);
    expect(count(columns, 1, 1)).toBe(0);
  });
});
