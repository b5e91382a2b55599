/**
 * Conditions with a constant call folded to its value before planning:
 * `topic0 = evm_topic('Transfer(…)')` becomes `topic0 = '0xddf2…'`. squirreling
 * evaluates a call per row (a keccak256 per row for evm_topic), and a literal
 * is what statistics pruning (scan-bounds.ts) and the data source's column
 * tests (scan-filter.ts) can use. Only WHERE, ON and HAVING are folded, so no
 * output column changes its name; only the given functions (pure ones, the
 * EVM functions), only calls with at least one argument and all of them
 * literals, and only to a plain value. A call that fails is left as it is, to
 * fail (or not, on no rows) where it did before.
 */
import type { ExprNode, SqlPrimitive } from "squirreling";
import type { SqlFunction } from "./udfs/evm-functions";

const CONDITIONS = new Set(["where", "having", "on"]);

type Node = Record<string, unknown>;

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && !(value instanceof Date) && !Array.isArray(value);
}

function isPlain(value: unknown): value is SqlPrimitive {
  return value === null || typeof value === "string" || typeof value === "number" || typeof value === "bigint" || typeof value === "boolean";
}

function foldExpression(node: Node, functions: Readonly<Record<string, SqlFunction>>): Node {
  for (const [key, value] of Object.entries(node)) {
    if (Array.isArray(value)) value.forEach((item, i) => { if (isNode(item)) value[i] = foldExpression(item, functions); });
    else if (isNode(value)) node[key] = foldExpression(value, functions);
  }
  if (node.type !== "function") return node;
  const call = node as unknown as ExprNode & { type: "function" };
  const fn = functions[call.funcName.toLowerCase()];
  if (!fn || call.args.length === 0 || !call.args.every((arg) => arg.type === "literal")) return node;
  try {
    const value = fn.apply(...call.args.map((arg) => (arg as { value: SqlPrimitive }).value));
    if (!isPlain(value)) return node;
    return { type: "literal", value, positionStart: call.positionStart, positionEnd: call.positionEnd };
  } catch {
    return node;
  }
}

/** Folds in place every condition of the statement and of the statements inside it. */
export function foldConstantConditions(statement: object, functions: Readonly<Record<string, SqlFunction>>): void {
  const walk = (node: Node): void => {
    for (const [key, value] of Object.entries(node)) {
      if (CONDITIONS.has(key) && isNode(value)) node[key] = foldExpression(value, functions);
      else if (Array.isArray(value)) for (const item of value) { if (isNode(item)) walk(item); }
      else if (isNode(value)) walk(value);
    }
  };
  walk(statement as Node);
}
