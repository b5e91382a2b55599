import type { SchemaElement } from "hyparquet";
import type { ArrowFieldSpec, ArrowTypeSpec } from "./arrow-types";

/**
 * The column types this writer supports, mapped to Parquet the way parquet-rs
 * maps the Arrow types (reference §5.1):
 *
 * | Arrow                        | Parquet                                   |
 * |------------------------------|-------------------------------------------|
 * | UInt64                       | INT64, UINT_64 / INTEGER(64, unsigned)    |
 * | Int64                        | INT64                                     |
 * | UInt32                       | INT32, UINT_32 / INTEGER(32, unsigned)    |
 * | Int32                        | INT32                                     |
 * | Float64                      | DOUBLE                                    |
 * | Boolean                      | BOOLEAN                                   |
 * | Binary                       | BYTE_ARRAY                                |
 * | Utf8                         | BYTE_ARRAY, UTF8 / STRING                 |
 * | FixedSizeBinary(n)           | FIXED_LEN_BYTE_ARRAY(n)                   |
 * | Decimal128(p, s), 19<=p<=38  | FIXED_LEN_BYTE_ARRAY(len(p)), DECIMAL(p,s)|
 * | Decimal256(p, s), 39<=p<=76  | FIXED_LEN_BYTE_ARRAY(len(p)), DECIMAL(p,s)|
 * | Timestamp(Nanosecond, tz)    | INT64, TIMESTAMP(NANOS, utc = tz != null) |
 */
export type ColumnType =
  | { kind: "UInt64" }
  | { kind: "Int64" }
  | { kind: "UInt32" }
  | { kind: "Int32" }
  | { kind: "Boolean" }
  | { kind: "Float64" }
  | { kind: "Binary" }
  | { kind: "Utf8" }
  | { kind: "FixedSizeBinary"; width: number }
  | { kind: "Decimal"; precision: number; scale: number; width: number }
  | { kind: "Timestamp"; timezone: string | null };

/**
 * Values of one column for one row group, one entry per row, in the field's
 * order. `null` marks a null and is allowed only in a nullable column.
 *
 * | column type                          | values                                        |
 * |--------------------------------------|-----------------------------------------------|
 * | UInt64                               | bigint in [0, 2^64) (or a BigUint64Array)     |
 * | Int64                                | bigint in i64 range                           |
 * | Timestamp(Nanosecond, _)             | bigint nanoseconds since the epoch, i64 range |
 * | Decimal128(p, s), Decimal256(p, s)   | bigint unscaled value, |v| < 10^p             |
 * | Float64                              | number                                        |
 * | UInt32                               | integer number in [0, 2^32) (or Uint32Array)  |
 * | Int32                                | integer number in i32 range (or Int32Array)   |
 * | Boolean                              | boolean                                       |
 * | Binary                               | Uint8Array                                    |
 * | Utf8                                 | string                                        |
 * | FixedSizeBinary(n)                   | Uint8Array of exactly n bytes                 |
 *
 * Typed arrays hold no nulls, so they fit columns without nulls only. The
 * writer never keeps or modifies the arrays after `writeRowGroup` returns.
 */
export type ColumnValues =
  | readonly (bigint | null)[]
  | readonly (number | null)[]
  | readonly (boolean | null)[]
  | readonly (Uint8Array | null)[]
  | readonly (string | null)[]
  | BigUint64Array
  | Uint32Array
  | Int32Array;

export interface ParquetColumn {
  name: string;
  nullable: boolean;
  type: ColumnType;
  /** The Arrow field as given, for the ARROW:schema entry. */
  field: ArrowFieldSpec;
  /** The schema element written to the footer. */
  element: SchemaElement;
  /** The same element without logical annotations: what the page encoder sees. */
  physical: SchemaElement;
}

export class UnsupportedColumnTypeError extends Error {
  override name = "UnsupportedColumnTypeError";
}

/** Bytes parquet-rs uses for a decimal of this precision: the fewest that hold 10^p - 1 signed. */
function decimalByteWidth(precision: number): number {
  return Math.ceil((precision * Math.log2(10) + 1) / 8);
}

function columnTypeOf(name: string, type: ArrowTypeSpec): ColumnType {
  if (typeof type === "string") {
    switch (type) {
      case "UInt64":
      case "Int64":
      case "UInt32":
      case "Int32":
      case "Float64":
      case "Boolean":
      case "Binary":
      case "Utf8":
        return { kind: type };
    }
  } else if ("FixedSizeBinary" in type) {
    const width = type.FixedSizeBinary;
    if (Number.isInteger(width) && width > 0) return { kind: "FixedSizeBinary", width };
  } else if ("Decimal128" in type) {
    const [precision, scale] = type.Decimal128;
    // Narrower decimals would be INT32/INT64 in parquet-rs; no table here uses them.
    if (Number.isInteger(precision) && precision >= 19 && precision <= 38 && Number.isInteger(scale) && scale >= 0 && scale <= precision) {
      return { kind: "Decimal", precision, scale, width: decimalByteWidth(precision) };
    }
  } else if ("Decimal256" in type) {
    const [precision, scale] = type.Decimal256;
    if (Number.isInteger(precision) && precision >= 39 && precision <= 76 && Number.isInteger(scale) && scale >= 0 && scale <= precision) {
      return { kind: "Decimal", precision, scale, width: decimalByteWidth(precision) };
    }
  } else if ("Timestamp" in type) {
    const [unit, timezone] = type.Timestamp;
    if (unit === "Nanosecond") return { kind: "Timestamp", timezone };
  }
  throw new UnsupportedColumnTypeError(`column ${name}: Arrow type ${JSON.stringify(type)} is not supported by the Parquet writer`);
}

function schemaElements(name: string, type: ColumnType, nullable: boolean): { element: SchemaElement; physical: SchemaElement } {
  const repetition_type = nullable ? "OPTIONAL" : "REQUIRED";
  switch (type.kind) {
    case "UInt64":
      return {
        element: { name, repetition_type, type: "INT64", converted_type: "UINT_64", logical_type: { type: "INTEGER", bitWidth: 64, isSigned: false } },
        physical: { name, repetition_type, type: "INT64" },
      };
    case "UInt32":
      return {
        element: { name, repetition_type, type: "INT32", converted_type: "UINT_32", logical_type: { type: "INTEGER", bitWidth: 32, isSigned: false } },
        physical: { name, repetition_type, type: "INT32" },
      };
    case "Int64":
      return { element: { name, repetition_type, type: "INT64" }, physical: { name, repetition_type, type: "INT64" } };
    case "Int32":
      return { element: { name, repetition_type, type: "INT32" }, physical: { name, repetition_type, type: "INT32" } };
    case "Float64":
      return { element: { name, repetition_type, type: "DOUBLE" }, physical: { name, repetition_type, type: "DOUBLE" } };
    case "Boolean":
      return { element: { name, repetition_type, type: "BOOLEAN" }, physical: { name, repetition_type, type: "BOOLEAN" } };
    case "Binary":
      return { element: { name, repetition_type, type: "BYTE_ARRAY" }, physical: { name, repetition_type, type: "BYTE_ARRAY" } };
    case "Utf8":
      return {
        element: { name, repetition_type, type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" } },
        physical: { name, repetition_type, type: "BYTE_ARRAY" },
      };
    case "FixedSizeBinary": {
      const element: SchemaElement = { name, repetition_type, type: "FIXED_LEN_BYTE_ARRAY", type_length: type.width };
      return { element, physical: element };
    }
    case "Decimal":
      return {
        element: {
          name,
          repetition_type,
          type: "FIXED_LEN_BYTE_ARRAY",
          type_length: type.width,
          converted_type: "DECIMAL",
          scale: type.scale,
          precision: type.precision,
          logical_type: { type: "DECIMAL", scale: type.scale, precision: type.precision },
        },
        physical: { name, repetition_type, type: "FIXED_LEN_BYTE_ARRAY", type_length: type.width },
      };
    case "Timestamp":
      return {
        element: {
          name,
          repetition_type,
          type: "INT64",
          logical_type: { type: "TIMESTAMP", isAdjustedToUTC: type.timezone !== null, unit: "NANOS" },
        },
        physical: { name, repetition_type, type: "INT64" },
      };
  }
}

/**
 * The Parquet columns for Arrow fields. Accepts any field in arrow-rs serde
 * form (so domain fields pass straight in) and throws
 * UnsupportedColumnTypeError for a type outside the table above.
 */
export function parquetColumns(fields: readonly ArrowFieldSpec[]): ParquetColumn[] {
  const names = new Set<string>();
  return fields.map((field) => {
    if (names.has(field.name)) throw new UnsupportedColumnTypeError(`column ${field.name} appears twice`);
    names.add(field.name);
    const type = columnTypeOf(field.name, field.type);
    return { name: field.name, nullable: field.nullable, type, field, ...schemaElements(field.name, type, field.nullable) };
  });
}

/** Name of the schema root, as parquet-rs writes it. */
export const SCHEMA_ROOT_NAME = "arrow_schema";

export function parquetSchema(columns: readonly ParquetColumn[]): SchemaElement[] {
  return [{ name: SCHEMA_ROOT_NAME, num_children: columns.length }, ...columns.map((column) => column.element)];
}
