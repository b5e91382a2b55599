/** POST /query: JSON Lines with the original's encodings, its errors and limits, and who may call it. */
import { describe, expect, it } from "vitest";
import { TRANSFER_TOPIC, useTransferDataset } from "../support/workerd/sql-fixture";
import { api, expectError, READ, withoutToken } from "./api-client";

const data = useTransferDataset();

function post(sql: string, query = "", headers: Record<string, string> = {}) {
  return api(`/query${query}`, { method: "POST", headers: { "content-type": "text/plain", ...headers }, body: sql });
}

async function lines(res: Response): Promise<string[]> {
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/x-ndjson");
  const text = await res.text();
  return text === "" ? [] : text.trimEnd().split("\n");
}

describe("POST /query", () => {
  it("answers JSON Lines: binary as hex without 0x, uint256 as a decimal string, NULL columns left out", async () => {
    const res = await post(`SELECT _block_num, address, topic3, evm_decode_log(topic1, topic2, topic3, data,
      'Transfer(address indexed from, address indexed to, uint256 value)') AS decoded
      FROM eth_rpc.logs WHERE topic0 = ${TRANSFER_TOPIC} ORDER BY _block_num`);
    const rows = (await lines(res)).map((line) => JSON.parse(line) as Record<string, unknown>);
    const sent = data.chain.transfers;
    expect(rows).toEqual(
      sent.map((t) => ({
        _block_num: t.block,
        address: data.chain.token.slice(2),
        decoded: { from: t.from.slice(2), to: t.to.slice(2), value: t.value.toString() },
      })),
    );
  });

  it("takes JSON {sql}, renders UInt64 and decimals exactly, and as strings on request", async () => {
    const sql = "SELECT block_num, difficulty, gas_limit FROM eth_rpc.blocks WHERE block_num = 1";
    const res = await api("/query", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ sql }) });
    const [line] = await lines(res);
    expect(line).toMatch(/^\{"block_num":1,"difficulty":\d+,"gas_limit":\d+\}$/);
    const big = await post("SELECT CAST(12345678901234567890 AS BIGINT) AS x FROM eth_rpc.blocks WHERE block_num = 1");
    expect(big.status).toBe(200);
    const asStrings = await post("SELECT block_num, difficulty FROM eth_rpc.blocks WHERE block_num = 1", "?strings=true");
    expect(JSON.parse((await lines(asStrings))[0]!)).toEqual({ block_num: 1, difficulty: expect.any(String) });
  });

  it("joins and groups, and answers an empty result with an empty body", async () => {
    const joined = await post(`SELECT t.tx_hash, l.log_index FROM eth_rpc.transactions t JOIN eth_rpc.logs l ON t.tx_hash = l.tx_hash`);
    expect(await lines(joined)).toHaveLength(data.chain.transfers.length);
    const grouped = await post("SELECT block_num, count(*) AS n FROM eth_rpc.logs GROUP BY block_num ORDER BY block_num LIMIT 2");
    expect((await lines(grouped)).map((l) => JSON.parse(l))).toEqual(data.chain.transfers.slice(0, 2).map((t) => ({ block_num: t.block, n: 1 })));
    expect(await lines(await post("SELECT * FROM eth_rpc.logs WHERE block_num > 100000"))).toEqual([]);
  });

  it("answers errors as ErrorResponse JSON with their codes", async () => {
    await expectError(await post(""), 400, "INVALID_SQL_STRING");
    await expectError(await post("SELEC 1"), 400, "SQL_PARSE_ERROR");
    await expectError(await post("SELECT * FROM blocks"), 400, "TABLE_REFERENCE_RESOLUTION");
    await expectError(await post("SELECT * FROM c.eth_rpc.blocks"), 400, "CATALOG_QUALIFIED_TABLE");
    await expectError(await post("SELECT nope FROM eth_rpc.blocks"), 400, "INVALID_PLAN");
    await expectError(await post("SELECT * FROM missing.blocks"), 404, "DATASET_NOT_FOUND");
    await expectError(await post("SELECT * FROM eth_rpc.nope"), 404, "TABLE_NOT_FOUND");
    await expectError(await post("SELECT eth_rpc.eth_call(NULL, address, data, 'latest') AS c FROM eth_rpc.logs"), 400, "FUNCTION_REFERENCE_RESOLUTION");
    await expectError(await post("SELECT evm_encode_type(topic0, 'uint256') AS x FROM eth_rpc.logs"), 400, "QUERY_ERROR");
    const badJson = await api("/query", { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    await expectError(badJson, 400, "INVALID_SQL_STRING");
    await expectError(await post("SELECT 1", "?max_rows=0"), 400, "INVALID_QUERY_PARAMETERS");
  });

  it("refuses a query past its limits with 413, before output where it can", async () => {
    const bytes = await expectError(await post("SELECT * FROM eth_rpc.blocks", "?max_bytes=1000"), 413, "QUERY_LIMIT_EXCEEDED");
    expect(bytes.error_message).toContain("1000");
    await expectError(await post("SELECT * FROM eth_rpc.blocks", "?max_rows=2"), 413, "QUERY_LIMIT_EXCEEDED");
    await expectError(await post("SELECT count(*) AS n FROM eth_rpc.blocks", "?max_scanned_rows=2"), 413, "QUERY_LIMIT_EXCEEDED");
    expect(await lines(await post("SELECT block_num FROM eth_rpc.blocks LIMIT 2", "?max_rows=2"))).toHaveLength(2);
  });

  it("is open to the read token, closed without one", async () => {
    expect(await lines(await post("SELECT block_num FROM eth_rpc.blocks LIMIT 1", "", READ))).toHaveLength(1);
    await expectError(await withoutToken("/query", { method: "POST", body: "SELECT 1" }), 401, "UNAUTHORIZED");
  });
});
