/**
 * `_block_num` of each row a derived table's SQL produces (derived-datasets.md
 * §2.3): a scan gives its `_block_num`, an inner join the greater of its
 * sides', and every SELECT feeding the output (the statement, its FROM
 * subqueries, its CTEs, both sides of a UNION ALL) gets it as its first
 * column. `block_num()` stands for that value wherever the user writes it,
 * so `GROUP BY block_num()` groups by the propagated block. The statement is
 * rewritten in place, after the user's own aliases were checked (`_` is
 * theirs to avoid), and before inference and planning.
 */
import type { ExprNode, SelectStatement, Statement } from "squirreling";

type SelectColumn = SelectStatement["columns"][number];
import { SqlInputError } from "./sql-errors";

export const BLOCK_NUM = "_block_num";

const POSITION = { positionStart: 0, positionEnd: 0 };

function column(prefix: string | undefined): ExprNode {
  return prefix === undefined ? { type: "identifier", name: BLOCK_NUM, ...POSITION } : { type: "identifier", name: BLOCK_NUM, prefix, ...POSITION };
}

function isBlockNumCall(node: unknown): boolean {
  const typed = node as { type?: unknown; funcName?: unknown; args?: unknown[] };
  return typed?.type === "function" && typeof typed.funcName === "string" && typed.funcName.toLowerCase() === "block_num" && typed.args?.length === 0;
}

/** Replaces every `block_num()` under `root` (not inside nested statements, which have their own scope) by `value`. */
function replaceCalls(root: unknown, value: ExprNode): void {
  if (!root || typeof root !== "object") return;
  for (const [key, child] of Object.entries(root)) {
    if (!child || typeof child !== "object" || key === "subquery" || key === "query") continue;
    if (isBlockNumCall(child)) (root as Record<string, unknown>)[key] = structuredClone(value);
    else replaceCalls(child, value);
  }
}

/** What the SELECT's FROM and joins give as `_block_num`; FROM subqueries are rewritten first. */
function sourceBlockNum(select: SelectStatement): ExprNode {
  const from = select.from;
  if (from.type === "function") throw new SqlInputError("INVALID_PLAN", `table function ${from.funcName} has no _block_num`);
  if (from.type === "subquery") propagateBlockNum(from.query);
  const fromPrefix = from.type === "table" ? (from.alias ?? from.table) : from.alias;
  if (select.joins.length === 0) return column(fromPrefix);
  const sides = [column(fromPrefix), ...select.joins.map((join) => column(join.alias ?? join.table))];
  return { type: "function", funcName: "GREATEST", args: sides, ...POSITION };
}

function selectsBlockNum(columns: readonly SelectColumn[], joined: boolean): boolean {
  for (const item of columns) {
    const isOwn = item.type === "derived" && item.expr.type === "identifier" && item.expr.name === BLOCK_NUM && (item.alias ?? BLOCK_NUM) === BLOCK_NUM;
    if (joined && (item.type === "star" || isOwn)) {
      throw new SqlInputError(
        "INVALID_PLAN",
        "selecting _block_num from a multi-table context is ambiguous (a star or a side's _block_num above a join): use the block_num() function",
      );
    }
    // A star over one source includes its `_block_num`, which every table has first.
    if (item.type === "star" || isOwn) return true;
  }
  return false;
}

function propagateSelect(select: SelectStatement): void {
  const value = sourceBlockNum(select);
  // Through a holder, so a bare `block_num()` as the whole clause is replaced too.
  const clauses = { columns: select.columns, groupBy: select.groupBy, where: select.where, having: select.having };
  replaceCalls(clauses, value);
  select.where = clauses.where;
  select.having = clauses.having;
  if (!selectsBlockNum(select.columns, select.joins.length > 0)) {
    select.columns.unshift({ type: "derived", expr: structuredClone(value), alias: BLOCK_NUM, ...POSITION });
  }
}

/** Rewrites the statement so its output (and every relation feeding it) carries `_block_num`. */
export function propagateBlockNum(statement: Statement): void {
  switch (statement.type) {
    case "with":
      for (const cte of statement.ctes) propagateBlockNum(cte.query);
      propagateBlockNum(statement.query);
      return;
    case "compound":
      propagateBlockNum(statement.left);
      propagateBlockNum(statement.right);
      return;
    case "select":
      propagateSelect(statement);
  }
}

/** Whether the statement reads history besides the step's own blocks: a join or a subquery in an expression does (§2.6's delta rule). */
export function readsHistory(statement: unknown): boolean {
  if (!statement || typeof statement !== "object") return false;
  const node = statement as { type?: unknown; joins?: unknown[] };
  if (node.type === "select" && Array.isArray(node.joins) && node.joins.length > 0) return true;
  if (node.type === "in" || node.type === "exists" || node.type === "not exists" || (node.type === "subquery" && "subquery" in node)) return true;
  return Object.values(statement).some((child) => child && typeof child === "object" && readsHistory(child));
}
