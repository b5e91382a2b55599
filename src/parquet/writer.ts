import type { CompressionCodec, SchemaElement } from "hyparquet";
import { ByteWriter } from "hyparquet-writer/src/bytewriter.js";
import { ARROW_SCHEMA_KEY, encodeArrowSchema } from "./arrow-schema";
import type { ArrowFieldSpec } from "./arrow-types";
import { type ColumnValues, type ParquetColumn, parquetColumns, parquetSchema } from "./columns";
import { writeColumnChunk } from "./column-chunk";
import { encodeColumn } from "./encode-column";
import { Scratch } from "./scratch";
import { type ColumnChunkMeta, serializeFileMetaData, serializeRowGroup } from "./footer";

/** Receives the file's bytes in order. It may keep each chunk: the writer never touches it again. */
export interface ParquetSink {
  write(chunk: Uint8Array): void | Promise<void>;
}

export type ParquetCompression = "SNAPPY" | "UNCOMPRESSED";

/** A row group keyed by column name; any object type whose properties are all ColumnValues. */
export type ColumnsByName<T> = { readonly [K in keyof T]: ColumnValues };

export interface ParquetWriterOptions {
  /** Columns in file order, in arrow-rs serde form (domain fields pass straight in). */
  fields: readonly ArrowFieldSpec[];
  sink: ParquetSink;
  /** Default SNAPPY. */
  compression?: ParquetCompression;
  /** Target uncompressed bytes per data page. Default 1 MiB. */
  pageSize?: number;
  /** Encoded bytes buffered before they go to the sink. Default 1 MiB. */
  flushBytes?: number;
  /** FileMetaData.created_by. */
  createdBy?: string;
}

export interface WrittenParquetFile {
  /** File size in bytes. */
  bytes: number;
  rows: number;
  rowGroups: number;
}

export class ParquetWriteError extends Error {
  override name = "ParquetWriteError";
}

const MAGIC = 0x31524150; // "PAR1" little-endian
const MIB = 1024 * 1024;
export const DEFAULT_CREATED_BY = "amp-edge parquet writer (hyparquet-writer 0.17.0)";

/**
 * Streams a Parquet file out row group by row group.
 *
 *     const writer = new ParquetStreamWriter({ fields, sink });
 *     await writer.writeRowGroup(columnsOfFirstGroup);
 *     await writer.writeRowGroup(columnsOfSecondGroup);
 *     await writer.finish({ nozzle_metadata: json, parent_file_ids: "[]", generation: "0" });
 *
 * Each column chunk is a dictionary page when a dictionary makes it smaller,
 * then DataPageV2 pages, snappy-compressed by default (column-chunk.ts); the
 * output stream, RLE/bit-packing and the Parquet types come from
 * hyparquet-writer/hyparquet, and the footer is serialized here with
 * explicit Thrift types (footer.ts, thrift.ts), which is what fixes
 * hyparquet-writer's INTEGER bit-width bug.
 * Memory held between row groups is the footer metadata (a few kB per row
 * group) plus at most `flushBytes` of encoded bytes not yet sent; during a
 * row group it is the caller's columns plus one column chunk being encoded.
 */
export class ParquetStreamWriter {
  readonly columns: readonly ParquetColumn[];
  private readonly schema: SchemaElement[];
  private readonly sink: ParquetSink;
  private readonly codec: CompressionCodec;
  private readonly pageSize: number;
  private readonly flushBytes: number;
  private readonly createdBy: string;
  private readonly out = new ByteWriter(64 * 1024);
  private readonly scratch = new Scratch();
  private readonly rowGroups: Uint8Array[] = [];
  private rows = 0;
  private state: "open" | "busy" | "finished" | "failed" = "open";

  constructor(options: ParquetWriterOptions) {
    this.columns = parquetColumns(options.fields);
    this.schema = parquetSchema(this.columns);
    this.sink = options.sink;
    this.codec = options.compression ?? "SNAPPY";
    this.pageSize = options.pageSize ?? MIB;
    this.flushBytes = options.flushBytes ?? MIB;
    this.createdBy = options.createdBy ?? DEFAULT_CREATED_BY;
    this.out.appendUint32(MAGIC);
  }

  /** Bytes of the file produced so far, sent or buffered. */
  get bytesWritten(): number {
    return this.out.offset;
  }

  get rowCount(): number {
    return this.rows;
  }

  get rowGroupCount(): number {
    return this.rowGroups.length;
  }

  /**
   * Memory the writer holds between row groups: reusable encoding buffers and
   * unsent bytes (bounded by the largest column chunk) plus the serialized
   * row-group metadata kept for the footer (grows by a few kB per row group).
   */
  get retainedBytes(): { buffers: number; footerMetadata: number } {
    let footerMetadata = 0;
    for (const rowGroup of this.rowGroups) footerMetadata += rowGroup.length;
    return { buffers: this.scratch.bytes + this.out.buffer.byteLength, footerMetadata };
  }

  private begin(): void {
    if (this.state !== "open") {
      throw new ParquetWriteError(
        this.state === "busy" ? "a previous write has not finished; await it first" : `the writer is ${this.state}`,
      );
    }
    this.state = "busy";
  }

  /**
   * Appends one row group, given either as an array with the values of field
   * i at index i, or as an object with one property per field name (see
   * ColumnValues for the contract). A group of zero rows adds nothing. Bad
   * values throw ColumnValueError and leave the writer unusable.
   */
  async writeRowGroup<T extends ColumnsByName<T>>(columns: readonly ColumnValues[] | T): Promise<void> {
    this.begin();
    try {
      const ordered = this.inFieldOrder(columns);
      const rows = ordered[0]?.length ?? 0;
      if (rows > 0) {
        const groupStart = this.out.offset;
        const chunks: ColumnChunkMeta[] = [];
        for (let i = 0; i < this.columns.length; i++) {
          chunks.push(this.writeChunk(this.columns[i] as ParquetColumn, ordered[i] as ColumnValues, rows));
          if (this.out.index >= this.flushBytes) await this.flush();
        }
        this.rowGroups.push(
          serializeRowGroup({
            columns: chunks,
            numRows: rows,
            fileOffset: groupStart,
            totalCompressedSize: this.out.offset - groupStart,
            ordinal: this.rowGroups.length,
          }),
        );
        this.rows += rows;
      }
      this.state = "open";
    } catch (error) {
      this.state = "failed";
      throw error;
    }
  }

  private inFieldOrder(columns: readonly ColumnValues[] | object): readonly ColumnValues[] {
    if (Array.isArray(columns)) {
      if (columns.length !== this.columns.length) {
        throw new ParquetWriteError(`expected ${this.columns.length} columns, got ${columns.length}`);
      }
      return columns;
    }
    const byName = columns as Readonly<Record<string, ColumnValues | undefined>>;
    const extra = Object.keys(byName).filter((name) => !this.columns.some((column) => column.name === name));
    if (extra.length > 0) throw new ParquetWriteError(`unknown columns: ${extra.join(", ")}`);
    return this.columns.map((column) => {
      const values = byName[column.name];
      if (values === undefined) throw new ParquetWriteError(`column ${column.name} is missing`);
      return values;
    });
  }

  private writeChunk(column: ParquetColumn, values: ColumnValues, rows: number): ColumnChunkMeta {
    const plain = encodeColumn(column, values, rows, this.scratch);
    return writeColumnChunk(this.out, column, plain, { codec: this.codec, pageSize: this.pageSize }, this.scratch);
  }

  private async flush(): Promise<void> {
    if (this.out.index === 0) return;
    const chunk = this.out.getBytes().slice();
    this.out.index = 0;
    await this.sink.write(chunk);
  }

  /**
   * Writes the footer with `ARROW:schema` first and then `keyValueMetadata`
   * in its order (the project passes nozzle_metadata, parent_file_ids and
   * generation), and sends the rest of the file to the sink.
   */
  async finish(keyValueMetadata: Readonly<Record<string, string>> = {}): Promise<WrittenParquetFile> {
    this.begin();
    try {
      if (ARROW_SCHEMA_KEY in keyValueMetadata) {
        throw new ParquetWriteError(`${ARROW_SCHEMA_KEY} is written by the writer itself`);
      }
      const footer = serializeFileMetaData({
        schema: this.schema,
        numRows: this.rows,
        rowGroups: this.rowGroups,
        keyValueMetadata: [
          { key: ARROW_SCHEMA_KEY, value: encodeArrowSchema(this.columns.map((column) => column.field)) },
          ...Object.entries(keyValueMetadata).map(([key, value]) => ({ key, value })),
        ],
        createdBy: this.createdBy,
      });
      this.out.appendBytes(footer);
      this.out.appendUint32(footer.length);
      this.out.appendUint32(MAGIC);
      const written = { bytes: this.out.offset, rows: this.rows, rowGroups: this.rowGroups.length };
      await this.flush();
      this.state = "finished";
      return written;
    } catch (error) {
      this.state = "failed";
      throw error;
    }
  }
}

