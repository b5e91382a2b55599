import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SqlCatalog } from "../../src/sql/catalog";
import { DEFAULT_QUERY_LIMITS } from "../../src/sql/query-budget";
import { prepareQuery } from "../../src/sql/sql-query";
import { openDb } from "../../src/store/db";
import { TRANSFER_TOPIC, useTransferDataset } from "../support/workerd/sql-fixture";

const data = useTransferDataset();
const TRANSFER = "'Transfer(address indexed from, address indexed to, uint256 value)'";

async function query(sql: string, limits = DEFAULT_QUERY_LIMITS) {
  const prepared = await prepareQuery(sql, { catalog: new SqlCatalog(openDb(env.DB), env.BUCKET), bucket: env.BUCKET, limits });
  const rows = [];
  for await (const row of prepared.rows()) rows.push(row);
  return { fields: prepared.fields, rows, prepared };
}

describe("SQL over extracted files", () => {
  it("decodes ERC-20 transfers into what the test sent, uint256 to the last digit", async () => {
    const { rows, fields } = await query(`
      SELECT block_num, tx_hash, evm_decode_log(topic1, topic2, topic3, data, ${TRANSFER}) AS decoded
      FROM eth_rpc.logs WHERE topic0 = ${TRANSFER_TOPIC} ORDER BY block_num`);
    const sent = data.chain.transfers;
    expect(rows.map((r) => r.decoded)).toEqual(sent.map((t) => ({ from: t.from, to: t.to, value: t.value.toString() })));
    expect(rows.map((r) => r.tx_hash)).toEqual(sent.map((t) => t.txHash));
    expect(rows.map((r) => r.block_num)).toEqual(sent.map((t) => BigInt(t.block)));
    expect(fields.map((f) => f.name)).toEqual(["block_num", "tx_hash", "decoded"]);
  });

  it("filters with evm_topic, reads struct fields of a subquery and shifts units", async () => {
    const { rows } = await query(`
      SELECT evm_decode_hex(address) AS token, shift_units(decoded.value, -18) AS amount
      FROM (SELECT address, evm_decode_log(topic1, topic2, topic3, data, ${TRANSFER}) AS decoded
            FROM eth_rpc.logs WHERE topic0 = evm_topic(${TRANSFER}))`);
    expect(rows).toContainEqual({ token: data.chain.token, amount: "1" });
    expect(rows).toContainEqual({ token: data.chain.token, amount: "0.000000000000000001" });
    expect(rows).toHaveLength(data.chain.transfers.length);
  });

  it("gives the engine's columns and rows through the projection memo, unaliased struct fields named as inferred", async () => {
    const sql = `SELECT tx_hash, decoded."from", decoded.value, decoded."to" AS recipient
      FROM (SELECT tx_hash, evm_decode_log(topic1, topic2, topic3, data, ${TRANSFER}) AS decoded FROM eth_rpc.logs WHERE topic0 = ${TRANSFER_TOPIC})`;
    const options = { catalog: new SqlCatalog(openDb(env.DB), env.BUCKET), bucket: env.BUCKET, limits: DEFAULT_QUERY_LIMITS };
    const run = async (memoize: boolean) => {
      const prepared = await prepareQuery(sql, { ...options, memoize });
      const rows = [];
      for await (const row of prepared.rows()) rows.push(row);
      return { fields: prepared.fields, rows };
    };
    const memo = await run(true);
    expect(memo).toEqual(await run(false));
    expect(memo.fields.map((f) => f.name)).toEqual(["tx_hash", "struct_field_decoded_from", "struct_field_decoded_value", "recipient"]);
    expect(memo.rows).toEqual(data.chain.transfers.map((t) => ({ tx_hash: t.txHash, struct_field_decoded_from: t.from, struct_field_decoded_value: t.value.toString(), recipient: t.to })));
  });

  it("joins transactions and logs, the sender of each transfer being its transaction's from", async () => {
    const { rows } = await query(`
      SELECT t.tx_hash, t."from" AS sender, l.log_index FROM eth_rpc.transactions t
      JOIN eth_rpc.logs l ON t.tx_hash = l.tx_hash WHERE l.address = ${data.chain.token}`);
    expect(rows).toHaveLength(data.chain.transfers.length);
    for (const row of rows) expect(row.sender).toBe(data.chain.sender);
    expect(new Set(rows.map((r) => r.tx_hash))).toEqual(new Set(data.chain.transfers.map((t) => t.txHash)));
  });

  it("counts logs per block with GROUP BY and reads quoted full references and mixed-case identifiers", async () => {
    const { rows } = await query(`SELECT Block_Num, COUNT(*) AS n FROM "_/eth_rpc@1.0.0".Logs GROUP BY block_num ORDER BY block_num`);
    expect(rows).toEqual(data.chain.transfers.map((t) => ({ block_num: BigInt(t.block), n: 1 })));
    const latest = await query(`SELECT COUNT(*) AS n FROM "_/eth_rpc".blocks`);
    expect(latest.rows).toEqual([{ n: data.chain.head + 1 }]);
  });

  it("prunes row groups by _block_num and by column statistics before reading them", async () => {
    const all = await query("SELECT block_num FROM eth_rpc.blocks WHERE _block_num >= 0");
    const one = await query("SELECT block_num FROM eth_rpc.blocks WHERE _block_num = 1");
    expect(one.rows).toEqual([{ block_num: 1n }]);
    expect(all.rows).toHaveLength(data.chain.head + 1);
    expect(one.prepared.plannedBytes).toBeLessThan(all.prepared.plannedBytes);
    expect(one.prepared.budget.scannedRows).toBeLessThan(all.prepared.budget.scannedRows);
    const none = await query("SELECT block_num FROM eth_rpc.logs WHERE address = 0x00000000000000000000000000000000000000ff");
    expect(none.rows).toEqual([]);
    expect(none.prepared.plannedBytes).toBe(0);
  });

  it("reads a row group's other columns only when a row passes the WHERE's column tests, and folds constant calls first", async () => {
    const none = await query("SELECT data, tx_hash FROM eth_rpc.logs WHERE address IS NULL");
    const all = await query("SELECT data, tx_hash FROM eth_rpc.logs WHERE address IS NOT NULL");
    expect(none.rows).toEqual([]);
    expect(all.rows).toHaveLength(data.chain.transfers.length);
    expect(none.prepared.plannedBytes).toBe(all.prepared.plannedBytes);
    expect(none.prepared.budget.bytes).toBeLessThan(all.prepared.budget.bytes);
    // evm_topic folded to its literal is a column test: the same rows as the literal itself, whatever the case of the call.
    const folded = await query(`SELECT tx_hash FROM eth_rpc.logs WHERE topic0 = EVM_TOPIC(${TRANSFER}) AND log_index >= 0`);
    const literal = await query(`SELECT tx_hash FROM eth_rpc.logs WHERE topic0 = ${TRANSFER_TOPIC} AND log_index >= 0`);
    expect(folded.rows).toEqual(literal.rows);
    expect(folded.rows).toHaveLength(data.chain.transfers.length);
  });

  it("refuses what it cannot resolve, each with its code", async () => {
    const refused = async (sql: string) => query(sql).then(() => "ran", (e: { code: string }) => e.code);
    expect(await refused("SELECT * FROM logs")).toBe("UNQUALIFIED_TABLE");
    expect(await refused("SELECT * FROM a.eth_rpc.logs")).toBe("CATALOG_QUALIFIED_TABLE");
    expect(await refused("SELECT * FROM nope.logs")).toBe("DATASET_NOT_FOUND");
    expect(await refused("SELECT * FROM eth_rpc.nope")).toBe("TABLE_NOT_FOUND");
    expect(await refused("SELECT FROM WHERE")).toBe("SQL_PARSE_ERROR");
    expect(await refused("SELECT nope FROM eth_rpc.logs")).toBe("INVALID_PLAN");
    expect(await refused("SELECT eth_rpc.nope(1) FROM eth_rpc.logs")).toBe("FUNCTION_NOT_FOUND");
    expect(await refused("SELECT evm_topic(data) FROM eth_rpc.logs")).toBe("INVALID_PLAN");
    expect(await refused("SELECT * FROM eth_rpc.logs")).toBe("ran");
  });

  it("stops at its limits: bytes before reading, rows while running", async () => {
    const refused = async (sql: string, limits: Partial<typeof DEFAULT_QUERY_LIMITS>) =>
      query(sql, { ...DEFAULT_QUERY_LIMITS, ...limits }).then(() => "ran", (e: { code: string; limit: string }) => `${e.code} ${e.limit}`);
    expect(await refused("SELECT * FROM eth_rpc.blocks", { maxBytes: 100 })).toBe("QUERY_LIMIT_EXCEEDED maxBytes");
    expect(await refused("SELECT * FROM eth_rpc.blocks", { maxOutputRows: 3 })).toBe("QUERY_LIMIT_EXCEEDED maxOutputRows");
    expect(await refused("SELECT count(*) FROM eth_rpc.blocks", { maxScannedRows: 3 })).toBe("QUERY_LIMIT_EXCEEDED maxScannedRows");
    expect(await refused("SELECT * FROM eth_rpc.blocks LIMIT 3", { maxOutputRows: 3 })).toBe("ran");
  });
});
