/**
 * The inferred schema (what /schema reports and derived files are written with) against what the engine
 * produces: every value of every output column has the inferred type, and no non-nullable column holds NULL.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SqlCatalog } from "../../src/sql/catalog";
import { BLOCK_NUM_FUNCTION } from "../../src/sql/derived-schema";
import { DEFAULT_QUERY_LIMITS } from "../../src/sql/query-budget";
import { prepareQuery } from "../../src/sql/sql-query";
import { isList, isStruct, listItem, type SqlType } from "../../src/sql/sql-types";
import { openDb } from "../../src/store/db";
import { useTransferDataset } from "../support/workerd/sql-fixture";

useTransferDataset();
const TRANSFER = "'Transfer(address indexed from, address indexed to, uint256 value)'";

/** Why a value does not fit the type, or null when it does. */
function misfit(value: unknown, type: SqlType, nullable: boolean): string | null {
  if (value === null || value === undefined) return nullable ? null : "NULL in a non-nullable column";
  if (isStruct(type)) {
    if (typeof value !== "object") return `expected a struct, got ${typeof value}`;
    const keys = Object.keys(value as object).sort();
    const names = type.Struct.map((f) => f.name).sort();
    if (JSON.stringify(keys) !== JSON.stringify(names)) return `struct fields ${keys} != ${names}`;
    for (const f of type.Struct) {
      const m = misfit((value as Record<string, unknown>)[f.name], f.type, f.nullable);
      if (m) return `${f.name}: ${m}`;
    }
    return null;
  }
  if (isList(type)) return Array.isArray(value) ? null : "expected a list";
  if (typeof type === "object" && "FixedSizeBinary" in type) {
    return typeof value === "string" && new RegExp(`^0x[0-9a-f]{${type.FixedSizeBinary * 2}}$`).test(value) ? null : `not ${type.FixedSizeBinary} bytes: ${String(value)}`;
  }
  if (type === "Binary") return typeof value === "string" && /^0x([0-9a-f]{2})*$/.test(value) ? null : "not binary";
  if (typeof type === "object" && "Timestamp" in type) return value instanceof Date ? null : "not a timestamp";
  if (typeof type === "object" && ("Decimal128" in type || "Decimal256" in type)) return typeof value === "bigint" ? null : "not a decimal";
  switch (type) {
    case "UInt64":
    case "Int64":
      return typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value)) ? null : `not an integer: ${String(value)}`;
    case "UInt32":
    case "Int32":
    case "UInt16":
    case "Int16":
    case "UInt8":
    case "Int8":
      return typeof value === "number" && Number.isInteger(value) ? null : "not a small integer";
    case "Float64":
    case "Float32":
      return typeof value === "number" ? null : "not a float";
    case "Utf8":
      return typeof value === "string" ? null : `not a string: ${typeof value}`;
    case "Boolean":
      return typeof value === "boolean" ? null : "not a boolean";
    default:
      return `unchecked type ${JSON.stringify(type)}`;
  }
}

const QUERIES = [
  "SELECT * FROM eth_rpc.blocks",
  "SELECT * FROM eth_rpc.transactions",
  "SELECT * FROM eth_rpc.logs",
  `SELECT block_num, evm_decode_log(topic1, topic2, topic3, data, ${TRANSFER}) AS decoded, evm_topic(${TRANSFER}) AS topic FROM eth_rpc.logs`,
  "SELECT evm_decode_hex(address) AS a, shift_units(block_num, -2) AS s, block_num + 1 AS next, gas_used / 2 AS half FROM eth_rpc.logs l JOIN eth_rpc.transactions t ON l.tx_hash = t.tx_hash",
  "SELECT t.\"to\", t.value, evm_decode_params(t.input, 'function f(uint256 a, address b)') AS p, evm_encode_type(t.nonce, 'uint64') AS e FROM eth_rpc.transactions t",
  "SELECT miner, count(*) AS n, max(gas_used) AS g, min(timestamp) AS first FROM eth_rpc.blocks GROUP BY miner",
  "SELECT block_num, CAST(block_num AS VARCHAR) AS s, CASE WHEN block_num > 2 THEN 'late' ELSE 'early' END AS phase, block_num IS NULL AS missing FROM eth_rpc.blocks",
  "SELECT b.block_num, t.tx_hash FROM eth_rpc.blocks b LEFT JOIN eth_rpc.transactions t ON b.block_num = t.block_num",
  "SELECT evm_decode_type(evm_encode_type(CAST(635 AS BIGINT), 'int256'), 'int256') AS d, evm_encode_params(CAST(1 AS BIGINT), 'function f(uint8 x)') AS p FROM eth_rpc.blocks",
];

describe("type inference equals what the engine produces", () => {
  for (const sql of QUERIES) {
    it(sql.slice(0, 90), async () => {
      const prepared = await prepareQuery(sql, {
        catalog: new SqlCatalog(openDb(env.DB), env.BUCKET),
        bucket: env.BUCKET,
        limits: DEFAULT_QUERY_LIMITS,
        extraFunctions: { block_num: BLOCK_NUM_FUNCTION },
      });
      let rows = 0;
      for await (const row of prepared.rows()) {
        rows++;
        for (const field of prepared.fields) {
          const problem = misfit(row[field.name], field.type, field.nullable);
          expect(problem, `${field.name} (${JSON.stringify(field.type)}${field.nullable ? "" : " NOT NULL"})`).toBeNull();
        }
      }
      expect(rows).toBeGreaterThan(0);
    });
  }
});
