/** POST /schema: both request shapes, over a dataset extracted from the test's own node; the original's cases (derived-datasets.md §4). */
import { describe, expect, it } from "vitest";
import { useTransferDataset } from "../support/workerd/sql-fixture";
import { expectError, postJson, READ } from "./api-client";

useTransferDataset();
const ETH = { eth: "_/eth_rpc@1.0.0" };
const TRANSFER = "'Transfer(address indexed from, address indexed to, uint256 value)'";

async function schemas(tables: Record<string, string>, dependencies: Record<string, string> = ETH) {
  const res = await postJson("/schema", { tables, dependencies, functions: {} });
  const body = (await res.json()) as { schemas: Record<string, { arrow: { fields: { name: string; type: unknown; nullable: boolean }[] } }> };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.schemas;
}

const field = (name: string, type: unknown, nullable = false) => ({ name, type, nullable });
/** A field inside a struct, in arrow-rs serde form. */
const structField = (name: string, type: unknown) => ({ name, data_type: type, nullable: true, dict_id: 0, dict_is_ordered: false, metadata: {} });

describe("POST /schema, the original's request {sql_query, is_sql_dataset}", () => {
  it("infers a table's fields with _block_num first, and its networks", async () => {
    const res = await postJson("/schema", { sql_query: "SELECT block_num, miner, hash, parent_hash FROM eth_rpc.blocks", is_sql_dataset: true });
    expect(await res.json()).toEqual({
      schema: {
        arrow: {
          fields: [
            field("_block_num", "UInt64"),
            field("block_num", "UInt64"),
            field("miner", { FixedSizeBinary: 20 }),
            field("hash", { FixedSizeBinary: 32 }),
            field("parent_hash", { FixedSizeBinary: 32 }),
          ],
        },
      },
      networks: ["anvil"],
    });
  });

  it("infers a filtered query without _block_num when it is not a dataset", async () => {
    const res = await postJson("/schema", { sql_query: "SELECT tx_hash, \"to\" FROM eth_rpc.transactions WHERE gas_used > 0", is_sql_dataset: false }, READ);
    expect(await res.json()).toEqual({
      schema: { arrow: { fields: [field("tx_hash", { FixedSizeBinary: 32 }), field("to", { FixedSizeBinary: 20 }, true)] } },
      networks: ["anvil"],
    });
  });

  it("answers an unknown dataset 404 and an unknown table 400", async () => {
    await expectError(await postJson("/schema", { sql_query: "SELECT * FROM nope.blocks" }), 404, "DEPENDENCY_NOT_FOUND");
    await expectError(await postJson("/schema", { sql_query: "SELECT * FROM eth_rpc.nope" }), 400, "SCHEMA_INFERENCE");
  });
});

describe("POST /schema, the newest Amp client's request {tables, dependencies, functions}", () => {
  it("infers joins, subqueries, CTEs, a table used twice, decoded structs and self. references in order", async () => {
    const result = await schemas({
      zz_transfers: `SELECT l.block_num, evm_decode_log(l.topic1, l.topic2, l.topic3, l.data, ${TRANSFER}) AS decoded FROM eth.logs l WHERE l.topic0 = evm_topic(${TRANSFER})`,
      aa_joined: "SELECT t.tx_hash, l.log_index FROM eth.transactions t JOIN eth.logs l ON t.tx_hash = l.tx_hash",
      mm_sub: "SELECT block_num FROM (SELECT block_num, miner FROM eth.blocks) b WHERE b.block_num > 0",
      cte: "WITH b AS (SELECT block_num, hash FROM eth.blocks) SELECT hash FROM b",
      twice: "SELECT a.block_num FROM eth.blocks a JOIN eth.blocks b ON a.parent_hash = b.hash",
      from_self: "SELECT block_num, decoded.value AS value FROM self.zz_transfers",
      per_block: "SELECT block_num() AS bn, count(*) AS n FROM eth.logs GROUP BY block_num()",
    });
    expect(result.zz_transfers!.arrow.fields).toEqual([
      field("_block_num", "UInt64"),
      field("block_num", "UInt64"),
      field("decoded", {
        Struct: [
          structField("from", { FixedSizeBinary: 20 }),
          structField("to", { FixedSizeBinary: 20 }),
          structField("value", "Utf8"),
        ],
      }),
    ]);
    expect(result.from_self!.arrow.fields).toEqual([field("_block_num", "UInt64"), field("block_num", "UInt64"), field("value", "Utf8", true)]);
    expect(result.aa_joined!.arrow.fields).toEqual([field("_block_num", "UInt64"), field("tx_hash", { FixedSizeBinary: 32 }), field("log_index", "UInt32")]);
    expect(result.mm_sub!.arrow.fields.map((f) => f.name)).toEqual(["_block_num", "block_num"]);
    expect(result.cte!.arrow.fields.map((f) => f.name)).toEqual(["_block_num", "hash"]);
    expect(result.twice!.arrow.fields.map((f) => f.name)).toEqual(["_block_num", "block_num"]);
    expect(result.per_block!.arrow.fields).toEqual([field("_block_num", "UInt64"), field("bn", "UInt64"), field("n", "Int64")]);
  });

  it("answers only functions with no schemas, and nothing at all with EMPTY_TABLES_AND_FUNCTIONS", async () => {
    const res = await postJson("/schema", { functions: { f: { inputTypes: [], outputType: "Utf8", source: { source: "function f() { return 'x' }", filename: "f.js" } } } });
    expect(await res.json()).toEqual({ schemas: {} });
    await expectError(await postJson("/schema", {}), 400, "EMPTY_TABLES_AND_FUNCTIONS");
  });

  it("refuses bad payloads with INVALID_PAYLOAD_FORMAT", async () => {
    const bad = (body: unknown) => postJson("/schema", body);
    const raw = await postJson("/schema", undefined);
    await expectError(raw, 400, "INVALID_PAYLOAD_FORMAT");
    await expectError(await bad({ tables: { t: "   " }, dependencies: ETH }), 400, "INVALID_PAYLOAD_FORMAT");
    await expectError(await bad({ tables: { "123invalid": "SELECT block_num FROM eth.blocks" }, dependencies: ETH }), 400, "INVALID_PAYLOAD_FORMAT");
    await expectError(await bad({ tables: { ["t".repeat(64)]: "SELECT block_num FROM eth.blocks" }, dependencies: ETH }), 400, "INVALID_PAYLOAD_FORMAT");
    await expectError(await bad({ tables: { t: "SELECT block_num FROM eth.blocks" }, dependencies: { eth: "_/eth_rpc@latest" } }), 400, "INVALID_PAYLOAD_FORMAT");
    await expectError(await bad({ tables: { t: "SELECT block_num FROM eth.blocks" }, dependencies: { eth: "_/eth_rpc@dev" } }), 400, "INVALID_PAYLOAD_FORMAT");
    await expectError(await bad({ tables: { t: "SELECT block_num FROM eth.blocks" }, dependencies: { eth: "_/eth_rpc" } }), 400, "INVALID_PAYLOAD_FORMAT");
    await expectError(await bad({ sql_query: "" }), 400, "INVALID_PAYLOAD_FORMAT");
  });

  it("answers each of the original's errors with its code", async () => {
    const refused = async (sql: string, status: number, code: Parameters<typeof expectError>[2], dependencies = ETH) =>
      expectError(await postJson("/schema", { tables: { t: sql }, dependencies }), status, code);
    await refused("SELEC block_num FROM eth.blocks", 400, "INVALID_TABLE_SQL");
    await refused("SELECT block_num FROM catalog.eth.blocks", 400, "CATALOG_QUALIFIED_TABLE");
    await refused('SELECT block_num FROM "_/eth_rpc@1.0.0".blocks', 400, "TABLE_REFERENCE_RESOLUTION");
    await refused("SELECT 1 AS dummy", 400, "NO_TABLE_REFERENCES");
    await refused("SELECT block_num FROM self.t", 400, "SELF_REFERENCING_TABLE");
    await refused("SELECT block_num FROM self.missing", 400, "SELF_REF_TABLE_NOT_FOUND");
    await refused("SELECT block_num FROM eth.blocks LIMIT 10", 400, "NON_INCREMENTAL_QUERY");
    await refused("SELECT COUNT(*) AS n FROM eth.blocks", 400, "NON_INCREMENTAL_QUERY");
    const grouped = await refused("SELECT miner, COUNT(*) AS n FROM eth.blocks GROUP BY miner", 400, "NON_INCREMENTAL_QUERY");
    expect(grouped.error_message).toContain("Aggregate");
    await refused("SELECT block_num AS _x FROM eth.blocks", 400, "INVALID_PLAN");
    await refused("SELECT block_num FROM blocks", 400, "SCHEMA_INFERENCE");
    await refused("SELECT block_num FROM other.blocks", 400, "SCHEMA_INFERENCE");
    await refused("SELECT block_num FROM eth.nope", 400, "SCHEMA_INFERENCE");
    await refused("SELECT eth.nonexistent_function(block_num) AS x FROM eth.blocks", 400, "SCHEMA_INFERENCE");
    await refused("SELECT block_num FROM eth.blocks", 404, "DEPENDENCY_NOT_FOUND", { eth: "_/eth_rpc@9.9.9" });
    await refused("SELECT block_num FROM eth.blocks", 404, "DEPENDENCY_NOT_FOUND", { eth: `_/eth_rpc@${"ab".repeat(32)}` });
    const cycle = await postJson("/schema", { tables: { a: "SELECT block_num FROM self.b", b: "SELECT block_num FROM self.a" }, dependencies: ETH });
    await expectError(cycle, 400, "CYCLIC_DEPENDENCY");
  });
});
