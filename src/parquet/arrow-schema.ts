import type { ArrowFieldSpec, ArrowTimeUnit, ArrowTypeSpec } from "./arrow-types";
import { FlatBufferBuilder, FlatBufferTable } from "./flatbuffers";

/**
 * The `ARROW:schema` key-value entry of a Parquet file, as parquet-rs writes
 * it: base64 of an encapsulated Arrow IPC message (0xFFFFFFFF continuation,
 * little-endian u32 length, then the FlatBuffers `Message` whose header is a
 * `Schema`). Readers such as pyarrow and DataFusion take exact Arrow types
 * (unsigned widths, timestamp time zones) from it.
 */
export const ARROW_SCHEMA_KEY = "ARROW:schema";

// Schema.fbs / Message.fbs enum values
const METADATA_VERSION_V5 = 4;
const MESSAGE_HEADER_SCHEMA = 1;

const TYPE = {
  Null: 1,
  Int: 2,
  FloatingPoint: 3,
  Binary: 4,
  Utf8: 5,
  Bool: 6,
  Decimal: 7,
  Date: 8,
  Time: 9,
  Timestamp: 10,
  FixedSizeBinary: 15,
  Duration: 18,
  LargeBinary: 19,
  LargeUtf8: 20,
  BinaryView: 23,
  Utf8View: 24,
} as const;

const TIME_UNITS: readonly ArrowTimeUnit[] = ["Second", "Millisecond", "Microsecond", "Nanosecond"];
const CONTINUATION = 0xffffffff;

// Field table slots
const FIELD_NAME = 0;
const FIELD_NULLABLE = 1;
const FIELD_TYPE_TYPE = 2;
const FIELD_TYPE = 3;
const FIELD_CHILDREN = 5;

export class ArrowSchemaError extends Error {
  override name = "ArrowSchemaError";
}

/** Base64 `ARROW:schema` value describing `fields`. */
export function encodeArrowSchema(fields: readonly ArrowFieldSpec[]): string {
  const builder = new FlatBufferBuilder();
  const fieldOffsets = fields.map((field) => encodeField(builder, field));
  const fieldVector = builder.createOffsetVector(fieldOffsets);

  // Like arrow-rs, leave out fields equal to their defaults: endianness
  // (Little), bodyLength (0, a schema message has no body), nullable (false).
  builder.startTable(4);
  builder.addOffset(1, fieldVector);
  const schema = builder.endTable();

  builder.startTable(5);
  builder.addOffset(2, schema);
  builder.addInt16(0, METADATA_VERSION_V5);
  builder.addInt8(1, MESSAGE_HEADER_SCHEMA);
  const message = builder.finish(builder.endTable());

  const framed = new Uint8Array(8 + message.length);
  const view = new DataView(framed.buffer);
  view.setUint32(0, CONTINUATION, true);
  view.setUint32(4, message.length, true);
  framed.set(message, 8);
  return toBase64(framed);
}

function encodeField(builder: FlatBufferBuilder, field: ArrowFieldSpec): number {
  const name = builder.createString(field.name);
  const [typeId, typeTable] = encodeType(builder, field.type);
  const children = builder.createOffsetVector([]);
  builder.startTable(7);
  builder.addOffset(FIELD_NAME, name);
  builder.addOffset(FIELD_TYPE, typeTable);
  builder.addOffset(FIELD_CHILDREN, children);
  if (field.nullable) builder.addBool(FIELD_NULLABLE, true);
  builder.addInt8(FIELD_TYPE_TYPE, typeId);
  return builder.endTable();
}

function emptyTable(builder: FlatBufferBuilder): number {
  builder.startTable(0);
  return builder.endTable();
}

function encodeType(builder: FlatBufferBuilder, type: ArrowTypeSpec): [number, number] {
  const intType = (bitWidth: number, signed: boolean): [number, number] => {
    builder.startTable(2);
    builder.addInt32(0, bitWidth);
    builder.addBool(1, signed);
    return [TYPE.Int, builder.endTable()];
  };
  const floatType = (precision: number): [number, number] => {
    builder.startTable(1);
    builder.addInt16(0, precision);
    return [TYPE.FloatingPoint, builder.endTable()];
  };
  const decimalType = (precision: number, scale: number, bitWidth: number): [number, number] => {
    builder.startTable(3);
    builder.addInt32(0, precision);
    builder.addInt32(1, scale);
    builder.addInt32(2, bitWidth);
    return [TYPE.Decimal, builder.endTable()];
  };
  const unitType = (typeId: number, unit: ArrowTimeUnit, bitWidth?: number): [number, number] => {
    builder.startTable(2);
    builder.addInt16(0, TIME_UNITS.indexOf(unit));
    if (bitWidth !== undefined) builder.addInt32(1, bitWidth);
    return [typeId, builder.endTable()];
  };

  if (typeof type === "string") {
    switch (type) {
      case "Null":
        return [TYPE.Null, emptyTable(builder)];
      case "Boolean":
        return [TYPE.Bool, emptyTable(builder)];
      case "Int8":
        return intType(8, true);
      case "Int16":
        return intType(16, true);
      case "Int32":
        return intType(32, true);
      case "Int64":
        return intType(64, true);
      case "UInt8":
        return intType(8, false);
      case "UInt16":
        return intType(16, false);
      case "UInt32":
        return intType(32, false);
      case "UInt64":
        return intType(64, false);
      case "Float16":
        return floatType(0);
      case "Float32":
        return floatType(1);
      case "Float64":
        return floatType(2);
      case "Date32":
      case "Date64": {
        builder.startTable(1);
        builder.addInt16(0, type === "Date32" ? 0 : 1);
        return [TYPE.Date, builder.endTable()];
      }
      case "Binary":
        return [TYPE.Binary, emptyTable(builder)];
      case "LargeBinary":
        return [TYPE.LargeBinary, emptyTable(builder)];
      case "BinaryView":
        return [TYPE.BinaryView, emptyTable(builder)];
      case "Utf8":
        return [TYPE.Utf8, emptyTable(builder)];
      case "LargeUtf8":
        return [TYPE.LargeUtf8, emptyTable(builder)];
      case "Utf8View":
        return [TYPE.Utf8View, emptyTable(builder)];
    }
  }
  if ("FixedSizeBinary" in type) {
    builder.startTable(1);
    builder.addInt32(0, type.FixedSizeBinary);
    return [TYPE.FixedSizeBinary, builder.endTable()];
  }
  if ("Decimal128" in type) return decimalType(type.Decimal128[0], type.Decimal128[1], 128);
  if ("Decimal256" in type) return decimalType(type.Decimal256[0], type.Decimal256[1], 256);
  if ("Timestamp" in type) {
    const [unit, timezone] = type.Timestamp;
    const zone = timezone === null ? undefined : builder.createString(timezone);
    builder.startTable(2);
    if (zone !== undefined) builder.addOffset(1, zone);
    builder.addInt16(0, TIME_UNITS.indexOf(unit));
    return [TYPE.Timestamp, builder.endTable()];
  }
  if ("Time32" in type) return unitType(TYPE.Time, type.Time32, 32);
  if ("Time64" in type) return unitType(TYPE.Time, type.Time64, 64);
  return unitType(TYPE.Duration, type.Duration);
}

/** Fields of a base64 `ARROW:schema` value. Throws ArrowSchemaError on anything else. */
export function decodeArrowSchema(base64: string): ArrowFieldSpec[] {
  const bytes = fromBase64(base64);
  if (bytes.length < 8) throw new ArrowSchemaError("ARROW:schema is too short");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Legacy IPC framing has no continuation marker, only the length.
  const start = view.getUint32(0, true) === CONTINUATION ? 8 : 4;
  const length = view.getUint32(start - 4, true);
  if (start + length > bytes.length) throw new ArrowSchemaError("ARROW:schema length exceeds its bytes");
  const message = FlatBufferTable.root(bytes.subarray(start, start + length));
  if (message.uint8(1, 0) !== MESSAGE_HEADER_SCHEMA) {
    throw new ArrowSchemaError("ARROW:schema message is not a Schema");
  }
  const schema = message.table(2);
  if (schema === null) throw new ArrowSchemaError("ARROW:schema message has no header");
  return schema.tableVector(1).map(decodeField);
}

function decodeField(field: FlatBufferTable): ArrowFieldSpec {
  const name = field.string(FIELD_NAME) ?? "";
  const typeTable = field.table(FIELD_TYPE);
  const typeId = field.uint8(FIELD_TYPE_TYPE, 0);
  if (typeTable === null) throw new ArrowSchemaError(`field ${name} has no type`);
  return { name, nullable: field.bool(FIELD_NULLABLE, false), type: decodeType(name, typeId, typeTable) };
}

function timeUnit(name: string, code: number): ArrowTimeUnit {
  const unit = TIME_UNITS[code];
  if (unit === undefined) throw new ArrowSchemaError(`field ${name} has unknown time unit ${code}`);
  return unit;
}

function decodeType(name: string, typeId: number, table: FlatBufferTable): ArrowTypeSpec {
  switch (typeId) {
    case TYPE.Null:
      return "Null";
    case TYPE.Bool:
      return "Boolean";
    case TYPE.Int: {
      const bitWidth = table.int32(0, 0);
      const signed = table.bool(1, false);
      const spec = `${signed ? "" : "U"}Int${bitWidth}`;
      if (!["Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64"].includes(spec)) {
        throw new ArrowSchemaError(`field ${name} has integer width ${bitWidth}`);
      }
      return spec as ArrowTypeSpec;
    }
    case TYPE.FloatingPoint: {
      const precision = table.int16(0, 0);
      const spec = (["Float16", "Float32", "Float64"] as const)[precision];
      if (spec === undefined) throw new ArrowSchemaError(`field ${name} has float precision ${precision}`);
      return spec;
    }
    case TYPE.Binary:
      return "Binary";
    case TYPE.LargeBinary:
      return "LargeBinary";
    case TYPE.BinaryView:
      return "BinaryView";
    case TYPE.Utf8:
      return "Utf8";
    case TYPE.LargeUtf8:
      return "LargeUtf8";
    case TYPE.Utf8View:
      return "Utf8View";
    case TYPE.Date:
      return table.int16(0, 1) === 0 ? "Date32" : "Date64";
    case TYPE.FixedSizeBinary:
      return { FixedSizeBinary: table.int32(0, 0) };
    case TYPE.Decimal: {
      const precision = table.int32(0, 0);
      const scale = table.int32(1, 0);
      const bitWidth = table.int32(2, 128);
      if (bitWidth === 128) return { Decimal128: [precision, scale] };
      if (bitWidth === 256) return { Decimal256: [precision, scale] };
      throw new ArrowSchemaError(`field ${name} has decimal width ${bitWidth}`);
    }
    case TYPE.Timestamp:
      return { Timestamp: [timeUnit(name, table.int16(0, 0)), table.string(1)] };
    case TYPE.Time: {
      const unit = timeUnit(name, table.int16(0, 1));
      return table.int32(1, 32) === 32 ? { Time32: unit } : { Time64: unit };
    }
    case TYPE.Duration:
      return { Duration: timeUnit(name, table.int16(0, 1)) };
    default:
      throw new ArrowSchemaError(`field ${name} has Arrow type id ${typeId}, which this reader does not model`);
  }
}

// btoa/atob exist in workerd and Node 20; they work on binary strings.
function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new ArrowSchemaError("ARROW:schema is not base64");
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
