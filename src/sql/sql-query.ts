/**
 * One SQL query from text to rows: rewrite the dialect (sql-rewrite.ts),
 * parse with squirreling, resolve every table through the catalog into a
 * Parquet-backed source, infer the output schema, plan, check the bytes the
 * plan will read against the limit (from the files' footers, before any
 * output), then stream rows while the budget enforces the other limits.
 */
import { type AsyncDataSource, executePlan, parseSql, planSql, type QueryPlan, type SqlPrimitive, type Statement, type UserDefinedFunction } from "squirreling";
import type { BlockRange } from "../domain/block-range";
import type { CatalogTable, SqlCatalog } from "./catalog";
import { propagateBlockNum } from "./block-num";
import { foldConstantConditions } from "./constant-fold";
import { memoizeProjections } from "./memo-projection";
import { type PendingRows, ParquetTable } from "./parquet-table";
import { QueryBudget, QueryLimitError, type QueryLimits } from "./query-budget";
import { SqlInputError, StorageError } from "./sql-errors";
import { rewriteStructAccess, STRUCT_FIELD, structField } from "./struct-fields";
import { rewriteSql } from "./sql-rewrite";
import type { SqlField } from "./sql-types";
import { inferStatement } from "./type-inference";
import { EVM_FUNCTIONS, type SqlFunction } from "./udfs/evm-functions";

export interface QueryOptions {
  catalog: Pick<SqlCatalog, "table" | "files">;
  bucket: R2Bucket;
  limits: QueryLimits;
  /** Functions qualified by a dataset (`eth_rpc.eth_call`), by schema and name; null when there is none. */
  qualifiedFunction?: (schema: string, name: string) => Promise<SqlFunction | null>;
  /** A derived step's block range: every table is read within it. */
  blocks?: BlockRange;
  /** Functions only some contexts have (`block_num()` in derived tables). */
  extraFunctions?: Record<string, SqlFunction>;
  /** A derived table's SQL: every output row gets its `_block_num` (block-num.ts). */
  derived?: boolean;
  /**
   * Whether a subquery's computed columns are evaluated once per row (memo-projection.ts; the default). false runs
   * the engine's plan as it is, for bench:derived --compare=1 to measure both within one run.
   */
  memoize?: boolean;
  /** Rows of a table that are in no file yet (a sibling table computed earlier in the same step); they replace its files' rows from block `from` on. */
  pendingRows?: (table: CatalogTable) => PendingRows | undefined;
}

export interface PreparedQuery {
  /** Output columns, names as the engine gives them, types as inferred. */
  fields: SqlField[];
  /** Bytes the plan's scans read, from the footers. */
  plannedBytes: number;
  budget: QueryBudget;
  rows(): AsyncGenerator<Record<string, SqlPrimitive>>;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The squirreling form of a function; SqlInputErrors it throws keep their codes. */
function engineFunction(fn: SqlFunction): UserDefinedFunction {
  return { apply: (...args) => fn.apply(...args), arguments: { min: fn.minArgs, max: fn.maxArgs } };
}

function scanNodes(plan: QueryPlan, out: { table: string; hints: { columns?: string[]; where?: unknown } }[] = []) {
  if (plan.type === "Scan") out.push({ table: plan.table, hints: plan.hints });
  for (const value of Object.values(plan)) {
    if (value && typeof value === "object" && "type" in value && typeof (value as { type: unknown }).type === "string") {
      scanNodes(value as QueryPlan, out);
    }
  }
  return out;
}

/**
 * The functions the statement calls, of those given. squirreling finds a
 * function for each call by upper-casing every name it was given, so a
 * query that carries only its own functions spends less on each call.
 */
function usedFunctions(statement: Statement, functions: Record<string, UserDefinedFunction>): Record<string, UserDefinedFunction> {
  const names = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) for (const item of node) walk(item);
    else if (node && typeof node === "object") {
      const call = node as { type?: unknown; funcName?: unknown };
      if (call.type === "function" && typeof call.funcName === "string") names.add(call.funcName.toLowerCase());
      for (const value of Object.values(node)) if (value && typeof value === "object") walk(value);
    }
  };
  walk(statement);
  return Object.fromEntries(Object.entries(functions).filter(([name]) => names.has(name.toLowerCase())));
}

/** The first user alias starting with '_' (reserved for `_block_num`), or null. */
function underscoreAlias(root: unknown): string | null {
  if (!root || typeof root !== "object") return null;
  const node = root as { type?: unknown; alias?: unknown };
  if (node.type === "derived" && typeof node.alias === "string" && node.alias.startsWith("_")) return node.alias;
  for (const value of Object.values(root)) {
    const found = value && typeof value === "object" ? underscoreAlias(value) : null;
    if (found !== null) return found;
  }
  return null;
}

/** The names every WITH in the statement defines, at any depth. */
function cteNames(root: unknown, names = new Set<string>()): Set<string> {
  if (Array.isArray(root)) for (const item of root) cteNames(item, names);
  else if (root && typeof root === "object") {
    const node = root as { type?: unknown; ctes?: { name: string }[] };
    if (node.type === "with" && node.ctes) for (const cte of node.ctes) names.add(cte.name);
    for (const value of Object.values(root)) if (value && typeof value === "object") cteNames(value, names);
  }
  return names;
}

export interface PlannedQuery {
  statement: Statement;
  fields: SqlField[];
  plan: QueryPlan;
  tables: Record<string, ParquetTable>;
  /** The catalog tables the query reads, by the name the engine knows them under. */
  sources: Map<string, CatalogTable>;
  functions: Record<string, UserDefinedFunction>;
  budget: QueryBudget;
}

/** Parses, resolves, infers and plans; reads no data (beyond the catalog's file lists). */
export async function planQuery(sql: string, options: QueryOptions): Promise<PlannedQuery> {
  if (sql.trim() === "") throw new SqlInputError("SQL_PARSE_ERROR", "the query is empty");
  const rewritten = rewriteSql(sql.trim().replace(/;\s*$/, ""));
  const functions: Record<string, SqlFunction> = { ...EVM_FUNCTIONS, [STRUCT_FIELD]: structField, ...options.extraFunctions };
  for (const ref of rewritten.functions) {
    const fn = options.qualifiedFunction ? await options.qualifiedFunction(ref.schema, ref.name) : null;
    if (!fn) throw new SqlInputError("FUNCTION_NOT_FOUND", `function ${ref.schema}.${ref.name} does not exist`);
    functions[ref.engineName] = fn;
  }
  const engineFunctions = Object.fromEntries(Object.entries(functions).map(([name, fn]) => [name, engineFunction(fn)]));
  let statement: Statement;
  try {
    statement = parseSql({ query: rewritten.sql, functions: engineFunctions });
  } catch (error) {
    throw new SqlInputError("SQL_PARSE_ERROR", message(error));
  }
  const underscored = underscoreAlias(statement);
  if (underscored !== null) {
    throw new SqlInputError("INVALID_PLAN", `projection contains a column alias starting with '_': ${underscored}`);
  }
  rewriteStructAccess(statement);
  if (options.derived) propagateBlockNum(statement);
  const ctes = cteNames(statement);
  const unqualified = rewritten.bareTables.find((name) => !ctes.has(name));
  if (unqualified !== undefined) {
    throw new SqlInputError("UNQUALIFIED_TABLE", `table '${unqualified}' must be qualified by its dataset, e.g. eth_rpc.${unqualified}`);
  }
  const budget = new QueryBudget(options.limits);
  const tables: Record<string, ParquetTable> = {};
  const tableFields = new Map<string, SqlField[]>();
  const sources = new Map<string, CatalogTable>();
  for (const ref of rewritten.tables) {
    const table = await options.catalog.table(ref.schema, ref.table);
    sources.set(ref.engineName, table);
    const files = await options.catalog.files(table);
    const pendingRows = options.pendingRows?.(table);
    tables[ref.engineName] = new ParquetTable({ bucket: options.bucket, fields: table.fields, files, blocks: options.blocks, budget, ...(pendingRows ? { pendingRows } : {}) });
    tableFields.set(ref.engineName, table.fields.map((field) => ({ ...field })));
  }
  const inferred = inferStatement(statement, { tables: tableFields, functions });
  foldConstantConditions(statement, EVM_FUNCTIONS);
  const used = usedFunctions(statement, engineFunctions);
  let plan: QueryPlan;
  try {
    plan = planSql({ query: statement, functions: used, tables: tables as Record<string, AsyncDataSource> });
  } catch (error) {
    if (error instanceof SqlInputError) throw error;
    throw new SqlInputError("INVALID_PLAN", message(error));
  }
  const context = { tables: tables as Record<string, AsyncDataSource>, functions: used };
  for (const table of Object.values(tables)) table.context = context;
  let results: ReturnType<typeof executePlan>;
  try {
    results = executePlan({ plan, context: { tables: tables as Record<string, AsyncDataSource>, functions: used } });
  } catch (error) {
    throw asQueryError(error);
  }
  if (inferred.length !== results.columns.length) {
    throw new SqlInputError("INVALID_PLAN", `the engine returns ${results.columns.length} columns where ${inferred.length} were inferred`);
  }
  const fields = results.columns.map((name, i) => ({ name, type: inferred[i]!.type, nullable: inferred[i]!.nullable }));
  const names = new Set<string>();
  for (const field of fields) {
    if (names.has(field.name)) throw new SqlInputError("INVALID_PLAN", `Duplicate field names detected: ${field.name}. Please alias your columns to be unique.`);
    names.add(field.name);
  }
  return { statement, fields, plan, tables, sources, functions: used, budget };
}

/** A planned query whose reads fit the byte limit (by the footers), ready to stream its rows. */
export async function prepareQuery(sql: string, options: QueryOptions): Promise<PreparedQuery> {
  const { fields, plan, tables, functions, budget } = await planQuery(sql, options);
  let plannedBytes = 0;
  for (const scan of scanNodes(plan)) {
    const table = tables[scan.table];
    if (!table) continue;
    const groups = await table.plan(scan.hints as Parameters<ParquetTable["plan"]>[0]);
    for (const group of groups) plannedBytes += group.bytes;
  }
  if (plannedBytes > options.limits.maxBytes) {
    throw new QueryLimitError("maxBytes", options.limits.maxBytes, `the query would read ${plannedBytes} bytes of Parquet data, more than the limit of ${options.limits.maxBytes}`);
  }
  const context = { tables: { ...tables } as Record<string, AsyncDataSource>, functions };
  const results = executePlan({ plan: options.memoize === false ? plan : memoizeProjections(plan, context), context });
  return {
    fields,
    plannedBytes,
    budget,
    async *rows() {
      try {
        for await (const row of results.rows()) {
          const values: Record<string, SqlPrimitive> = {};
          // A row whose values are all known already (squirreling's `resolved`) needs no await per cell.
          const resolved = row.resolved;
          if (resolved) for (const name of results.columns) values[name] = resolved[name] ?? null;
          else for (const name of results.columns) values[name] = await row.cells[name]!();
          budget.chargeOutput(1);
          yield values;
        }
      } catch (error) {
        throw asQueryError(error);
      }
    },
  };
}

/**
 * An error from running a query as the user's (QUERY_ERROR): squirreling
 * reports bad SQL it meets while running, and functions their failures, as
 * plain Errors. R2 failing is not the query's fault and stays what it is.
 */
function asQueryError(error: unknown): unknown {
  if (error instanceof SqlInputError || error instanceof StorageError) return error;
  return new SqlInputError("QUERY_ERROR", message(error));
}
