import type { AsyncBuffer, FileMetaData, SchemaElement } from "hyparquet";
import { parquetMetadataAsync } from "hyparquet/src/metadata.js";
import { parquetRead } from "hyparquet/src/read.js";
import { ARROW_SCHEMA_KEY, decodeArrowSchema } from "./arrow-schema";
import type { ArrowFieldSpec } from "./arrow-types";

/**
 * Reading Parquet files with hyparquet: the footer (key-value metadata, row
 * count, schema) and rows or columns, from bytes in memory or through ranged
 * reads (R2 `get` with a `range`), so a footer costs one or two small reads.
 * Data pages can be uncompressed or snappy (what the writer produces); the
 * original's zstd files can have their footers read, not their rows.
 */

/** Bytes in memory, or anything hyparquet can read ranges from ({ byteLength, slice(start, end) }). */
export type ParquetSource = ArrayBuffer | Uint8Array | AsyncBuffer;

/** A source that fetches `[offset, offset + length)` on demand, e.g. from an R2 object of known size. */
export function rangeSource(byteLength: number, readRange: (offset: number, length: number) => Promise<ArrayBuffer>): AsyncBuffer {
  return {
    byteLength,
    slice: (start, end = byteLength) => readRange(start, end - start),
  };
}

function asAsyncBuffer(source: ParquetSource): AsyncBuffer {
  if (source instanceof Uint8Array) {
    // an exact copy, so a view into a larger buffer reads only its own bytes
    return source.buffer.slice(source.byteOffset, source.byteOffset + source.byteLength) as ArrayBuffer;
  }
  return source;
}

export interface ParquetFooter {
  rowCount: number;
  rowGroups: { rowCount: number; compressedBytes: number }[];
  keyValueMetadata: Record<string, string>;
  /** The Arrow fields of the `ARROW:schema` entry; null when the file has none. */
  arrowFields: ArrowFieldSpec[] | null;
  /** The Parquet schema, root first. */
  schema: SchemaElement[];
  createdBy: string | undefined;
  /** hyparquet's parsed metadata, reused by readParquetRows to avoid reading the footer twice. */
  metadata: FileMetaData;
}

/** The first read takes the file's last 64 KiB, which holds the whole footer of most files. */
const FOOTER_FETCH_BYTES = 64 * 1024;

export async function readParquetFooter(source: ParquetSource): Promise<ParquetFooter> {
  const metadata = await parquetMetadataAsync(asAsyncBuffer(source), { initialFetchSize: FOOTER_FETCH_BYTES });
  const keyValueMetadata: Record<string, string> = {};
  for (const { key, value } of metadata.key_value_metadata ?? []) keyValueMetadata[key] = value ?? "";
  const arrowSchema = keyValueMetadata[ARROW_SCHEMA_KEY];
  return {
    rowCount: Number(metadata.num_rows),
    rowGroups: metadata.row_groups.map((group) => ({
      rowCount: Number(group.num_rows),
      compressedBytes: Number(group.total_compressed_size ?? 0n),
    })),
    keyValueMetadata,
    arrowFields: arrowSchema === undefined ? null : decodeArrowSchema(arrowSchema),
    schema: metadata.schema,
    createdBy: metadata.created_by,
    metadata,
  };
}

/** A value as the writer takes it: bigint for 64-bit integers, timestamps and decimals. */
export type ParquetValue = bigint | number | boolean | Uint8Array | null;
export type ParquetRow = Record<string, ParquetValue>;

export interface ReadOptions {
  /** Columns to read; all when absent. */
  columns?: string[];
  rowStart?: number;
  rowEnd?: number;
  /** A footer read before from the same source. */
  footer?: ParquetFooter;
}

/** Big-endian two's complement bytes as a bigint. */
export function decimalFromBytes(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  const bits = BigInt(bytes.length * 8);
  return bytes.length > 0 && (bytes[0] as number) >= 0x80 ? value - (1n << bits) : value;
}

/**
 * The footer's schema with the DECIMAL and TIMESTAMP annotations stripped, so
 * hyparquet hands over the stored bytes and integers, which readers convert
 * exactly; and the names of the decimal columns.
 */
export function exactSchema(footer: ParquetFooter): { schema: SchemaElement[]; decimalColumns: Set<string> } {
  const decimalColumns = new Set<string>();
  const schema = footer.metadata.schema.map((element) => {
    if (element.converted_type === "DECIMAL" && element.type === "FIXED_LEN_BYTE_ARRAY") {
      decimalColumns.add(element.name);
      return { ...element, converted_type: undefined, logical_type: undefined };
    }
    if (element.logical_type?.type === "TIMESTAMP" && element.type === "INT64") {
      return { ...element, converted_type: undefined, logical_type: undefined };
    }
    return element;
  });
  return { schema, decimalColumns };
}

/**
 * Rows as objects. Values come back in the writer's contract rather than
 * hyparquet's defaults, which would turn decimals into lossy numbers,
 * timestamps into Dates and binary columns into strings.
 */
export async function readParquetRows(source: ParquetSource, options: ReadOptions = {}): Promise<ParquetRow[]> {
  const file = asAsyncBuffer(source);
  const footer = options.footer ?? (await readParquetFooter(file));
  const { schema, decimalColumns } = exactSchema(footer);
  let rows: Record<string, unknown>[] = [];
  await parquetRead({
    file,
    metadata: { ...footer.metadata, schema },
    columns: options.columns,
    rowStart: options.rowStart,
    rowEnd: options.rowEnd,
    rowFormat: "object",
    utf8: false,
    onComplete: (result: Record<string, unknown>[]) => {
      rows = result;
    },
  });
  return rows.map((row) => {
    const out: ParquetRow = {};
    for (const [name, value] of Object.entries(row)) {
      if (value === null || value === undefined) out[name] = null;
      else if (decimalColumns.has(name) && value instanceof Uint8Array) out[name] = decimalFromBytes(value);
      else out[name] = value as ParquetValue;
    }
    return out;
  });
}

/** The same values as readParquetRows, one array per column. */
export async function readParquetColumns(source: ParquetSource, options: ReadOptions = {}): Promise<Record<string, ParquetValue[]>> {
  const file = asAsyncBuffer(source);
  const footer = options.footer ?? (await readParquetFooter(file));
  const names = options.columns ?? footer.schema.slice(1).map((element) => element.name);
  const rows = await readParquetRows(file, { ...options, footer });
  const columns: Record<string, ParquetValue[]> = {};
  for (const name of names) columns[name] = rows.map((row) => row[name] ?? null);
  return columns;
}
