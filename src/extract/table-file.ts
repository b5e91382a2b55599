/**
 * One Parquet file of one table being written: rows arrive block by block,
 * are gathered into row groups, and stream out to R2 as they are encoded.
 */
import type { ArrowField } from "../domain/arrow";
import type { BlockRange } from "../domain/block-range";
import type { StepPhase } from "../domain/crash-points";
import { type NozzleMetadata, nozzleMetadata, parquetFileName } from "../domain/parquet-file";
import { type ColumnValues, ParquetStreamWriter } from "../parquet";
import { fileObjectKey } from "../store/r2-layout";
import { type BinaryBytes, binaryBytesOf } from "./binary-bytes";
import type { ColumnValue, TableColumns } from "./block-source";
import { R2ObjectUpload } from "./r2-upload";

/** Rows gathered before a row group is encoded. */
const ROW_GROUP_ROWS = 100_000;
/**
 * Heap the gathered rows take, by estimate, before a row group is encoded:
 * with the three tables of a step gathering at once, this is most of what a
 * step holds besides its answers and uploads. Sparse chains never reach it
 * in a step (one row group per file); at mainnet density a group is some
 * 10,000 rows.
 */
const ROW_GROUP_BYTES = 8 * 1024 * 1024;
/**
 * Heap per value beyond its bytes, measured in V8 (Node 20): an array slot
 * (8), a Uint8Array view object (96 more), a bigint (24 more). Values shared
 * by the rows of a block are counted once per row, so this errs high.
 */
const SLOT_BYTES = 8;
const VIEW_BYTES = SLOT_BYTES + 96;
const BIGINT_BYTES = SLOT_BYTES + 24;

export interface FileLocation {
  table: string;
  locationId: number;
  path: string;
  /** The invalidation the file rebuilds, for its name (StepTable.rebuildOf). */
  rebuildOf?: number;
}

/** A file that is complete in R2, ready to be registered. */
export interface WrittenFile {
  table: string;
  locationId: number;
  fileName: string;
  range: BlockRange;
  hash: string;
  prevHash: string | null;
  rows: number;
  bytes: number;
  etag: string;
  version: string | null;
  metadata: NozzleMetadata;
}

export interface TableFileOptions {
  location: FileLocation;
  fields: readonly ArrowField[];
  network: string;
  bucket: R2Bucket;
  start: number;
  prevHash: string | null;
  /** The block the file is expected to end at and its hash, for a file that outgrows one upload part. */
  predictEnd(): Promise<{ end: number; hash: string }>;
  partSize?: number;
  /** The step's crash-point hook (src/domain/crash-points.ts); none: every point passes. */
  atPhase?: StepPhase;
}

function isBinary(field: ArrowField): boolean {
  return field.type === "Binary" || (typeof field.type === "object" && "FixedSizeBinary" in field.type);
}

/** bigint columns (see ColumnValue): 64-bit integers, timestamps, decimals. */
function isBigInt(field: ArrowField): boolean {
  return field.type === "UInt64" || field.type === "Int64" || (typeof field.type === "object" && ("Timestamp" in field.type || "Decimal128" in field.type));
}

/** Heap a row takes besides the bytes of its binary values. */
function rowOverhead(fields: readonly ArrowField[]): number {
  return fields.reduce((sum, field) => sum + (isBinary(field) ? VIEW_BYTES : isBigInt(field) ? BIGINT_BYTES : SLOT_BYTES), 0);
}

/** The rows of `chunks` one after the other, column by column (Array.prototype.concat: one native copy per column). */
function joinColumns(chunks: readonly TableColumns[]): TableColumns {
  const [first, ...rest] = chunks;
  return Object.fromEntries(
    Object.entries(first!).map(([name, values]) => [name, (values as ColumnValue[]).concat(...rest.map((chunk) => chunk[name] as ColumnValue[]))]),
  );
}

export class TableFile {
  private readonly writer: ParquetStreamWriter;
  private readonly upload: R2ObjectUpload;
  private readonly binaryBytes: BinaryBytes;
  private readonly rowBytes: number;
  /**
   * The rows gathered for the next row group, as the chunks' own column arrays (or slices of them): a row group
   * at mainnet density gathers many chunks, and copying each value into one array as it arrived was the largest
   * cost of ours in a step's profile (bench:cpu); they are joined once, natively, when the group is encoded.
   */
  private pending: TableColumns[] = [];
  private pendingRows = 0;
  private pendingBytes = 0;
  private readonly createdAt = Date.now();
  readonly start: number;
  end: number;
  hash = "";

  constructor(private readonly options: TableFileOptions) {
    this.start = options.start;
    this.end = options.start - 1;
    this.upload = new R2ObjectUpload(
      options.bucket,
      async () => {
        const predicted = await options.predictEnd();
        return this.keyFor({ start: this.start, end: predicted.end }, predicted.hash);
      },
      () => ({ nozzle_metadata: JSON.stringify(this.metadata()) }),
      options.partSize,
      (point) => options.atPhase?.(point, this.table) ?? Promise.resolve(),
    );
    this.writer = new ParquetStreamWriter({ fields: options.fields, sink: this.upload });
    this.binaryBytes = binaryBytesOf(options.fields);
    this.rowBytes = rowOverhead(options.fields);
  }

  get table(): string {
    return this.options.location.table;
  }

  /** Bytes of the file so far, encoded or gathered. */
  get size(): number {
    return this.writer.bytesWritten + this.pendingBytes;
  }

  /** Bytes the file holds in memory: rows gathered for its next row group, encoded bytes not uploaded yet. */
  get heldBytes(): number {
    return this.pendingBytes + this.upload.buffered;
  }

  private keyFor(range: BlockRange, hash: string): string {
    return fileObjectKey(this.options.location.path, parquetFileName(range, hash, this.options.location.rebuildOf));
  }

  private metadata(): NozzleMetadata {
    const range = { start: this.start, end: this.end };
    const rebuildOf = this.options.location.rebuildOf;
    const identity = { table: this.table, network: this.options.network, range, hash: this.hash, prevHash: this.options.prevHash };
    return nozzleMetadata(rebuildOf === undefined ? identity : { ...identity, rebuildOf }, this.createdAt);
  }

  /** Adds the rows `from..to` of `columns`, which all belong to blocks up to `lastBlock`. */
  async append(columns: TableColumns, from: number, to: number, lastBlock: { number: number; hash: string }): Promise<void> {
    this.end = lastBlock.number;
    this.hash = lastBlock.hash;
    if (to <= from) return;
    const whole = from === 0 && to === (columns._block_num?.length ?? 0);
    // A whole chunk into one file (the common case) is adopted as it is; a part is sliced, so the rest of the
    // chunk (another file's rows) is not held here.
    this.pending.push(whole ? columns : Object.fromEntries(Object.entries(columns).map(([name, values]) => [name, values.slice(from, to)])));
    this.pendingRows += to - from;
    this.pendingBytes += this.binaryBytes(columns, from, to) + (to - from) * this.rowBytes;
    if (this.pendingRows >= ROW_GROUP_ROWS || this.pendingBytes >= ROW_GROUP_BYTES) await this.flushRowGroup();
  }

  private async flushRowGroup(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunks = this.pending;
    this.pending = [];
    this.pendingRows = 0;
    this.pendingBytes = 0;
    const group = chunks.length === 1 ? chunks[0]! : joinColumns(chunks);
    // Each column holds only its field's value type: the kind's source builds them from the same table definitions.
    await this.writer.writeRowGroup(group as Record<string, ColumnValues>);
  }

  /** Finishes the file and its object; an object already stored under the name is kept as it is. */
  async close(): Promise<WrittenFile> {
    await this.flushRowGroup();
    const metadata = this.metadata();
    const written = await this.writer.finish({ nozzle_metadata: JSON.stringify(metadata), parent_file_ids: "[]", generation: "0" });
    const range = { start: this.start, end: this.end };
    const object = await this.upload.complete(this.keyFor(range, this.hash));
    await this.options.atPhase?.("step:object-put", this.table);
    const storedMetadata = object.existed ? parseStoredMetadata(object.customMetadata) : null;
    return {
      table: this.table,
      locationId: this.options.location.locationId,
      fileName: metadata.filename,
      range,
      hash: this.hash,
      prevHash: this.options.prevHash,
      rows: written.rows,
      bytes: object.size,
      etag: object.etag,
      version: object.version,
      metadata: storedMetadata ?? metadata,
    };
  }

  async abort(): Promise<void> {
    await this.upload.abort();
  }
}

function parseStoredMetadata(custom: Record<string, string>): NozzleMetadata | null {
  const text = custom.nozzle_metadata;
  if (!text) return null;
  try {
    return JSON.parse(text) as NozzleMetadata;
  } catch {
    return null;
  }
}
