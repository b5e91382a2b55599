/**
 * Arrow data types and fields in the serde form of arrow-rs, the form
 * manifests use: unit variants are strings ("UInt64"), tuple variants are
 * one-key objects ({"FixedSizeBinary": 32}, {"Decimal128": [38, 0]},
 * {"Timestamp": ["Nanosecond", "+00:00"]}).
 *
 * The parquet layer may not import the domain, so it spells the same shape
 * itself; a type test keeps the two assignable to each other, which lets the
 * extract layer pass domain fields straight to the writer. The writer accepts
 * a subset of these types (see `columnTypeOf` in columns.ts).
 */
export type ArrowTimeUnit = "Second" | "Millisecond" | "Microsecond" | "Nanosecond";

export type ArrowTypeSpec =
  | "Null"
  | "Boolean"
  | "Int8"
  | "Int16"
  | "Int32"
  | "Int64"
  | "UInt8"
  | "UInt16"
  | "UInt32"
  | "UInt64"
  | "Float16"
  | "Float32"
  | "Float64"
  | "Date32"
  | "Date64"
  | "Binary"
  | "LargeBinary"
  | "BinaryView"
  | "Utf8"
  | "LargeUtf8"
  | "Utf8View"
  | { FixedSizeBinary: number }
  | { Decimal128: [number, number] }
  | { Decimal256: [number, number] }
  | { Timestamp: [ArrowTimeUnit, string | null] }
  | { Time32: ArrowTimeUnit }
  | { Time64: ArrowTimeUnit }
  | { Duration: ArrowTimeUnit };

export interface ArrowFieldSpec {
  name: string;
  type: ArrowTypeSpec;
  nullable: boolean;
}
