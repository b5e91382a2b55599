/**
 * `_block_num` of derived rows (src/sql/block-num.ts, derived-datasets.md §2.3), run by the engine over the
 * extracted test chain: each output row's `_block_num` is the block its inputs come from.
 */
import { env } from "cloudflare:test";
import { parseSql } from "squirreling";
import { describe, expect, it } from "vitest";
import { readsHistory } from "../../src/sql/block-num";
import { SqlCatalog } from "../../src/sql/catalog";
import { BLOCK_NUM_FUNCTION } from "../../src/sql/derived-schema";
import { DEFAULT_QUERY_LIMITS } from "../../src/sql/query-budget";
import { SqlInputError } from "../../src/sql/sql-errors";
import { prepareQuery } from "../../src/sql/sql-query";
import { openDb } from "../../src/store/db";
import { TRANSFER_TOPIC, useTransferDataset } from "../support/workerd/sql-fixture";

const data = useTransferDataset();

async function derived(sql: string, blocks?: { start: number; end: number }) {
  const prepared = await prepareQuery(sql, {
    catalog: new SqlCatalog(openDb(env.DB), env.BUCKET),
    bucket: env.BUCKET,
    limits: DEFAULT_QUERY_LIMITS,
    derived: true,
    extraFunctions: { block_num: BLOCK_NUM_FUNCTION },
    ...(blocks ? { blocks } : {}),
  });
  const rows = [];
  for await (const row of prepared.rows()) rows.push(row);
  return { fields: prepared.fields, rows };
}

const blocks = () => data.chain.transfers.map((t) => BigInt(t.block));

describe("_block_num of derived rows", () => {
  it("is a scan's own, first, also through a FROM subquery", async () => {
    const { fields, rows } = await derived(`SELECT tx_hash FROM (SELECT tx_hash FROM eth_rpc.logs WHERE topic0 = ${TRANSFER_TOPIC})`);
    expect(fields.map((f) => [f.name, f.type])).toEqual([["_block_num", "UInt64"], ["tx_hash", { FixedSizeBinary: 32 }]]);
    expect(rows.map((r) => r._block_num).sort()).toEqual(blocks().sort());
  });

  it("keeps a single table's selected _block_num and star, without a second column", async () => {
    const star = await derived(`SELECT * FROM eth_rpc.logs WHERE topic0 = ${TRANSFER_TOPIC}`);
    expect(star.fields.filter((f) => f.name === "_block_num")).toHaveLength(1);
    const own = await derived(`SELECT _block_num, log_index FROM eth_rpc.logs WHERE topic0 = ${TRANSFER_TOPIC}`);
    expect(own.fields.map((f) => f.name)).toEqual(["_block_num", "log_index"]);
  });

  it("is the greater of both sides for a join, and block_num() stands for it", async () => {
    const { rows } = await derived(`SELECT t.tx_hash, block_num() AS b FROM eth_rpc.transactions t JOIN eth_rpc.logs l ON t.tx_hash = l.tx_hash
      WHERE l.topic0 = ${TRANSFER_TOPIC}`);
    expect(rows.map((r) => r._block_num).sort()).toEqual(blocks().sort());
    for (const row of rows) expect(row.b).toBe(row._block_num);
    // Blocks far apart: the greater one.
    const apart = await derived(`SELECT b.block_num FROM eth_rpc.blocks b JOIN eth_rpc.blocks g ON g.block_num = 0 WHERE b.block_num = 3`);
    expect(apart.rows).toEqual([{ _block_num: 3n, block_num: 3n }]);
  });

  it("groups by block_num(), on both sides of UNION ALL and in CTEs", async () => {
    const grouped = await derived(`SELECT block_num() AS b, count(*) AS n FROM eth_rpc.logs WHERE topic0 = ${TRANSFER_TOPIC} GROUP BY block_num()`);
    expect(grouped.rows.map((r) => [r._block_num, r.b, r.n]).sort()).toEqual(blocks().map((b) => [b, b, 1]).sort());
    const union = await derived(`WITH t AS (SELECT log_index FROM eth_rpc.logs WHERE topic0 = ${TRANSFER_TOPIC})
      SELECT log_index FROM t UNION ALL SELECT tx_index AS log_index FROM eth_rpc.transactions WHERE _block_num = ${data.chain.transfers[0]!.block}`);
    expect(union.fields[0]!.name).toBe("_block_num");
    expect(union.rows.every((r) => typeof r._block_num === "bigint")).toBe(true);
  });

  it("reads only a step's blocks", async () => {
    const first = data.chain.transfers[0]!.block;
    const { rows } = await derived(`SELECT log_index FROM eth_rpc.logs WHERE topic0 = ${TRANSFER_TOPIC}`, { start: first, end: first });
    expect(rows.map((r) => r._block_num)).toEqual(data.chain.transfers.filter((t) => t.block === first).map(() => BigInt(first)));
  });

  it("refuses a star or a side's _block_num above a join", async () => {
    for (const sql of [
      "SELECT * FROM eth_rpc.transactions t JOIN eth_rpc.logs l ON t.tx_hash = l.tx_hash",
      "SELECT t._block_num FROM eth_rpc.transactions t JOIN eth_rpc.logs l ON t.tx_hash = l.tx_hash",
    ]) {
      const error = await derived(sql).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SqlInputError);
      expect((error as SqlInputError).message).toMatch(/multi-table context.*block_num\(\)/);
    }
  });
});

describe("readsHistory", () => {
  const parsed = (sql: string) => parseSql({ query: sql });
  it("is true for joins and expression subqueries, false for scans, filters, unions and FROM subqueries", () => {
    expect(readsHistory(parsed("SELECT a FROM t JOIN u ON t.x = u.x"))).toBe(true);
    expect(readsHistory(parsed("SELECT a FROM t WHERE x IN (SELECT x FROM u)"))).toBe(true);
    expect(readsHistory(parsed("SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u)"))).toBe(true);
    expect(readsHistory(parsed("WITH c AS (SELECT a FROM t JOIN u ON t.x = u.x) SELECT a FROM c"))).toBe(true);
    expect(readsHistory(parsed("SELECT a FROM t WHERE x > 1"))).toBe(false);
    expect(readsHistory(parsed("SELECT a FROM (SELECT a FROM t) s UNION ALL SELECT a FROM u"))).toBe(false);
  });
});
