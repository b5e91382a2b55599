import type { DecodedArray } from "hyparquet";
import type { ColumnValues, ParquetColumn } from "./columns";

/**
 * Checks one column's values against its type, turns them into the physical
 * values the page encoder writes (signed 64/32-bit integers, big-endian
 * decimal bytes) and computes the chunk statistics, in one pass per column.
 */

export interface ColumnStatistics {
  nullCount: number;
  /** min_value / max_value as Parquet stores them; absent when every value is null. */
  min?: Uint8Array;
  max?: Uint8Array;
  minExact: boolean;
  maxExact: boolean;
  /**
   * True when the column sorts as signed values: then the deprecated min/max
   * fields are written too, as parquet-rs does, for readers that know only those.
   */
  signedOrder: boolean;
}

export interface EncodedColumn {
  values: DecodedArray;
  /** One level per row for a nullable column (0 = null, 1 = value); empty otherwise. */
  definitionLevels: number[];
  statistics: ColumnStatistics;
}

export class ColumnValueError extends Error {
  override name = "ColumnValueError";
}

/** Byte-array bounds longer than this are truncated (parquet-rs' default length). */
export const STATISTICS_TRUNCATE_LENGTH = 64;

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const TWO_POW_64 = 1n << 64n;

function invalid(column: ParquetColumn, row: number, value: unknown, expected: string): ColumnValueError {
  const shown = typeof value === "bigint" ? `${value}n` : value instanceof Uint8Array ? `${value.length} bytes` : String(value);
  return new ColumnValueError(`column ${column.name}, row ${row}: expected ${expected}, got ${shown}`);
}

function nullNotAllowed(column: ParquetColumn, row: number): ColumnValueError {
  return new ColumnValueError(`column ${column.name}, row ${row}: null in a non-nullable column`);
}

function int64Bytes(value: bigint): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigInt64(0, BigInt.asIntN(64, value), true);
  return bytes;
}

function int32Bytes(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setInt32(0, value | 0, true);
  return bytes;
}

function allPresent(rows: number): number[] {
  return new Array<number>(rows).fill(1);
}

function exactStatistics(nullCount: number, signedOrder: boolean, min?: Uint8Array, max?: Uint8Array): ColumnStatistics {
  return { nullCount, min, max, minExact: true, maxExact: true, signedOrder };
}

export function encodeColumn(column: ParquetColumn, values: ColumnValues, rows: number): EncodedColumn {
  if (values.length !== rows) {
    throw new ColumnValueError(`column ${column.name} has ${values.length} values, expected ${rows}`);
  }
  switch (column.type.kind) {
    case "UInt64":
      return encodeInt64(column, values, 0n, U64_MAX, "an unsigned 64-bit bigint", false);
    case "Timestamp":
      return encodeInt64(column, values, I64_MIN, I64_MAX, "a signed 64-bit bigint", true);
    case "UInt32":
      return encodeUInt32(column, values);
    case "Int32":
      return encodeInt32(column, values);
    case "Boolean":
      return encodeBoolean(column, values);
    case "Binary":
      return encodeBytes(column, values, undefined);
    case "FixedSizeBinary":
      return encodeBytes(column, values, column.type.width);
    case "Decimal128":
      return encodeDecimal(column, values, column.type.precision, column.type.width);
  }
}

function encodeInt64(
  column: ParquetColumn,
  values: ColumnValues,
  lowest: bigint,
  highest: bigint,
  expected: string,
  signedOrder: boolean,
): EncodedColumn {
  const rows = values.length;
  let min = highest;
  let max = lowest;
  let nullCount = 0;
  let definitionLevels: number[] = [];
  let physical: BigInt64Array | (bigint | null)[];

  if (values instanceof BigUint64Array && !signedOrder) {
    for (let i = 0; i < rows; i++) {
      const value = values[i] as bigint;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    // Same bits, read as the signed INT64 that Parquet stores.
    physical = new BigInt64Array(values.buffer, values.byteOffset, rows);
    if (column.nullable) definitionLevels = allPresent(rows);
  } else if (!column.nullable) {
    const out = new BigInt64Array(rows);
    for (let i = 0; i < rows; i++) {
      const value = values[i];
      if (typeof value !== "bigint" || value < lowest || value > highest) {
        throw value === null ? nullNotAllowed(column, i) : invalid(column, i, value, expected);
      }
      out[i] = value; // a BigInt64Array stores values >= 2^63 as their two's complement
      if (value < min) min = value;
      if (value > max) max = value;
    }
    physical = out;
  } else {
    const out = new Array<bigint | null>(rows);
    definitionLevels.length = rows;
    for (let i = 0; i < rows; i++) {
      const value = values[i];
      if (value === null) {
        out[i] = null;
        definitionLevels[i] = 0;
        nullCount++;
        continue;
      }
      if (typeof value !== "bigint" || value < lowest || value > highest) throw invalid(column, i, value, expected);
      out[i] = value > I64_MAX ? value - TWO_POW_64 : value;
      definitionLevels[i] = 1;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    physical = out;
  }
  const any = nullCount < rows;
  return {
    values: physical,
    definitionLevels,
    statistics: exactStatistics(nullCount, signedOrder, any ? int64Bytes(min) : undefined, any ? int64Bytes(max) : undefined),
  };
}

function encodeUInt32(column: ParquetColumn, values: ColumnValues): EncodedColumn {
  const rows = values.length;
  let min = 0xffffffff;
  let max = 0;
  let nullCount = 0;
  let definitionLevels: number[] = [];
  let physical: Int32Array | (number | null)[];

  if (values instanceof Uint32Array) {
    for (let i = 0; i < rows; i++) {
      const value = values[i] as number;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    physical = new Int32Array(values.buffer, values.byteOffset, rows);
    if (column.nullable) definitionLevels = allPresent(rows);
  } else if (!column.nullable) {
    const out = new Int32Array(rows);
    for (let i = 0; i < rows; i++) {
      const value = values[i];
      // `>>> 0` maps exactly the integers in [0, 2^32) to themselves
      if (typeof value !== "number" || value >>> 0 !== value) {
        throw value === null ? nullNotAllowed(column, i) : invalid(column, i, value, "an integer in [0, 2^32)");
      }
      out[i] = value | 0;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    physical = out;
  } else {
    const out = new Array<number | null>(rows);
    definitionLevels.length = rows;
    for (let i = 0; i < rows; i++) {
      const value = values[i];
      if (value === null) {
        out[i] = null;
        definitionLevels[i] = 0;
        nullCount++;
        continue;
      }
      if (typeof value !== "number" || value >>> 0 !== value) throw invalid(column, i, value, "an integer in [0, 2^32)");
      out[i] = value | 0;
      definitionLevels[i] = 1;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    physical = out;
  }
  const any = nullCount < rows;
  return {
    values: physical,
    definitionLevels,
    statistics: exactStatistics(nullCount, false, any ? int32Bytes(min) : undefined, any ? int32Bytes(max) : undefined),
  };
}

function encodeInt32(column: ParquetColumn, values: ColumnValues): EncodedColumn {
  const rows = values.length;
  let min = 0x7fffffff;
  let max = -0x80000000;
  let nullCount = 0;
  const definitionLevels: number[] = column.nullable ? new Array<number>(rows) : [];
  if (!(values instanceof Int32Array)) {
    for (let i = 0; i < rows; i++) {
      const value = values[i];
      if (value === null && column.nullable) {
        definitionLevels[i] = 0;
        nullCount++;
        continue;
      }
      // `| 0` maps exactly the i32 integers to themselves
      if (typeof value !== "number" || (value | 0) !== value) {
        throw value === null ? nullNotAllowed(column, i) : invalid(column, i, value, "a 32-bit signed integer");
      }
      if (column.nullable) definitionLevels[i] = 1;
      if (value < min) min = value;
      if (value > max) max = value;
    }
  } else {
    for (let i = 0; i < rows; i++) {
      const value = values[i] as number;
      if (column.nullable) definitionLevels[i] = 1;
      if (value < min) min = value;
      if (value > max) max = value;
    }
  }
  const any = nullCount < rows;
  return {
    values: values as DecodedArray,
    definitionLevels,
    statistics: exactStatistics(nullCount, true, any ? int32Bytes(min) : undefined, any ? int32Bytes(max) : undefined),
  };
}

function encodeBoolean(column: ParquetColumn, values: ColumnValues): EncodedColumn {
  const rows = values.length;
  let sawTrue = false;
  let sawFalse = false;
  let nullCount = 0;
  const definitionLevels: number[] = column.nullable ? new Array<number>(rows) : [];
  for (let i = 0; i < rows; i++) {
    const value = values[i];
    if (value === null && column.nullable) {
      definitionLevels[i] = 0;
      nullCount++;
      continue;
    }
    if (value === true) sawTrue = true;
    else if (value === false) sawFalse = true;
    else throw value === null ? nullNotAllowed(column, i) : invalid(column, i, value, "a boolean");
    if (column.nullable) definitionLevels[i] = 1;
  }
  const any = nullCount < rows;
  return {
    values: values as DecodedArray,
    definitionLevels,
    statistics: exactStatistics(
      nullCount,
      false,
      any ? Uint8Array.of(sawFalse ? 0 : 1) : undefined,
      any ? Uint8Array.of(sawTrue ? 1 : 0) : undefined,
    ),
  };
}

/** Unsigned lexicographic order, the order Parquet defines for byte arrays. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < length; i++) {
    const diff = (a[i] as number) - (b[i] as number);
    if (diff !== 0) return diff;
  }
  return a.length - b.length;
}

/** The smallest bound of at most `limit` bytes that is >= `bytes`, or undefined when none is shorter. */
function truncatedUpperBound(bytes: Uint8Array, limit: number): Uint8Array | undefined {
  for (let i = limit - 1; i >= 0; i--) {
    if (bytes[i] !== 0xff) {
      const bound = bytes.slice(0, i + 1);
      bound[i] = (bound[i] as number) + 1;
      return bound;
    }
  }
  return undefined;
}

function encodeBytes(column: ParquetColumn, values: ColumnValues, width: number | undefined): EncodedColumn {
  const rows = values.length;
  let min: Uint8Array | undefined;
  let max: Uint8Array | undefined;
  let nullCount = 0;
  const definitionLevels: number[] = column.nullable ? new Array<number>(rows) : [];
  const expected = width === undefined ? "a Uint8Array" : `a Uint8Array of ${width} bytes`;
  for (let i = 0; i < rows; i++) {
    const value = values[i];
    if (value === null && column.nullable) {
      definitionLevels[i] = 0;
      nullCount++;
      continue;
    }
    if (!(value instanceof Uint8Array) || (width !== undefined && value.length !== width)) {
      throw value === null ? nullNotAllowed(column, i) : invalid(column, i, value, expected);
    }
    if (column.nullable) definitionLevels[i] = 1;
    if (min === undefined || compareBytes(value, min) < 0) min = value;
    if (max === undefined || compareBytes(value, max) > 0) max = value;
  }

  const statistics: ColumnStatistics = { nullCount, minExact: true, maxExact: true, signedOrder: false };
  if (min !== undefined && max !== undefined) {
    // Fixed-width bounds keep their width; long binary bounds are truncated so
    // one large value does not bloat the footer.
    statistics.min = min.slice();
    statistics.max = max.slice();
    if (width === undefined && min.length > STATISTICS_TRUNCATE_LENGTH) {
      statistics.min = min.slice(0, STATISTICS_TRUNCATE_LENGTH);
      statistics.minExact = false;
    }
    const upper = width === undefined && max.length > STATISTICS_TRUNCATE_LENGTH ? truncatedUpperBound(max, STATISTICS_TRUNCATE_LENGTH) : undefined;
    if (upper !== undefined) {
      statistics.max = upper;
      statistics.maxExact = false;
    }
  }
  return { values: values as DecodedArray, definitionLevels, statistics };
}

/** Big-endian two's complement of `value` in `width` bytes at `offset`. */
function writeDecimal(view: DataView, offset: number, width: number, value: bigint): void {
  if (width === 16 && value >= 0n && value <= U64_MAX) {
    view.setBigUint64(offset + 8, value); // the high half stays zero
    return;
  }
  let rest = value;
  for (let i = width - 1; i >= 0; i--) {
    view.setUint8(offset + i, Number(rest & 0xffn));
    rest >>= 8n;
  }
}

function decimalBytes(value: bigint, width: number): Uint8Array {
  const bytes = new Uint8Array(width);
  writeDecimal(new DataView(bytes.buffer), 0, width, value);
  return bytes;
}

function encodeDecimal(column: ParquetColumn, values: ColumnValues, precision: number, width: number): EncodedColumn {
  const rows = values.length;
  const limit = 10n ** BigInt(precision);
  const buffer = new ArrayBuffer(rows * width);
  const view = new DataView(buffer);
  const physical = new Array<Uint8Array | null>(rows);
  const definitionLevels: number[] = column.nullable ? new Array<number>(rows) : [];
  let min: bigint | undefined;
  let max: bigint | undefined;
  let nullCount = 0;
  for (let i = 0; i < rows; i++) {
    const value = values[i];
    if (value === null && column.nullable) {
      physical[i] = null;
      definitionLevels[i] = 0;
      nullCount++;
      continue;
    }
    if (typeof value !== "bigint" || value >= limit || value <= -limit) {
      throw value === null ? nullNotAllowed(column, i) : invalid(column, i, value, `a bigint with at most ${precision} digits`);
    }
    writeDecimal(view, i * width, width, value);
    physical[i] = new Uint8Array(buffer, i * width, width);
    if (column.nullable) definitionLevels[i] = 1;
    if (min === undefined || value < min) min = value;
    if (max === undefined || value > max) max = value;
  }
  return {
    values: physical,
    definitionLevels,
    statistics: exactStatistics(
      nullCount,
      true,
      min === undefined ? undefined : decimalBytes(min, width),
      max === undefined ? undefined : decimalBytes(max, width),
    ),
  };
}
