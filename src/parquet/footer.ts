import type { CompressionCodec, Encoding, LogicalType, SchemaElement } from "hyparquet";
import { CompressionCodecs, ConvertedTypes, Encodings, FieldRepetitionTypes, ParquetTypes } from "hyparquet/src/constants.js";
import type { ColumnStatistics } from "./encode-column";
import { CompactWriter } from "./thrift";

/**
 * The Parquet footer (FileMetaData, parquet.thrift), serialized with field
 * types spelled out. Row groups are serialized as they complete, so a writer
 * holds only their bytes (a few kB each) until the footer is written.
 */

export interface ColumnChunkMeta {
  element: SchemaElement;
  encodings: readonly Encoding[];
  codec: CompressionCodec;
  numValues: number;
  totalUncompressedSize: number;
  totalCompressedSize: number;
  dataPageOffset: number;
  dictionaryPageOffset: number | undefined;
  statistics: ColumnStatistics;
}

export interface RowGroupMeta {
  columns: readonly ColumnChunkMeta[];
  numRows: number;
  fileOffset: number;
  totalCompressedSize: number;
  ordinal: number;
}

export interface FileMeta {
  schema: readonly SchemaElement[];
  numRows: number;
  /** Row groups as returned by serializeRowGroup. */
  rowGroups: readonly Uint8Array[];
  keyValueMetadata: readonly { key: string; value: string }[];
  createdBy: string;
}

/** The FileMetaData version; 2 because pages are DataPageV2. */
const FORMAT_VERSION = 2;

function enumIndex<T>(values: readonly T[], value: T, what: string): number {
  const index = values.indexOf(value);
  if (index < 0) throw new Error(`parquet footer: unknown ${what} ${String(value)}`);
  return index;
}

function writeLogicalType(w: CompactWriter, logicalType: LogicalType): void {
  w.structField(10);
  switch (logicalType.type) {
    case "STRING":
      w.structField(1);
      w.structEnd();
      break;
    case "DECIMAL":
      w.structField(5);
      w.i32(1, logicalType.scale);
      w.i32(2, logicalType.precision);
      w.structEnd();
      break;
    case "TIMESTAMP": {
      w.structField(8);
      w.bool(1, logicalType.isAdjustedToUTC);
      w.structField(2); // TimeUnit union
      w.structField(logicalType.unit === "MILLIS" ? 1 : logicalType.unit === "MICROS" ? 2 : 3);
      w.structEnd();
      w.structEnd();
      w.structEnd();
      break;
    }
    case "INTEGER":
      w.structField(10);
      w.i8(1, logicalType.bitWidth); // i8 in parquet.thrift: the field hyparquet-writer gets wrong
      w.bool(2, logicalType.isSigned);
      w.structEnd();
      break;
    default:
      throw new Error(`parquet footer: logical type ${logicalType.type} is not written by this writer`);
  }
  w.structEnd();
}

function writeSchemaElement(w: CompactWriter, element: SchemaElement): void {
  w.structBegin();
  if (element.type !== undefined) w.i32(1, enumIndex(ParquetTypes, element.type, "physical type"));
  if (element.type_length !== undefined) w.i32(2, element.type_length);
  if (element.repetition_type !== undefined) w.i32(3, enumIndex(FieldRepetitionTypes, element.repetition_type, "repetition"));
  w.binary(4, element.name);
  if (element.num_children !== undefined) w.i32(5, element.num_children);
  if (element.converted_type !== undefined) w.i32(6, enumIndex(ConvertedTypes, element.converted_type, "converted type"));
  if (element.scale !== undefined) w.i32(7, element.scale);
  if (element.precision !== undefined) w.i32(8, element.precision);
  if (element.logical_type !== undefined) writeLogicalType(w, element.logical_type);
  w.structEnd();
}

function writeStatistics(w: CompactWriter, statistics: ColumnStatistics): void {
  w.structField(12);
  const { min, max } = statistics;
  if (statistics.signedOrder && max !== undefined && min !== undefined) {
    // deprecated max/min: only meaningful, and only written by parquet-rs, for signed sort orders
    w.binary(1, max);
    w.binary(2, min);
  }
  w.i64(3, statistics.nullCount);
  if (max !== undefined && min !== undefined) {
    w.binary(5, max);
    w.binary(6, min);
    w.bool(7, statistics.maxExact);
    w.bool(8, statistics.minExact);
  }
  w.structEnd();
}

function writeColumnChunk(w: CompactWriter, chunk: ColumnChunkMeta): void {
  const type = chunk.element.type;
  if (type === undefined) throw new Error(`parquet footer: column ${chunk.element.name} has no physical type`);
  w.structBegin();
  w.i64(2, chunk.dictionaryPageOffset ?? chunk.dataPageOffset); // file_offset: where the chunk starts
  w.structField(3); // ColumnMetaData
  w.i32(1, enumIndex(ParquetTypes, type, "physical type"));
  w.listField(2, "i32", chunk.encodings.length);
  for (const encoding of chunk.encodings) w.i32Value(enumIndex(Encodings, encoding, "encoding"));
  w.listField(3, "binary", 1);
  w.binaryValue(chunk.element.name);
  w.i32(4, enumIndex(CompressionCodecs, chunk.codec, "codec"));
  w.i64(5, chunk.numValues);
  w.i64(6, chunk.totalUncompressedSize);
  w.i64(7, chunk.totalCompressedSize);
  w.i64(9, chunk.dataPageOffset);
  if (chunk.dictionaryPageOffset !== undefined) w.i64(11, chunk.dictionaryPageOffset);
  writeStatistics(w, chunk.statistics);
  w.structEnd();
  w.structEnd();
}

export function serializeRowGroup(rowGroup: RowGroupMeta): Uint8Array {
  const w = new CompactWriter();
  w.structBegin();
  w.listField(1, "struct", rowGroup.columns.length);
  for (const chunk of rowGroup.columns) writeColumnChunk(w, chunk);
  let totalByteSize = 0;
  for (const chunk of rowGroup.columns) totalByteSize += chunk.totalUncompressedSize;
  w.i64(2, totalByteSize);
  w.i64(3, rowGroup.numRows);
  w.i64(5, rowGroup.fileOffset);
  w.i64(6, rowGroup.totalCompressedSize);
  w.i16(7, rowGroup.ordinal);
  w.structEnd();
  return w.finish();
}

export function serializeFileMetaData(meta: FileMeta): Uint8Array {
  const w = new CompactWriter();
  w.structBegin();
  w.i32(1, FORMAT_VERSION);
  w.listField(2, "struct", meta.schema.length);
  for (const element of meta.schema) writeSchemaElement(w, element);
  w.i64(3, meta.numRows);
  w.listField(4, "struct", meta.rowGroups.length);
  for (const rowGroup of meta.rowGroups) w.raw(rowGroup);
  if (meta.keyValueMetadata.length > 0) {
    w.listField(5, "struct", meta.keyValueMetadata.length);
    for (const { key, value } of meta.keyValueMetadata) {
      w.structBegin();
      w.binary(1, key);
      w.binary(2, value);
      w.structEnd();
    }
  }
  w.binary(6, meta.createdBy);
  const leaves = meta.schema.filter((element) => element.type !== undefined).length;
  w.listField(7, "struct", leaves); // column_orders: TYPE_ORDER for every leaf
  for (let i = 0; i < leaves; i++) {
    w.structBegin();
    w.structField(1);
    w.structEnd();
    w.structEnd();
  }
  w.structEnd();
  return w.finish();
}
