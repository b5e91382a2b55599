import { z } from "zod";

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

const UNIT_TYPES = [
  "Null",
  "Boolean",
  "Int8",
  "Int16",
  "Int32",
  "Int64",
  "UInt8",
  "UInt16",
  "UInt32",
  "UInt64",
  "Float16",
  "Float32",
  "Float64",
  "Date32",
  "Date64",
  "Binary",
  "LargeBinary",
  "BinaryView",
  "Utf8",
  "LargeUtf8",
  "Utf8View",
] as const satisfies readonly ArrowDataType[];

const i8 = z.int().min(-128).max(127);
/** Arrow's limits: precision 1..max, scale at most the precision. */
const decimal = (maxPrecision: number) =>
  z
    .tuple([z.int().min(1).max(maxPrecision), i8])
    .refine(([precision, scale]) => scale <= precision, "decimal scale must not exceed its precision");

/**
 * Validates a data type in manifest form. Only the types above are accepted;
 * nested types (List, Struct, Map, Dictionary) are refused as unsupported.
 */
export const arrowDataTypeSchema: z.ZodType<ArrowDataType> = z.union([
  z.enum(UNIT_TYPES),
  z.strictObject({ FixedSizeBinary: z.int().min(0).max(2 ** 31 - 1) }),
  z.strictObject({ Decimal128: decimal(38) }),
  z.strictObject({ Decimal256: decimal(76) }),
  z.strictObject({
    Timestamp: z.tuple([z.enum(["Second", "Millisecond", "Microsecond", "Nanosecond"]), z.string().nullable()]),
  }),
  z.strictObject({ Time32: z.enum(["Second", "Millisecond"]) }),
  z.strictObject({ Time64: z.enum(["Microsecond", "Nanosecond"]) }),
  z.strictObject({ Duration: z.enum(["Second", "Millisecond", "Microsecond", "Nanosecond"]) }),
]);

/** A field in manifest form; unknown keys are dropped. */
export const arrowFieldSchema: z.ZodType<ArrowField> = z.object({
  name: z.string(),
  type: arrowDataTypeSchema,
  nullable: z.boolean(),
});
