/**
 * What every kind's block source produces and what the step runner consumes:
 * runs of consecutive blocks (or slots) with their rows per table. The step
 * runner and the Parquet files only see these types, never a kind's own.
 */
import type { SourceHints } from "../domain/step-protocol";
import type { Semaphore } from "./limits";

/** A block as the unit of progress and reorg detection: hashes are 0x + lowercase hex. */
export interface BlockRef {
  number: number;
  hash: string;
  /** The previous block's hash; null when the kind links blocks by number alone (eth-beacon slots). */
  parentHash: string | null;
}

/**
 * One value of a column, by the column's Arrow type:
 * - UInt64, Timestamp (ns), Decimal128 -> bigint
 * - UInt32, Int32 -> number
 * - Binary, FixedSizeBinary -> Uint8Array
 * - Utf8 -> string
 * - Boolean -> boolean
 * - a null in a nullable column -> null
 */
export type ColumnValue = bigint | number | boolean | Uint8Array | string | null;

/**
 * A table's rows as columns: one array per column, keyed by column name, in
 * the order of the table's fields (`_block_num` first), all of one length.
 * Rows are in block order.
 */
export type TableColumns = Record<string, ColumnValue[]>;

/** A run of consecutive blocks, as refs and as table columns. */
export interface SourceChunk {
  /** In block order, one per block, empty blocks included. */
  blocks: BlockRef[];
  tables: Readonly<Record<string, TableColumns>>;
  /** Bytes of the provider's answers the source holds while this chunk is handed out (this one's and any fetched ahead). */
  answerBytes?: number;
}

/** Where a kind's blocks come from: its provider's client. */
export interface BlockSource {
  /** The number of the chain head (`finalized` or `latest`), null when the provider has none. */
  head(finalized: boolean): Promise<number | null>;
  /** The hashes of the given blocks as the provider sees them now; blocks it does not have are left out. */
  blockHashes(numbers: readonly number[]): Promise<Map<number, string>>;
  /** Blocks `start..=end` in chunks of consecutive blocks, in order, each block once. */
  blocks(start: number, end: number): AsyncIterable<SourceChunk>;
  /** What this source learned about its provider so far, for the job's next steps; null when nothing. */
  hints(): SourceHints | null;
  /** HTTP requests sent to the provider so far. */
  readonly requests: number;
}

/** How a step's source starts: from what the job's earlier steps learned, within the step's subrequest budget. */
export interface SourceOptions {
  hints: SourceHints | null;
  /** HTTP requests the source may send at most; null: no limit. */
  requestBudget: number | null;
  /** Deploy's `verify`: check each block against its own commitments before handing out its rows. */
  verify: boolean;
  /** The invocation's outgoing connections (invocationConnections), shared with the other steps of its batch; default: the source's own. */
  connections?: Semaphore;
}
