/**
 * The types of query results: the Arrow types of manifests plus the nested
 * ones UDFs produce (structs of decoded parameters, lists), in the serde form
 * arrow-rs gives them in `/schema` answers: `{"Struct": [field, …]}` and
 * `{"List": field}`, a field being `{name, data_type, nullable, dict_id,
 * dict_is_ordered, metadata}` inside them.
 */
import type { ArrowDataType, ArrowField } from "../domain/arrow";

export interface SqlField {
  name: string;
  type: SqlType;
  nullable: boolean;
}

export type SqlType =
  | ArrowDataType
  | { Struct: SqlField[] }
  | { List: SqlField }
  | { FixedSizeList: [SqlField, number] };

export function isStruct(type: SqlType): type is { Struct: SqlField[] } {
  return typeof type === "object" && "Struct" in type;
}

export function isList(type: SqlType): type is { List: SqlField } | { FixedSizeList: [SqlField, number] } {
  return typeof type === "object" && ("List" in type || "FixedSizeList" in type);
}

export function listItem(type: { List: SqlField } | { FixedSizeList: [SqlField, number] }): SqlField {
  return "List" in type ? type.List : type.FixedSizeList[0];
}

const INTEGER_TYPES = new Set(["Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64"]);

export function isIntegerType(type: SqlType): boolean {
  return typeof type === "string" && INTEGER_TYPES.has(type);
}

export function isDecimalType(type: SqlType): boolean {
  return typeof type === "object" && ("Decimal128" in type || "Decimal256" in type);
}

/** A type a Parquet file of a derived table can hold (the manifest's types, no nesting). */
export function isFlatType(type: SqlType): type is ArrowDataType {
  return !isStruct(type) && !isList(type);
}

export function asArrowField(field: SqlField): ArrowField | null {
  return isFlatType(field.type) ? { name: field.name, type: field.type, nullable: field.nullable } : null;
}

function serdeField(field: SqlField): Record<string, unknown> {
  return { name: field.name, data_type: serdeType(field.type), nullable: field.nullable, dict_id: 0, dict_is_ordered: false, metadata: {} };
}

/** The JSON form of a type as arrow-rs serializes it. */
export function serdeType(type: SqlType): unknown {
  if (isStruct(type)) return { Struct: type.Struct.map(serdeField) };
  if (typeof type === "object" && "List" in type) return { List: serdeField(type.List) };
  if (typeof type === "object" && "FixedSizeList" in type) return { FixedSizeList: [serdeField(type.FixedSizeList[0]), type.FixedSizeList[1]] };
  return type;
}

/** A field in `/schema`'s `{name, type, nullable}` form. */
export function schemaField(field: SqlField): { name: string; type: unknown; nullable: boolean } {
  return { name: field.name, type: serdeType(field.type), nullable: field.nullable };
}
