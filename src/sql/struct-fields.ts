/**
 * `decoded.value`, a field of a struct column, parses in squirreling as the
 * column `value` of a table `decoded`, and its column pushdown then drops
 * `decoded` from the subquery that computes it. DataFusion resolves such a
 * name as a field access when `decoded` is no table in scope, so do that:
 * every qualified column whose qualifier names no table of its own or an
 * enclosing query becomes `struct_field(decoded, 'value')`.
 */
import type { ExprNode, SelectStatement } from "squirreling";
import type { SqlFunction } from "./udfs/evm-functions";
import { isStruct } from "./sql-types";
import { SqlInputError } from "./sql-errors";

export const STRUCT_FIELD = "struct_field";

function selectAliases(select: SelectStatement): string[] {
  const aliases: string[] = [];
  const from = select.from;
  if (from.type === "table") aliases.push(from.alias ?? from.table);
  else if (from.alias) aliases.push(from.alias);
  for (const join of select.joins) aliases.push(join.alias ?? join.table);
  return aliases;
}

function isNode(value: unknown): value is Record<string, unknown> & { type?: unknown } {
  return typeof value === "object" && value !== null && !(value instanceof Date);
}

function walk(node: Record<string, unknown>, scopes: readonly string[][]): void {
  const inner = node.type === "select" ? [...scopes, selectAliases(node as unknown as SelectStatement)] : scopes;
  for (const [key, value] of Object.entries(node)) {
    const children = Array.isArray(value) ? value : [value];
    children.forEach((child, index) => {
      if (!isNode(child)) return;
      const identifier = child as { type?: unknown; prefix?: string; name?: string };
      if (identifier.type === "identifier" && identifier.prefix !== undefined && !inner.some((aliases) => aliases.includes(identifier.prefix!))) {
        const replacement: ExprNode = {
          type: "function",
          funcName: STRUCT_FIELD,
          args: [
            { type: "identifier", name: identifier.prefix, positionStart: 0, positionEnd: 0 },
            { type: "literal", value: identifier.name ?? "", positionStart: 0, positionEnd: 0 },
          ],
          positionStart: 0,
          positionEnd: 0,
        };
        if (Array.isArray(value)) value[index] = replacement;
        else node[key] = replacement;
        return;
      }
      walk(child, inner);
    });
  }
}

/** Rewrites the statement in place. */
export function rewriteStructAccess(statement: object): void {
  walk(statement as Record<string, unknown>, []);
}

export const structField: SqlFunction = {
  minArgs: 2,
  maxArgs: 2,
  resultType(args, argTypes) {
    const struct = argTypes[0];
    const name = args[1]?.type === "literal" ? String(args[1].value) : "";
    if (!struct || !isStruct(struct.type)) throw new SqlInputError("INVALID_PLAN", `'${args[0]?.type === "identifier" ? args[0].name : "?"}' is neither a table nor a struct column`);
    const field = struct.type.Struct.find((f) => f.name === name);
    if (!field) throw new SqlInputError("INVALID_PLAN", `the struct has no field '${name}'`);
    return { type: field.type, nullable: field.nullable || struct.nullable };
  },
  apply(struct, name) {
    if (struct === null || typeof struct !== "object") return null;
    return (struct as Record<string, unknown>)[String(name)] as never ?? null;
  },
};
