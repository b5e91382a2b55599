/**
 * The output schema of a query, inferred from its AST: the dependency
 * tables' Arrow fields, the EVM functions' result types (which follow from
 * their signature literals), casts, aggregates and what squirreling's
 * operators return (comparisons are never NULL in it: a NULL operand gives
 * false). Column names are the engine's own (`QueryResults.columns`), so
 * they always match what a query then returns; the types are checked against
 * real results by test/sql/type-inference.test.ts.
 */
import { derivedAlias, type ExprNode, type SelectStatement, type Statement } from "squirreling";
import { SqlInputError } from "./sql-errors";
import { isIntegerType, type SqlField, type SqlType } from "./sql-types";
import type { ResultType, SqlFunction } from "./udfs/evm-functions";

export interface InferenceInput {
  /** Fields of each table by the name the engine knows it under. */
  tables: ReadonlyMap<string, readonly SqlField[]>;
  /** Scalar functions by lower-case engine name. */
  functions: Readonly<Record<string, SqlFunction>>;
}

interface Source {
  alias: string;
  fields: readonly SqlField[];
}

type Ctes = ReadonlyMap<string, readonly SqlField[]>;

const NULL_TYPE: ResultType = { type: "Null", nullable: true };
const BOOLEAN: ResultType = { type: "Boolean", nullable: false };

function lookUpTable(name: string, input: InferenceInput, ctes: Ctes): readonly SqlField[] {
  const fields = ctes.get(name) ?? input.tables.get(name);
  if (!fields) throw new SqlInputError("TABLE_NOT_FOUND", `table '${name}' not found`);
  return fields;
}

function withNullable(fields: readonly SqlField[], nullable: boolean): SqlField[] {
  return fields.map((field) => ({ ...field, nullable: field.nullable || nullable }));
}

export function inferStatement(statement: Statement, input: InferenceInput, ctes: Ctes = new Map()): SqlField[] {
  if (statement.type === "with") {
    const scoped = new Map(ctes);
    for (const cte of statement.ctes) scoped.set(cte.name, inferStatement(cte.query, input, scoped));
    return inferStatement(statement.query, input, scoped);
  }
  if (statement.type === "compound") {
    const left = inferStatement(statement.left, input, ctes);
    const right = inferStatement(statement.right, input, ctes);
    return left.map((field, i) => ({ ...field, nullable: field.nullable || (right[i]?.nullable ?? true) }));
  }
  return inferSelect(statement, input, ctes);
}

function inferSelect(select: SelectStatement, input: InferenceInput, ctes: Ctes): SqlField[] {
  const sources: Source[] = [];
  const from = select.from;
  if (from.type === "table") sources.push({ alias: from.alias ?? from.table, fields: lookUpTable(from.table, input, ctes) });
  else if (from.type === "subquery") sources.push({ alias: from.alias ?? "", fields: inferStatement(from.query, input, ctes) });
  else throw new SqlInputError("INVALID_PLAN", `table function ${from.funcName} is not supported in derived schemas`);
  for (const join of select.joins) {
    const fields = lookUpTable(join.table, input, ctes);
    const right: Source = { alias: join.alias ?? join.table, fields };
    if (join.joinType === "LEFT" || join.joinType === "FULL") right.fields = withNullable(fields, true);
    if (join.joinType === "RIGHT" || join.joinType === "FULL") {
      for (const source of sources) source.fields = withNullable(source.fields, true);
    }
    sources.push(right);
  }
  const out: SqlField[] = [];
  for (const column of select.columns) {
    if (column.type === "star") {
      for (const source of sources) {
        if (column.table === undefined || column.table === source.alias) out.push(...source.fields);
      }
      continue;
    }
    const result = inferExpr(column.expr, sources, input, ctes);
    out.push({ name: column.alias ?? derivedAlias(column.expr), type: result.type, nullable: result.nullable });
  }
  return out;
}

function findColumn(node: { name: string; prefix?: string }, sources: readonly Source[]): ResultType {
  if (node.prefix !== undefined) {
    const source = sources.find((s) => s.alias === node.prefix);
    if (source) {
      const field = source.fields.find((f) => f.name === node.name);
      if (!field) throw new SqlInputError("INVALID_PLAN", `column '${node.prefix}.${node.name}' not found`);
      return field;
    }
    throw new SqlInputError("INVALID_PLAN", `'${node.prefix}' is not a table in scope`);
  }
  for (const source of sources) {
    const field = source.fields.find((f) => f.name === node.name);
    if (field) return field;
  }
  throw new SqlInputError("INVALID_PLAN", `column '${node.name}' not found`);
}

const STRING_FUNCTIONS = new Set(["UPPER", "LOWER", "CONCAT", "SUBSTRING", "SUBSTR", "TRIM", "REPLACE", "LEFT", "RIGHT", "STRING_AGG", "REGEXP_SUBSTR", "REGEXP_EXTRACT", "REGEXP_REPLACE"]);
const INTEGER_FUNCTIONS = new Set(["LENGTH", "INSTR", "POSITION", "STRPOS", "ARRAY_LENGTH", "CARDINALITY"]);
const FLOAT_FUNCTIONS = new Set(["AVG", "MEDIAN", "STDDEV_POP", "STDDEV_SAMP", "PERCENTILE_CONT", "APPROX_QUANTILE", "EXP", "LN", "LOG10", "POW", "POWER", "SQRT", "SIN", "COS", "TAN", "COT", "ASIN", "ACOS", "ATAN", "ATAN2", "DEGREES", "RADIANS", "PI", "RAND", "RANDOM", "ROUND", "FLOOR", "CEIL", "CEILING"]);

function inferExpr(node: ExprNode, sources: readonly Source[], input: InferenceInput, ctes: Ctes): ResultType {
  const infer = (child: ExprNode) => inferExpr(child, sources, input, ctes);
  switch (node.type) {
    case "literal": {
      const value = node.value;
      if (value === null) return NULL_TYPE;
      if (typeof value === "string") return { type: "Utf8", nullable: false };
      if (typeof value === "boolean") return BOOLEAN;
      if (typeof value === "bigint") return { type: "Int64", nullable: false };
      if (typeof value === "number") return { type: Number.isInteger(value) ? "Int64" : "Float64", nullable: false };
      return { type: "Utf8", nullable: true };
    }
    case "identifier":
      return findColumn(node, sources);
    case "unary":
      if (node.op === "-") return infer(node.argument);
      infer(node.argument);
      return BOOLEAN;
    case "binary": {
      const left = infer(node.left);
      const right = infer(node.right);
      if (["+", "-", "*", "/", "%"].includes(node.op)) {
        const integer = node.op !== "/" && isIntegerType(left.type) && isIntegerType(right.type);
        return { type: integer ? "Int64" : "Float64", nullable: left.nullable || right.nullable || node.op === "/" || node.op === "%" };
      }
      return BOOLEAN;
    }
    case "cast": {
      const arg = infer(node.expr);
      const type: SqlType =
        node.toType === "BIGINT" ? "Int64"
        : node.toType === "INT" || node.toType === "INTEGER" ? "Int64"
        : node.toType === "FLOAT" || node.toType === "REAL" || node.toType === "DOUBLE" ? "Float64"
        : node.toType === "BOOLEAN" || node.toType === "BOOL" ? "Boolean"
        : "Utf8";
      return { type, nullable: arg.nullable };
    }
    case "function": {
      const name = node.funcName.toLowerCase();
      const udf = input.functions[name];
      const args = node.args.filter((arg) => arg.type !== "star");
      if (udf) return udf.resultType(node.args, args.map(infer));
      const upper = node.funcName.toUpperCase();
      const argTypes = args.map(infer);
      if (upper === "COUNT") return { type: "Int64", nullable: false };
      if (upper === "SUM") return { type: argTypes[0] && isIntegerType(argTypes[0].type) ? "Int64" : "Float64", nullable: true };
      if (upper === "MIN" || upper === "MAX") return { type: argTypes[0]?.type ?? "Null", nullable: true };
      if (upper === "COALESCE") {
        const typed = argTypes.find((t) => t.type !== "Null") ?? NULL_TYPE;
        return { type: typed.type, nullable: argTypes.every((t) => t.nullable) };
      }
      if (upper === "NULLIF") return { type: argTypes[0]?.type ?? "Null", nullable: true };
      if (upper === "GREATEST" || upper === "LEAST") return { type: argTypes[0]?.type ?? "Null", nullable: argTypes.some((t) => t.nullable) };
      if (upper === "ABS" || upper === "SIGN" || upper === "MOD") return { type: argTypes[0]?.type ?? "Float64", nullable: argTypes.some((t) => t.nullable) };
      if (STRING_FUNCTIONS.has(upper)) return { type: "Utf8", nullable: argTypes.some((t) => t.nullable) };
      if (INTEGER_FUNCTIONS.has(upper)) return { type: "Int64", nullable: argTypes.some((t) => t.nullable) };
      if (FLOAT_FUNCTIONS.has(upper)) return { type: "Float64", nullable: true };
      if (upper === "BLOCK_NUM") return { type: "UInt64", nullable: false };
      throw new SqlInputError("FUNCTION_NOT_FOUND", `function ${node.funcName} has no known result type`);
    }
    case "window": {
      const upper = node.funcName.toUpperCase();
      if (["ROW_NUMBER", "RANK", "DENSE_RANK", "COUNT"].includes(upper)) return { type: "Int64", nullable: false };
      const first = node.args[0];
      return first ? { type: infer(first).type, nullable: true } : NULL_TYPE;
    }
    case "case": {
      const results = node.whenClauses.map((when) => infer(when.result));
      const elseType = node.elseResult ? infer(node.elseResult) : NULL_TYPE;
      const typed = [...results, elseType].find((t) => t.type !== "Null") ?? NULL_TYPE;
      return { type: typed.type, nullable: [...results, elseType].some((t) => t.nullable) };
    }
    case "subquery": {
      const [first] = inferStatement(node.subquery, input, ctes);
      return { type: first?.type ?? "Null", nullable: true };
    }
    case "in":
    case "in valuelist":
    case "exists":
    case "not exists":
      return BOOLEAN;
    case "interval":
      return { type: { Duration: "Millisecond" }, nullable: false };
    case "star":
      return NULL_TYPE;
  }
}
