/**
 * Rows as JSON Lines with the value encodings of the original's JSON Lines
 * server (arrow-json's writer, derived-datasets.md §5.1), so its clients
 * parse our output: integers and decimals as bare JSON numbers (exact, even
 * above 2^53), binary as lower-case hex without `0x`, timestamps as RFC 3339
 * in UTC, structs as objects, lists as arrays (nulls inside as `null`),
 * NaN/±Inf as `null`, and a NULL column value leaves its key out.
 *
 * `bigNumbersAsStrings` is the opt-in for JavaScript clients, whose
 * JSON.parse rounds integers above 2^53: then 64-bit integers outside the
 * safe range and every decimal are rendered as JSON strings.
 */
import { isBinaryType, isTimestampType, type EngineValue } from "./sql-values";
import { isDecimalType, isList, isStruct, listItem, type SqlField, type SqlType } from "./sql-types";

export interface JsonLinesOptions {
  bigNumbersAsStrings: boolean;
}

function timestampText(date: Date): string {
  return Number.isNaN(date.getTime()) ? "null" : JSON.stringify(date.toISOString().replace(".000Z", "Z"));
}

function integerText(value: bigint | number, asString: boolean, decimal: boolean): string {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return "null";
    if (!Number.isInteger(value)) return String(value);
    value = BigInt(value);
  }
  const text = value.toString();
  const unsafe = value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER);
  return asString && (decimal || unsafe) ? `"${text}"` : text;
}

/** One value of the given type as JSON text; null for a SQL NULL (the caller leaves the key out). */
export function valueJson(value: EngineValue, type: SqlType, options: JsonLinesOptions): string | null {
  if (value === null || value === undefined) return null;
  if (isStruct(type)) {
    const record = value as Record<string, EngineValue>;
    const parts: string[] = [];
    for (const field of type.Struct) {
      const text = valueJson(record[field.name] ?? null, field.type, options);
      if (text !== null) parts.push(`${JSON.stringify(field.name)}:${text}`);
    }
    return `{${parts.join(",")}}`;
  }
  if (isList(type)) {
    const item = listItem(type);
    return `[${(value as EngineValue[]).map((v) => valueJson(v, item.type, options) ?? "null").join(",")}]`;
  }
  if (isBinaryType(type) && typeof value === "string") return JSON.stringify(value.startsWith("0x") ? value.slice(2) : value);
  if (isTimestampType(type) && value instanceof Date) return timestampText(value);
  if (typeof value === "bigint" || typeof value === "number") {
    if (type === "Float32" || type === "Float64" || type === "Float16") {
      return Number.isFinite(Number(value)) ? String(Number(value)) : "null";
    }
    return integerText(value, options.bigNumbersAsStrings, isDecimalType(type));
  }
  if (value instanceof Date) return timestampText(value);
  if (value instanceof Uint8Array) return JSON.stringify(Array.from(value, (b) => b.toString(16).padStart(2, "0")).join(""));
  if (typeof value === "object") {
    // A value whose type inference could not name (e.g. a nested result of an untyped function): plain JSON.
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  }
  return JSON.stringify(value);
}

/** One row as a JSON object line, keys in column order, NULLs left out. */
export function rowJsonLine(row: Record<string, EngineValue>, fields: readonly SqlField[], options: JsonLinesOptions): string {
  const parts: string[] = [];
  for (const field of fields) {
    const text = valueJson(row[field.name] ?? null, field.type, options);
    if (text !== null) parts.push(`${JSON.stringify(field.name)}:${text}`);
  }
  return `{${parts.join(",")}}\n`;
}
