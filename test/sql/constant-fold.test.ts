/** Constant calls in conditions become literals before planning; nothing else changes. */
import { parseSql, type SelectStatement } from "squirreling";
import { describe, expect, it } from "vitest";
import { foldConstantConditions } from "../../src/sql/constant-fold";
import { EVM_FUNCTIONS } from "../../src/sql/udfs/evm-functions";

const TRANSFER = "'Transfer(address indexed from, address indexed to, uint256 value)'";
const TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
const udf = { apply: () => null, arguments: { min: 0 } };
const functions = { ...Object.fromEntries(Object.keys(EVM_FUNCTIONS).map((name) => [name, udf])), block_num: udf, other: udf };

function folded(sql: string): SelectStatement {
  const statement = parseSql({ query: sql, functions }) as SelectStatement;
  foldConstantConditions(statement, EVM_FUNCTIONS);
  return statement;
}

describe("constant conditions", () => {
  it("fold evm_topic in WHERE, ON and HAVING, in subqueries too, but not in the select list", () => {
    const statement = folded(`SELECT evm_topic(${TRANSFER}) AS t FROM (SELECT * FROM logs WHERE topic0 = evm_topic(${TRANSFER})) s
      JOIN tx ON tx.input = evm_encode_hex('0x${"ab".repeat(20)}') WHERE s.topic0 = EVM_TOPIC(${TRANSFER}) GROUP BY t HAVING t = evm_topic(${TRANSFER})`);
    expect(statement.where).toMatchObject({ type: "binary", right: { type: "literal", value: TOPIC } });
    expect(statement.having).toMatchObject({ right: { type: "literal", value: TOPIC } });
    expect(statement.joins[0]!.on).toMatchObject({ right: { type: "literal", value: `0x${"ab".repeat(20)}` } });
    expect((statement.from as { query: SelectStatement }).query.where).toMatchObject({ right: { type: "literal", value: TOPIC } });
    expect(statement.columns[0]).toMatchObject({ expr: { type: "function", funcName: "evm_topic" } });
  });

  it("leave calls with a column, no argument, an unknown function, a struct result or a failure", () => {
    for (const condition of [
      "evm_decode_hex(address) = '0x00'",
      "block_num() = 1",
      "other('x') = 1",
      `evm_decode_log('0x00', '0x00', '0x00', '0x00', ${TRANSFER}) IS NULL`,
      "evm_encode_hex('0x123') = address",
    ]) {
      const statement = parseSql({ query: `SELECT * FROM logs WHERE ${condition}`, functions }) as SelectStatement;
      const before = JSON.stringify(statement.where, (_, v) => (typeof v === "bigint" ? String(v) : v));
      foldConstantConditions(statement, EVM_FUNCTIONS);
      expect(JSON.stringify(statement.where, (_, v) => (typeof v === "bigint" ? String(v) : v))).toBe(before);
    }
  });
});
