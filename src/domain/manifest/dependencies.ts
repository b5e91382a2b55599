import sqlParser from "node-sql-parser/build/postgresql";
import type { DerivedManifest } from "./kinds";

/**
 * Dependency validation of derived manifests, as the original does it at HEAD
 * (derived-datasets.md §1.4): every table's SQL is exactly one query, and
 * every qualified table reference (`schema.table` or `catalog.schema.table`)
 * names either `self` (a table of the same dataset) or a dependency by its
 * alias, the key of `dependencies`. A dataset reference as the qualifier
 * (`"_/eth_rpc@1.0.0".logs`), or a dataset name that is no alias, is refused:
 * the alias pins what the table reads (src/store/dependency-pins.ts), unlike
 * fc27f54c, which matched dataset names and then read `_/<name>@latest`.
 *
 * The PostgreSQL dialect of node-sql-parser stands in for DataFusion's parser.
 */

const { Parser } = sqlParser;
const parser = new Parser();
const PARSE_OPTIONS = { database: "postgresql" };
const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The qualifier of a dataset's own tables. */
const SELF = "self";

export type DependencyCheck = { ok: true } | { ok: false; message: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/**
 * The schema parts of the qualified table references anywhere in a statement
 * (joins, subqueries, CTEs, set operations). Table references are the AST
 * nodes with a string `table` and a `db` key; column references are skipped.
 * Iterative, so a long expression chain cannot overflow the stack.
 */
function referencedSchemas(root: unknown): Set<string> {
  const found = new Set<string>();
  const pending: unknown[] = [root];
  const seen = new WeakSet<object>();
  while (pending.length > 0) {
    const node = pending.pop();
    if (!isRecord(node) || seen.has(node)) continue;
    seen.add(node);
    if (typeof node.table === "string" && "db" in node && node.type !== "column_ref") {
      const schema = typeof node.schema === "string" ? node.schema : node.db;
      // DataFusion folds unquoted identifiers to lowercase; the parser keeps the case.
      if (typeof schema === "string") found.add(PLAIN_IDENTIFIER.test(schema) ? schema.toLowerCase() : schema);
    }
    for (const child of Object.values(node)) pending.push(child);
  }
  return found;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const IDENTIFIER_PART = /[A-Za-z0-9_$]/;

/**
 * The SQL with DataFusion's hex literals (`0xab…`, `X'ab…'`), which the
 * PostgreSQL dialect does not parse, as plain string literals: only their
 * place in the grammar matters for this check. String literals, quoted
 * identifiers and comments pass unchanged.
 */
function withHexAsStrings(sql: string): string {
  let out = "";
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const wordBoundary = i === 0 || !IDENTIFIER_PART.test(sql[i - 1]!);
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === c && sql[j + 1] !== c)) j += sql[j] === c ? 2 : 1;
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (sql.startsWith("--", i) || sql.startsWith("/*", i)) {
      const end = sql.startsWith("--", i) ? sql.indexOf("\n", i) : sql.indexOf("*/", i) + 1;
      const stop = end <= 0 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop;
    } else if (wordBoundary && (c === "x" || c === "X") && sql[i + 1] === "'") {
      i++;
    } else if (wordBoundary && c === "0" && (sql[i + 1] === "x" || sql[i + 1] === "X")) {
      let j = i + 2;
      while (j < sql.length && /[0-9a-fA-F]/.test(sql[j]!)) j++;
      out += `'${sql.slice(i, j)}'`;
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function tableSchemas(table: string, sql: string): { schemas: Set<string> } | { error: string } {
  let statements: unknown[];
  try {
    const ast = parser.astify(withHexAsStrings(sql), PARSE_OPTIONS);
    statements = Array.isArray(ast) ? ast : [ast];
  } catch (error) {
    return { error: `table '${table}': invalid SQL: ${errorText(error)}` };
  }
  if (statements.length !== 1) {
    return { error: `table '${table}': expected exactly one SQL statement, found ${statements.length}` };
  }
  const [statement] = statements;
  if (!isRecord(statement) || statement.type !== "select") {
    return { error: `table '${table}': the SQL must be a query (SELECT)` };
  }
  return { schemas: referencedSchemas(statement) };
}

export function validateDependencies(manifest: DerivedManifest): DependencyCheck {
  const aliases = new Set(Object.keys(manifest.dependencies));
  const missing = new Set<string>();
  for (const [table, definition] of Object.entries(manifest.tables).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const result = tableSchemas(table, definition.input.sql);
    if ("error" in result) return { ok: false, message: result.error };
    for (const schema of result.schemas) if (schema !== SELF && !aliases.has(schema)) missing.add(schema);
  }
  if (missing.size === 0) return { ok: true };
  const declared = [...aliases].sort();
  return {
    ok: false,
    message: `Dependency alias not found: ${[...missing].sort().map((alias) => `'${alias}'`).join(", ")} referenced in table but not provided in dependencies (declared: ${
      declared.length > 0 ? declared.join(", ") : "none"
    })`,
  };
}
