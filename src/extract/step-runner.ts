/**
 * Runs one extraction step: fetches the step's blocks once, and writes each
 * table's share into Parquet files in R2, one file per contiguous, hash-linked
 * run of blocks (reference §5.3): a file closes at the end of the table's
 * range, where the next block's parent hash does not match (a reorg inside
 * the range), or when it reaches the size cap. Registering the files is the
 * caller's job, after every object is complete.
 */
import type { ArrowField } from "../domain/arrow";
import { type BlockRange, contains } from "../domain/block-range";
import type { StepPhase } from "../domain/crash-points";
import type { KindTable } from "../domain/dataset-kinds/kind-definition";
import { RetryableError } from "../domain/errors";
import type { StepTable } from "../domain/step-protocol";
import type { BlockRef, BlockSource, TableColumns } from "./block-source";
import { TableFile, type WrittenFile } from "./table-file";

export type { WrittenFile } from "./table-file";

/** Like the original's `writer.bytes` default: a file closes once it reaches 2 GiB. */
export const DEFAULT_MAX_FILE_BYTES = 2 * 1024 ** 3;

/** What a step reads from its kind's source: the blocks, and the hash of a file's last block before it is read. */
export type StepSource = Pick<BlockSource, "blocks" | "blockHashes">;

export interface ExtractStepInput {
  client: StepSource;
  /** The kind's tables, with the columns each file gets. */
  kindTables: readonly KindTable[];
  bucket: R2Bucket;
  network: string;
  range: BlockRange;
  tables: readonly StepTable[];
  maxFileBytes?: number;
  /** R2 multipart part size; files smaller than one part are put in one request. */
  partSize?: number;
  /** The step's crash-point hook (src/domain/crash-points.ts); none: every point passes. */
  atPhase?: StepPhase;
}

/** Where each block's rows start in a chunk's table columns (rows are in block order). */
function rowOffsets(columns: TableColumns, blocks: readonly BlockRef[]): number[] {
  const numbers = columns._block_num ?? [];
  const offsets: number[] = [];
  let row = 0;
  for (const block of blocks) {
    offsets.push(row);
    const n = BigInt(block.number);
    while (row < numbers.length && numbers[row] === n) row++;
  }
  offsets.push(row);
  return offsets;
}

/** The end of the range of `ranges` that holds `block`. */
function rangeEndOf(ranges: readonly BlockRange[], block: number): number {
  return ranges.find((range) => range.start <= block && block <= range.end)?.end ?? block;
}

class TableWriter {
  private file: TableFile | null = null;
  private lastHash: string | null = null;
  readonly written: WrittenFile[] = [];

  constructor(
    private readonly step: StepTable,
    private readonly fields: readonly ArrowField[],
    private readonly input: ExtractStepInput,
  ) {}

  get table(): string {
    return this.step.table;
  }

  /** Feeds one chunk of blocks: opens and closes files at the right blocks, then hands over the rows. */
  async feed(blocks: readonly BlockRef[], columns: TableColumns): Promise<void> {
    const offsets = rowOffsets(columns, blocks);
    let runFrom = 0;
    for (let i = 0; i < blocks.length; i++) {
      const block = blocks[i] as BlockRef;
      const wanted = contains(this.step.ranges, block.number);
      const linked = this.lastHash === null || block.parentHash === null || block.parentHash === this.lastHash;
      const full = this.file !== null && this.file.size >= (this.input.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
      if (this.file && (!wanted || !linked || full)) {
        await this.file.append(columns, offsets[runFrom] as number, offsets[i] as number, this.lastBlock(blocks, i));
        await this.close();
      }
      if (!wanted) {
        runFrom = i + 1;
        continue;
      }
      if (!this.file) {
        this.file = this.open(block);
        runFrom = i;
      }
      this.lastHash = block.hash;
    }
    if (this.file) await this.file.append(columns, offsets[runFrom] as number, offsets[blocks.length] as number, this.lastBlock(blocks, blocks.length));
  }

  private lastBlock(blocks: readonly BlockRef[], before: number): { number: number; hash: string } {
    const block = blocks[before - 1];
    return block ? { number: block.number, hash: block.hash } : { number: this.file?.end ?? 0, hash: this.file?.hash ?? "" };
  }

  private open(block: BlockRef): TableFile {
    const end = rangeEndOf(this.step.ranges, block.number);
    return new TableFile({
      location: this.step,
      fields: this.fields,
      network: this.input.network,
      bucket: this.input.bucket,
      start: block.number,
      prevHash: block.parentHash,
      partSize: this.input.partSize,
      atPhase: this.input.atPhase,
      predictEnd: async () => {
        const hash = (await this.input.client.blockHashes([end])).get(end);
        if (hash === undefined) throw new RetryableError("block_not_available", `block ${end} is not available from the provider`);
        return { end, hash };
      },
    });
  }

  async close(): Promise<void> {
    if (!this.file) return;
    const file = this.file;
    this.file = null;
    this.lastHash = null;
    this.written.push(await file.close());
  }

  /** Bytes the open file holds in memory. */
  get heldBytes(): number {
    return this.file?.heldBytes ?? 0;
  }

  async abort(): Promise<void> {
    await this.file?.abort();
    this.file = null;
  }
}

function tableOf(tables: Readonly<Record<string, TableColumns>>, table: string): TableColumns {
  const columns = tables[table];
  if (!columns) throw new Error(`the block source produced no rows for table ${table}`);
  return columns;
}

/** Waits for every task, then fails with the first failure: nothing is left running when the step gives up. */
async function allOf(tasks: readonly Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(tasks)).find((outcome) => outcome.status === "rejected");
  if (failed) throw failed.reason;
}

export interface ExtractedStep {
  /** Complete in R2, not registered. */
  files: WrittenFile[];
  /** The most bytes the step held at once by its own account: the source's answers, gathered rows, encoded Parquet not uploaded. */
  heldBytes: number;
}

/** Extracts `input.range` for every table of the step. */
export async function runExtractStep(input: ExtractStepInput): Promise<ExtractedStep> {
  const writers = input.tables
    .filter((table) => table.ranges.length > 0)
    .map((table) => {
      const fields = input.kindTables.find((kindTable) => kindTable.name === table.table)?.fields;
      if (!fields) throw new Error(`table ${table.table} is not a table of this dataset kind`);
      return new TableWriter(table, fields, input);
    });
  if (writers.length === 0) return { files: [], heldBytes: 0 };
  let heldBytes = 0;
  const held = (answers: number) => writers.reduce((sum, writer) => sum + writer.heldBytes, answers);
  try {
    for await (const chunk of input.client.blocks(input.range.start, input.range.end)) {
      await input.atPhase?.("step:fetched");
      const answers = chunk.answerBytes ?? 0;
      await allOf(writers.map((writer) => writer.feed(chunk.blocks, tableOf(chunk.tables, writer.table))));
      heldBytes = Math.max(heldBytes, held(answers));
    }
    // The tables' last row groups and uploads go together: the uploads wait on R2, not on each other.
    await allOf(writers.map((writer) => writer.close()));
  } catch (error) {
    await Promise.all(writers.map((writer) => writer.abort().catch(() => undefined)));
    throw error;
  }
  return { files: writers.flatMap((writer) => writer.written), heldBytes };
}
