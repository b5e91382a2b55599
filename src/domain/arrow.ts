/**
 * Arrow data types and fields in the serde form of arrow-rs, which is how
 * manifests spell them: unit variants are strings ("UInt64"), tuple variants
 * are one-key objects ({"FixedSizeBinary": 32}, {"Decimal128": [38, 0]},
 * {"Timestamp": ["Nanosecond", "+00:00"]}).
 */
export type TimeUnit = "Second" | "Millisecond" | "Microsecond" | "Nanosecond";

export type ArrowDataType =
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
  | { Timestamp: [TimeUnit, string | null] }
  | { Time32: TimeUnit }
  | { Time64: TimeUnit }
  | { Duration: TimeUnit };

export interface ArrowField {
  name: string;
  type: ArrowDataType;
  nullable: boolean;
}
