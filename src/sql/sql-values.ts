/**
 * Values inside the engine. squirreling compares with `==` and hashes join
 * keys by value, so binary values travel as lower-case `0x` hex strings (two
 * equal hashes are equal strings; `0x…` literals in SQL become the same
 * strings), timestamps as Dates, 64-bit integers and decimals as bigint. The
 * Arrow type of each column (from the manifest or the inferred schema) says
 * how to turn a value back into bytes for Parquet or into JSON.
 */
import type { ArrowDataType, TimeUnit as ArrowTimeUnit } from "../domain/arrow";
import { bytesToHex, hexToBytes } from "../domain/hex";
import type { ParquetValue } from "../parquet";
import type { SqlPrimitive } from "squirreling";
import type { SqlField, SqlType } from "./sql-types";

export type EngineValue = SqlPrimitive;

export function isBinaryType(type: SqlType): boolean {
  return type === "Binary" || type === "LargeBinary" || type === "BinaryView" || (typeof type === "object" && "FixedSizeBinary" in type);
}

export function isTimestampType(type: SqlType): type is { Timestamp: [ArrowTimeUnit, string | null] } {
  return typeof type === "object" && "Timestamp" in type;
}

const UNIT_PER_MS: Record<string, bigint> = { Second: 0n, Millisecond: 1n, Microsecond: 1_000n, Nanosecond: 1_000_000n };

/** A Parquet value (reader contract) of a column of the given Arrow type, as the engine sees it. */
export type ToEngine = (value: ParquetValue) => EngineValue;

export function toEngine(field: SqlField): ToEngine {
  const type = field.type;
  if (isBinaryType(type)) return (v) => (v instanceof Uint8Array ? bytesToHex(v) : v);
  if (isTimestampType(type)) {
    const unit = type.Timestamp[0];
    return (v) => {
      if (typeof v !== "bigint") return v;
      return unit === "Second" ? new Date(Number(v) * 1000) : new Date(Number(v / (UNIT_PER_MS[unit] ?? 1n)));
    };
  }
  return (v) => v;
}

/** An engine value as the Parquet writer takes it for a column of the given type. */
export function toColumnValue(value: EngineValue, type: ArrowDataType): ParquetValue | string {
  if (value === null || value === undefined) return null;
  if (isBinaryType(type)) {
    if (typeof value === "string") return hexToBytes(value.startsWith("0x") ? value : `0x${value}`);
    if (value instanceof Uint8Array) return value;
    throw new TypeError(`expected binary, got ${typeof value}`);
  }
  if (isTimestampType(type)) {
    const unit = type.Timestamp[0];
    const ms = value instanceof Date ? BigInt(value.getTime()) : BigInt(value as number | bigint);
    return unit === "Second" ? ms / 1000n : ms * (UNIT_PER_MS[unit] ?? 1n);
  }
  switch (type) {
    case "UInt64":
    case "Int64":
      return typeof value === "bigint" ? value : BigInt(value as number);
    case "Utf8":
    case "LargeUtf8":
    case "Utf8View":
      return typeof value === "string" ? value : String(value);
    case "Boolean":
      return Boolean(value);
    case "Float32":
    case "Float64":
      return Number(value);
    default:
      if (typeof type === "object" && ("Decimal128" in type || "Decimal256" in type)) {
        return typeof value === "bigint" ? value : BigInt(value as number | string);
      }
      return typeof value === "bigint" ? Number(value) : (value as number);
  }
}
