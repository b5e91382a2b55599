/// <reference path="../../src/sql/squirreling-evaluate.d.ts" />
/**
 * The data source's column tests decide each stored value as squirreling decides the condition on the
 * engine value: every condition, over every value of a column (NULLs, bigints beside number literals,
 * bytes beside hex literals of every case and length), is evaluated both ways.
 */
import { asyncRow, type ExprNode, parseSql, type SelectStatement, type SqlPrimitive } from "squirreling";
import { evaluateExpr } from "squirreling/src/expression/evaluate.js";
import { describe, expect, it } from "vitest";
import type { ParquetValue } from "../../src/parquet";
import { compileScanFilter } from "../../src/sql/scan-filter";
import { toEngine } from "../../src/sql/sql-values";

const FIELDS = [
  { name: "address", type: { FixedSizeBinary: 20 } as const, nullable: true },
  { name: "log_index", type: "UInt32" as const, nullable: false },
  { name: "block_num", type: "UInt64" as const, nullable: false },
  { name: "topic3", type: { FixedSizeBinary: 32 } as const, nullable: true },
];
const columns = {
  converters: new Map(FIELDS.map((f) => [f.name, toEngine(f)])),
  binary: new Set(["address", "topic3"]),
};

const a = Uint8Array.from({ length: 20 }, (_, i) => i + 0xa0);
const b = Uint8Array.from({ length: 20 }, (_, i) => 0xff - i);
const hexOf = (bytes: Uint8Array) => `0x${Buffer.from(bytes).toString("hex")}`;
const ROWS: Record<string, ParquetValue>[] = [
  { address: a, log_index: 0, block_num: 7n, topic3: null },
  { address: b, log_index: 3, block_num: 8n, topic3: new Uint8Array(32) },
  { address: null, log_index: 9, block_num: 9_007_199_254_740_993n, topic3: null },
  { address: a.slice(0, 19), log_index: 2, block_num: 0n, topic3: new Uint8Array(32).fill(1) },
];

function where(condition: string): ExprNode {
  const statement = parseSql({ query: `SELECT * FROM t WHERE ${condition}` }) as SelectStatement;
  return statement.where!;
}

async function engineDecides(node: ExprNode, row: Record<string, ParquetValue>): Promise<boolean> {
  const engine: Record<string, SqlPrimitive> = {};
  for (const f of FIELDS) engine[f.name] = columns.converters.get(f.name)!(row[f.name] ?? null);
  const value = await evaluateExpr({ node, row: asyncRow(engine, Object.keys(engine)), context: { tables: {} } });
  return Boolean(value);
}

async function sourceDecides(node: ExprNode, row: Record<string, ParquetValue>): Promise<boolean> {
  const filter = compileScanFilter(node, columns);
  if (!filter.tests.every(({ column, test }) => test(row[column] ?? null))) return false;
  return filter.residual === undefined || engineDecides(filter.residual, row);
}

const CONDITIONS = [
  `address = '${hexOf(a)}'`,
  `'${hexOf(a)}' = address`,
  `address != '${hexOf(a)}'`,
  `address <> '${hexOf(b)}'`,
  `address = '${hexOf(a).toUpperCase().replace("0X", "0x")}'`,
  `address = '${hexOf(a.slice(0, 19))}'`,
  `address < '${hexOf(b)}'`,
  "address IS NULL",
  "address IS NOT NULL",
  "topic3 IS NULL",
  "log_index = 3",
  "log_index >= 3",
  "3 < log_index",
  "log_index IN (0, 9)",
  "block_num = 8",
  "block_num > 9007199254740992",
  "block_num <= 8 AND log_index != 0",
  "log_index = NULL",
  `address = '${hexOf(a)}' OR log_index = 9`,
  `address = '${hexOf(b)}' AND (log_index = 3 OR block_num = 0)`,
  "log_index + 1 = 4",
];

describe("a scan's column tests", () => {
  for (const condition of CONDITIONS) {
    it(`decide ${condition.slice(0, 80)} as the engine does`, async () => {
      const node = where(condition);
      for (const row of ROWS) expect(await sourceDecides(node, row)).toBe(await engineDecides(node, row));
    });
  }

  it("take every conjunct of one column and a literal, and leave the rest to the engine", () => {
    const filter = compileScanFilter(where(`address = '${hexOf(a)}' AND log_index >= 3 AND (log_index = 1 OR block_num = 2) AND topic3 IS NULL`), columns);
    expect(filter.tests.map((t) => t.column)).toEqual(["address", "log_index", "topic3"]);
    expect(filter.residual?.type).toBe("binary");
    expect(compileScanFilter(where("nope = 1"), columns).tests).toEqual([]);
    expect(compileScanFilter(undefined, columns)).toEqual({ tests: [], residual: undefined });
  });
});
