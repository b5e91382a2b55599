import type { ColumnValues, ParquetColumn } from "./columns";
import type { Scratch } from "./scratch";

/**
 * Checks one column's values against its type and lays the non-null values
 * out back to back in Parquet's PLAIN encoding, in one pass over the caller's
 * values. Everything after that (statistics of byte columns, dictionary,
 * pages, compression) reads this contiguous buffer instead of thousands of
 * scattered Uint8Array objects, which is where encoding spent its time.
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

export interface PlainColumn {
  rows: number;
  /** Number of non-null values, i.e. of values in `plain`. */
  count: number;
  /** Per row 1 (value) or 0 (null) for a nullable column; null for a required one. */
  definitionLevels: Uint8Array | null;
  /**
   * The non-null values in PLAIN encoding: little-endian INT32/INT64, raw
   * FIXED_LEN_BYTE_ARRAY bytes, u32 length + bytes for BYTE_ARRAY, and one
   * byte (0/1) per BOOLEAN, which the page writer bit-packs.
   */
  plain: Uint8Array;
  /** Bytes per value in `plain`; 0 for BYTE_ARRAY, whose values start at `starts`. */
  width: number;
  /** BYTE_ARRAY only: offset in `plain` of each value's length prefix, plus the end. */
  starts: Uint32Array | null;
  statistics: ColumnStatistics;
}

export class ColumnValueError extends Error {
  override name = "ColumnValueError";
}

/** Byte-array bounds longer than this are truncated (parquet-rs' default length). */
const STATISTICS_TRUNCATE_LENGTH = 64;

// Typed-array views are written as PLAIN bytes directly, which is right only on little-endian hosts.
if (new Uint8Array(Uint16Array.of(1).buffer)[0] !== 1) throw new Error("the Parquet writer needs a little-endian host");

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

function invalid(column: ParquetColumn, row: number, value: unknown, expected: string): ColumnValueError {
  if (value === null) return new ColumnValueError(`column ${column.name}, row ${row}: null in a non-nullable column`);
  const shown = typeof value === "bigint" ? `${value}n` : value instanceof Uint8Array ? `${value.length} bytes` : String(value);
  return new ColumnValueError(`column ${column.name}, row ${row}: expected ${expected}, got ${shown}`);
}

function int64Bytes(value: bigint): Uint8Array {
  return new Uint8Array(BigInt64Array.of(BigInt.asIntN(64, value)).buffer);
}

function int32Bytes(value: number): Uint8Array {
  return new Uint8Array(Int32Array.of(value | 0).buffer);
}

function bytesOf(array: BigInt64Array | Int32Array, count: number): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, count * array.BYTES_PER_ELEMENT);
}

/** The returned buffers are `scratch` views: valid until the next column is encoded. */
export function encodeColumn(column: ParquetColumn, values: ColumnValues, rows: number, scratch: Scratch): PlainColumn {
  if (values.length !== rows) {
    throw new ColumnValueError(`column ${column.name} has ${values.length} values, expected ${rows}`);
  }
  switch (column.type.kind) {
    case "UInt64":
      return encodeInt64(column, values, scratch, 0n, U64_MAX, "an unsigned 64-bit bigint", false);
    case "Int64":
    case "Timestamp":
      return encodeInt64(column, values, scratch, I64_MIN, I64_MAX, "a signed 64-bit bigint", true);
    case "Float64":
      return encodeDouble(column, values, scratch);
    case "UInt32":
      return encodeInt32(column, values, scratch, false);
    case "Int32":
      return encodeInt32(column, values, scratch, true);
    case "Boolean":
      return encodeBoolean(column, values, scratch);
    case "FixedSizeBinary":
      return encodeFixed(column, values, scratch, column.type.width);
    case "Binary":
      return encodeBinary(column, values, scratch);
    case "Utf8":
      return encodeBinary(column, utf8Values(column, values), scratch);
    case "Decimal":
      return encodeDecimal(column, values, scratch, column.type.precision, column.type.width);
  }
}

function plainColumn(
  rows: number,
  count: number,
  definitionLevels: Uint8Array | null,
  plain: Uint8Array,
  width: number,
  statistics: ColumnStatistics,
): PlainColumn {
  return { rows, count, definitionLevels, plain, width, starts: null, statistics };
}

function exactStatistics(nullCount: number, signedOrder: boolean, min?: Uint8Array, max?: Uint8Array): ColumnStatistics {
  return { nullCount, min, max, minExact: true, maxExact: true, signedOrder };
}

function encodeInt64(
  column: ParquetColumn,
  values: ColumnValues,
  scratch: Scratch,
  lowest: bigint,
  highest: bigint,
  expected: string,
  signedOrder: boolean,
): PlainColumn {
  const rows = values.length;
  const levels = column.nullable ? scratch.uint8("levels", rows) : null;
  let min = highest;
  let max = lowest;
  let count = 0;
  let out: BigInt64Array;
  if (values instanceof BigUint64Array && !signedOrder) {
    for (let i = 0; i < rows; i++) {
      const value = values[i] as bigint;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    // the same bits read as the signed INT64 Parquet stores: no copy
    out = new BigInt64Array(values.buffer, values.byteOffset, rows);
    levels?.fill(1);
    count = rows;
  } else {
    out = scratch.bigint64("int64", rows);
    for (let i = 0; i < rows; i++) {
      const value = values[i];
      if (value === null && levels !== null) {
        levels[i] = 0;
        continue;
      }
      if (typeof value !== "bigint" || value < lowest || value > highest) throw invalid(column, i, value, expected);
      out[count++] = value; // values >= 2^63 are stored as their two's complement
      if (levels !== null) levels[i] = 1;
      if (value < min) min = value;
      if (value > max) max = value;
    }
  }
  const any = count > 0;
  return plainColumn(
    rows,
    count,
    levels,
    bytesOf(out, count),
    8,
    exactStatistics(rows - count, signedOrder, any ? int64Bytes(min) : undefined, any ? int64Bytes(max) : undefined),
  );
}

function encodeInt32(column: ParquetColumn, values: ColumnValues, scratch: Scratch, signed: boolean): PlainColumn {
  const rows = values.length;
  const levels = column.nullable ? scratch.uint8("levels", rows) : null;
  let min = signed ? 0x7fffffff : 0xffffffff;
  let max = signed ? -0x80000000 : 0;
  let count = 0;
  let out: Int32Array;
  if ((signed && values instanceof Int32Array) || (!signed && values instanceof Uint32Array)) {
    for (let i = 0; i < rows; i++) {
      const value = values[i] as number;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    out = new Int32Array(values.buffer, values.byteOffset, rows);
    levels?.fill(1);
    count = rows;
  } else {
    out = scratch.int32("int32", rows);
    const expected = signed ? "a 32-bit signed integer" : "an integer in [0, 2^32)";
    for (let i = 0; i < rows; i++) {
      const value = values[i];
      if (value === null && levels !== null) {
        levels[i] = 0;
        continue;
      }
      // `| 0` maps exactly the i32 integers to themselves, `>>> 0` exactly those in [0, 2^32)
      if (typeof value !== "number" || (signed ? (value | 0) !== value : value >>> 0 !== value)) {
        throw invalid(column, i, value, expected);
      }
      out[count++] = value;
      if (levels !== null) levels[i] = 1;
      if (value < min) min = value;
      if (value > max) max = value;
    }
  }
  const any = count > 0;
  return plainColumn(
    rows,
    count,
    levels,
    bytesOf(out, count),
    4,
    exactStatistics(rows - count, signed, any ? int32Bytes(min) : undefined, any ? int32Bytes(max) : undefined),
  );
}

function encodeDouble(column: ParquetColumn, values: ColumnValues, scratch: Scratch): PlainColumn {
  const rows = values.length;
  const levels = column.nullable ? scratch.uint8("levels", rows) : null;
  const out = new Float64Array(rows);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let count = 0;
  for (let i = 0; i < rows; i++) {
    const value = values[i];
    if (value === null && levels !== null) {
      levels[i] = 0;
      continue;
    }
    if (typeof value !== "number") throw invalid(column, i, value, "a number");
    out[count++] = value;
    if (levels !== null) levels[i] = 1;
    // NaN has no place in an order: parquet-rs leaves it out of the bounds too.
    if (value < min) min = value;
    if (value > max) max = value;
  }
  const bounded = min <= max;
  const doubleBytes = (value: number) => new Uint8Array(Float64Array.of(value).buffer);
  return plainColumn(
    rows,
    count,
    levels,
    new Uint8Array(out.buffer, 0, count * 8),
    8,
    exactStatistics(rows - count, true, bounded ? doubleBytes(min) : undefined, bounded ? doubleBytes(max) : undefined),
  );
}

function encodeBoolean(column: ParquetColumn, values: ColumnValues, scratch: Scratch): PlainColumn {
  const rows = values.length;
  const levels = column.nullable ? scratch.uint8("levels", rows) : null;
  const out = scratch.uint8("plain", rows);
  let count = 0;
  let sawTrue = false;
  let sawFalse = false;
  for (let i = 0; i < rows; i++) {
    const value = values[i];
    if (value === null && levels !== null) {
        levels[i] = 0;
        continue;
      }
    if (value === true) sawTrue = true;
    else if (value === false) sawFalse = true;
    else throw invalid(column, i, value, "a boolean");
    out[count++] = value ? 1 : 0;
    if (levels !== null) levels[i] = 1;
  }
  const any = count > 0;
  return plainColumn(
    rows,
    count,
    levels,
    out.subarray(0, count),
    1,
    exactStatistics(rows - count, false, any ? Uint8Array.of(sawFalse ? 0 : 1) : undefined, any ? Uint8Array.of(sawTrue ? 1 : 0) : undefined),
  );
}

/** Unsigned lexicographic comparison of two ranges of `bytes`, the order Parquet defines for byte arrays. */
function compareRanges(bytes: Uint8Array, a: number, aLength: number, b: number, bLength: number): number {
  const length = aLength < bLength ? aLength : bLength;
  for (let i = 0; i < length; i++) {
    const diff = (bytes[a + i] as number) - (bytes[b + i] as number);
    if (diff !== 0) return diff;
  }
  return aLength - bLength;
}

function encodeFixed(column: ParquetColumn, values: ColumnValues, scratch: Scratch, width: number): PlainColumn {
  const rows = values.length;
  const levels = column.nullable ? scratch.uint8("levels", rows) : null;
  const plain = scratch.uint8("plain", rows * width);
  let count = 0;
  for (let i = 0; i < rows; i++) {
    const value = values[i];
    if (value === null && levels !== null) {
        levels[i] = 0;
        continue;
      }
    if (!(value instanceof Uint8Array) || value.length !== width) throw invalid(column, i, value, `a Uint8Array of ${width} bytes`);
    plain.set(value, count * width);
    count++;
    if (levels !== null) levels[i] = 1;
  }
  let min = 0;
  let max = 0;
  const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  const compare =
    width % 4 === 0
      ? (a: number, b: number): number => {
          // big-endian words order the same way as bytes, four at a time
          for (let i = 0; i < width; i += 4) {
            const x = view.getUint32(a + i);
            const y = view.getUint32(b + i);
            if (x !== y) return x < y ? -1 : 1;
          }
          return 0;
        }
      : (a: number, b: number): number => compareRanges(plain, a, width, b, width);
  for (let v = 1; v < count; v++) {
    const at = v * width;
    if (compare(at, min) < 0) min = at;
    else if (compare(at, max) > 0) max = at;
  }
  const any = count > 0;
  return plainColumn(
    rows,
    count,
    levels,
    plain.subarray(0, count * width),
    width,
    exactStatistics(
      rows - count,
      false,
      any ? plain.slice(min, min + width) : undefined,
      any ? plain.slice(max, max + width) : undefined,
    ),
  );
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

const utf8 = new TextEncoder();

/** Strings as their UTF-8 bytes: a Utf8 column is a BYTE_ARRAY column of them, ordered bytewise as UTF-8 sorts. */
function utf8Values(column: ParquetColumn, values: ColumnValues): (Uint8Array | null)[] {
  return Array.from(values as ArrayLike<unknown>, (value, row) => {
    if (value === null) return null;
    if (typeof value !== "string") throw invalid(column, row, value, "a string");
    return utf8.encode(value);
  });
}

function encodeBinary(column: ParquetColumn, values: ColumnValues, scratch: Scratch): PlainColumn {
  const rows = values.length;
  const levels = column.nullable ? scratch.uint8("levels", rows) : null;
  const starts = scratch.uint32("starts", rows + 1);
  // One pass over the values, growing the buffer when needed: each value object is read once.
  let plain = scratch.uint8("plain", Math.max(1024, rows * 36));
  let view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  let count = 0;
  let at = 0;
  for (let i = 0; i < rows; i++) {
    const value = values[i];
    if (value === null && levels !== null) {
      levels[i] = 0;
      continue;
    }
    if (!(value instanceof Uint8Array)) throw invalid(column, i, value, "a Uint8Array");
    const end = at + 4 + value.length;
    if (end > plain.length) {
      plain = scratch.growUint8("plain", Math.max(end, 2 * plain.length), at);
      view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
    }
    starts[count++] = at;
    view.setUint32(at, value.length, true);
    plain.set(value, at + 4);
    at = end;
    if (levels !== null) levels[i] = 1;
  }
  starts[count] = at;
  plain = plain.subarray(0, at);

  const statistics: ColumnStatistics = { nullCount: rows - count, minExact: true, maxExact: true, signedOrder: false };
  if (count > 0) {
    let min = 0;
    let max = 0;
    const length = (index: number): number => (starts[index + 1] as number) - (starts[index] as number) - 4;
    for (let index = 1; index < count; index++) {
      const start = (starts[index] as number) + 4;
      const size = length(index);
      if (compareRanges(plain, start, size, (starts[min] as number) + 4, length(min)) < 0) min = index;
      if (compareRanges(plain, start, size, (starts[max] as number) + 4, length(max)) > 0) max = index;
    }
    // Long bounds are truncated so that one large value does not bloat the footer.
    const minBytes = plain.subarray((starts[min] as number) + 4, starts[min + 1]);
    const maxBytes = plain.subarray((starts[max] as number) + 4, starts[max + 1]);
    statistics.min = minBytes.slice(0, STATISTICS_TRUNCATE_LENGTH);
    statistics.minExact = minBytes.length <= STATISTICS_TRUNCATE_LENGTH;
    const upper = maxBytes.length > STATISTICS_TRUNCATE_LENGTH ? truncatedUpperBound(maxBytes, STATISTICS_TRUNCATE_LENGTH) : undefined;
    statistics.max = upper ?? maxBytes.slice();
    statistics.maxExact = upper === undefined;
  }
  return { rows, count, definitionLevels: levels, plain, width: 0, starts: starts.subarray(0, count + 1), statistics };
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

function encodeDecimal(column: ParquetColumn, values: ColumnValues, scratch: Scratch, precision: number, width: number): PlainColumn {
  const rows = values.length;
  const levels = column.nullable ? scratch.uint8("levels", rows) : null;
  const limit = 10n ** BigInt(precision);
  const plain = scratch.uint8("plain", rows * width).fill(0); // writeDecimal leaves high zero bytes alone
  const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  let min: bigint | undefined;
  let max: bigint | undefined;
  let count = 0;
  for (let i = 0; i < rows; i++) {
    const value = values[i];
    if (value === null && levels !== null) {
        levels[i] = 0;
        continue;
      }
    if (typeof value !== "bigint" || value >= limit || value <= -limit) {
      throw invalid(column, i, value, `a bigint of at most ${precision} digits`);
    }
    writeDecimal(view, count * width, width, value);
    count++;
    if (levels !== null) levels[i] = 1;
    if (min === undefined || value < min) min = value;
    if (max === undefined || value > max) max = value;
  }
  return plainColumn(
    rows,
    count,
    levels,
    plain.subarray(0, count * width),
    width,
    exactStatistics(
      rows - count,
      true,
      min === undefined ? undefined : decimalBytes(min, width),
      max === undefined ? undefined : decimalBytes(max, width),
    ),
  );
}
