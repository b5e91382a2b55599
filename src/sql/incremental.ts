/**
 * Whether a derived table's SQL can be computed block range by block range
 * (derived-datasets.md §2.6, HEAD's rules): projection, filter, `UNION ALL`,
 * subqueries, one inner join (by the delta rule), semi joins (`IN`,
 * `EXISTS`), and `GROUP BY` whose first key is `block_num()`. Anything else
 * is named, as the original names the plan node: Limit, Sort, Window,
 * Aggregate, Distinct, Join(<type>), StackedJoins.
 */
import { parseSql, type ExprNode, type SelectStatement, type Statement, type UserDefinedFunction } from "squirreling";
import { rewriteSql } from "./sql-rewrite";
import { EVM_FUNCTIONS } from "./udfs/evm-functions";

function isBlockNumCall(node: ExprNode | undefined): boolean {
  return node?.type === "function" && node.funcName.toLowerCase() === "block_num" && node.args.length === 0;
}

const AGGREGATES = new Set(["COUNT", "SUM", "AVG", "MIN", "MAX", "MEDIAN", "PERCENTILE_CONT", "APPROX_QUANTILE", "STDDEV_POP", "STDDEV_SAMP", "ARRAY_AGG", "JSON_ARRAYAGG", "STRING_AGG"]);

/** The first construct found in an expression tree that rules incrementality out, or null. */
function expressionConstruct(root: unknown, grouped: boolean): string | null {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const node = pending.pop();
    if (!node || typeof node !== "object") continue;
    const typed = node as { type?: string; funcName?: string };
    if (typed.type === "window") return "Window";
    if (typed.type === "not exists") return "Join(LeftAnti)";
    if (typed.type === "function" && !grouped && AGGREGATES.has((typed.funcName ?? "").toUpperCase())) return "Aggregate";
    if (typed.type === "subquery" || typed.type === "in" || typed.type === "exists") {
      const inner = nonIncrementalConstruct((node as { subquery: Statement }).subquery);
      if (inner) return inner;
      continue;
    }
    for (const value of Object.values(node)) if (value && typeof value === "object") pending.push(value);
  }
  return null;
}

function selectConstruct(select: SelectStatement): string | null {
  if (select.limit !== undefined || select.offset !== undefined) return "Limit";
  if (select.orderBy.length > 0) return "Sort";
  if (select.distinct) return "Distinct";
  const grouped = select.groupBy.length > 0;
  if (grouped && !isBlockNumCall(select.groupBy[0])) return "Aggregate";
  if (select.joins.length > 1) return "StackedJoins";
  for (const join of select.joins) {
    if (join.joinType !== "INNER") return `Join(${join.joinType[0]}${join.joinType.slice(1).toLowerCase()})`;
  }
  if (select.from.type === "subquery") {
    const inner = nonIncrementalConstruct(select.from.query);
    if (inner) return inner;
  }
  for (const column of select.columns) {
    if (column.type === "derived") {
      const found = expressionConstruct(column.expr, grouped);
      if (found) return found;
    }
  }
  return expressionConstruct([select.where, select.having, ...select.joins.map((j) => j.on)], grouped);
}

/** The construct that makes the statement non-incremental, or null when it is incremental. */
export function nonIncrementalConstruct(statement: Statement): string | null {
  switch (statement.type) {
    case "with":
      for (const cte of statement.ctes) {
        const found = nonIncrementalConstruct(cte.query);
        if (found) return found;
      }
      return nonIncrementalConstruct(statement.query);
    case "compound":
      if (statement.operator !== "UNION") return statement.operator === "INTERSECT" ? "Join(LeftSemi)" : "Join(LeftAnti)";
      if (!statement.all) return "Distinct";
      if (statement.limit !== undefined || statement.offset !== undefined) return "Limit";
      if (statement.orderBy.length > 0) return "Sort";
      return nonIncrementalConstruct(statement.left) ?? nonIncrementalConstruct(statement.right);
    case "select":
      return selectConstruct(statement);
  }
}

/**
 * The construct that makes a table's SQL non-incremental, from its text
 * alone (registration needs no catalog for it), or null; SQL that does not
 * parse is left to the checks that report parse errors.
 */
export function nonIncrementalSql(sql: string): string | null {
  let statement: Statement;
  try {
    const rewritten = rewriteSql(sql.trim().replace(/;\s*$/, ""));
    const names = [...Object.keys(EVM_FUNCTIONS), "block_num", ...rewritten.functions.map((fn) => fn.engineName)];
    const functions: Record<string, UserDefinedFunction> = Object.fromEntries(names.map((name) => [name, { apply: () => null, arguments: { min: 0, max: 64 } }]));
    statement = parseSql({ query: rewritten.sql, functions });
  } catch {
    return null;
  }
  return nonIncrementalConstruct(statement);
}
