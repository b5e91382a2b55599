/// <reference path="./squirreling-evaluate.d.ts" />
/**
 * A scan's WHERE split for the data source: the conjuncts that compare one
 * column with literals (`address = 0x…`, `topic0 = evm_topic('…')` once
 * folded, `log_index >= 3`, `topic3 IS NULL`, `x IN (1, 2)`) become tests on
 * the column's stored values, run over a whole row group's column before any
 * row exists, so rows they reject are never built, converted to engine values
 * or seen by squirreling (whose per-row evaluation costs about a microsecond a
 * node). The rest stays one expression for squirreling to evaluate on the rows
 * kept. Comparisons use squirreling's own operator (applyBinaryOp), so a test
 * decides as the engine would; only `=`/`!=` of a binary column with a hex
 * literal compare bytes directly, which is what the engine's hex strings mean.
 */
import type { ExprNode, SqlPrimitive } from "squirreling";
import { applyBinaryOp } from "squirreling/src/expression/binary.js";
import type { BinaryOp } from "squirreling/src/ast.js";
import { hexToBytes } from "../domain/hex";
import type { ParquetValue } from "../parquet";
import { conjuncts } from "./scan-bounds";
import type { ToEngine } from "./sql-values";

/** A test of one stored value (the Parquet reader's form). */
export type StoredValueTest = (value: ParquetValue) => boolean;

export interface ColumnTest {
  column: string;
  test: StoredValueTest;
}

export interface ScanFilter {
  /** Conjuncts on one column each; a row is kept only if every test passes. */
  tests: ColumnTest[];
  /** The other conjuncts, ANDed, for the engine to evaluate per kept row; undefined when none are left. */
  residual: ExprNode | undefined;
}

/** How each column's stored values become engine values, and which columns are binary. */
export interface ScanColumns {
  converters: ReadonlyMap<string, ToEngine>;
  binary: ReadonlySet<string>;
}

const COMPARISONS = new Set(["=", "==", "!=", "<>", "<", "<=", ">", ">="]);
const FLIP: Record<string, string> = { "<": ">", ">": "<", "<=": ">=", ">=": "<=" };
const HEX = /^0x(?:[0-9a-f]{2})*$/;

function sameBytes(value: ParquetValue, expected: Uint8Array): boolean {
  if (!(value instanceof Uint8Array) || value.length !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (value[i] !== expected[i]) return false;
  return true;
}

function comparison(column: string, op: string, literal: SqlPrimitive, columns: ScanColumns): StoredValueTest | null {
  const convert = columns.converters.get(column);
  if (!convert) return null;
  if (literal === null || literal === undefined) return () => false;
  if (columns.binary.has(column) && typeof literal === "string" && HEX.test(literal) && (op === "=" || op === "==" || op === "!=" || op === "<>")) {
    const expected = hexToBytes(literal);
    // NULL compares false either way, as in applyBinaryOp.
    return op === "=" || op === "==" ? (v) => sameBytes(v, expected) : (v) => v !== null && !sameBytes(v, expected);
  }
  return (v) => Boolean(applyBinaryOp(op as BinaryOp, convert(v), literal));
}

function columnTest(node: ExprNode, columns: ScanColumns): ColumnTest | null {
  if (node.type === "binary" && COMPARISONS.has(node.op)) {
    if (node.left.type === "identifier" && node.right.type === "literal") {
      const test = comparison(node.left.name, node.op, node.right.value, columns);
      return test ? { column: node.left.name, test } : null;
    }
    if (node.right.type === "identifier" && node.left.type === "literal") {
      const test = comparison(node.right.name, FLIP[node.op] ?? node.op, node.left.value, columns);
      return test ? { column: node.right.name, test } : null;
    }
    return null;
  }
  if (node.type === "unary" && (node.op === "IS NULL" || node.op === "IS NOT NULL") && node.argument.type === "identifier") {
    if (!columns.converters.has(node.argument.name)) return null;
    return { column: node.argument.name, test: node.op === "IS NULL" ? (v) => v === null || v === undefined : (v) => v !== null && v !== undefined };
  }
  if (node.type === "in valuelist" && node.expr.type === "identifier" && node.values.every((v) => v.type === "literal")) {
    const convert = columns.converters.get(node.expr.name);
    if (!convert) return null;
    const values = node.values.map((v) => (v as { value: SqlPrimitive }).value);
    // `==` as squirreling's IN compares.
    return { column: node.expr.name, test: (v) => { const value = convert(v); return values.some((x) => value == x); } };
  }
  return null;
}

export function compileScanFilter(where: ExprNode | undefined, columns: ScanColumns): ScanFilter {
  const tests: ColumnTest[] = [];
  let residual: ExprNode | undefined;
  for (const node of conjuncts(where)) {
    if (node.type === "literal" && node.value === true) continue;
    const test = columnTest(node, columns);
    if (test) tests.push(test);
    else residual = residual ? { type: "binary", op: "AND", left: residual, right: node, positionStart: node.positionStart, positionEnd: node.positionEnd } : node;
  }
  return { tests, residual };
}
