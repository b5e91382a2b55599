/**
 * The block source of a derived dataset: what a provider's client is to a
 * raw job, read from the dependencies' files instead, so the generic step
 * runner writes derived tables exactly as it writes raw ones (file names,
 * `nozzle_metadata`, one file per hash-linked run, rows and files
 * registered the same way).
 * - head: the lowest canonical end among the tables the SQL reads and the
 *   reference `blocks` table ("synced" in derived-datasets.md §2.1: `latest`
 *   resolves to it, and a continuous job follows it as dependencies grow);
 * - block hashes: the reference chain's (§2.4), so the tip check of a
 *   continuous job sees a reorg repaired in a dependency as a reorg of its
 *   own files below the head, and derives those blocks again (§2.5);
 * - blocks: microbatches of the step's range, each block's ref from the
 *   reference chain and each table's rows from its SQL (microbatch.ts).
 */
import type { BlockRange } from "../domain/block-range";
import { RetryableError } from "../domain/errors";
import type { KindTable } from "../domain/dataset-kinds/kind-definition";
import type { ProbeContext, StepContext, StepSourceContext } from "../domain/step-protocol";
import type { BlockRef, BlockSource, SourceChunk } from "../extract/block-source";
import type { Db } from "../store/db";
import type { TableFile } from "../sql/parquet-table";
import { type Derivation, loadDerivation } from "./derivation";
import { deriveMicrobatch } from "./microbatch";
import { readBlockRefs } from "./reference-chain";

/** Blocks per microbatch: the query server's default interval in the original, small enough for a Worker's memory. */
export const MICROBATCH_BLOCKS = 1000;

export interface DerivedSourceOptions {
  db: Db;
  bucket: R2Bucket;
  context: StepSourceContext;
  /** The tables of the dataset with their file columns; the step runner asks for the ones it writes. */
  kindTables: readonly KindTable[];
  /** Which tables the step writes; all of them when absent (a probe writes none). */
  wanted?: ReadonlySet<string>;
  microbatchBlocks?: number;
}

export class DerivedSource implements BlockSource {
  readonly requests = 0;
  private derivation: Promise<Derivation> | null = null;

  constructor(private readonly options: DerivedSourceOptions) {}

  private load(): Promise<Derivation> {
    this.derivation ??= loadDerivation(this.options.db, this.options.bucket, this.options.context);
    return this.derivation;
  }

  private async referenceFiles(): Promise<TableFile[]> {
    const derivation = await this.load();
    return derivation.catalog.files(derivation.reference);
  }

  async head(): Promise<number | null> {
    const derivation = await this.load();
    let head: number | null = null;
    for (const table of [derivation.reference, ...derivation.sources]) {
      const end = (await derivation.catalog.files(table)).at(-1)?.range.end;
      if (end === undefined) return null;
      head = head === null ? end : Math.min(head, end);
    }
    return head;
  }

  async blockHashes(numbers: readonly number[]): Promise<Map<number, string>> {
    const files = await this.referenceFiles();
    const hashes = new Map<number, string>();
    for (const number of numbers) {
      const file = files.find((f) => f.range.start <= number && number <= f.range.end);
      if (!file) continue;
      if (number === file.range.end && file.hash !== undefined) {
        hashes.set(number, file.hash);
        continue;
      }
      const [ref] = await readBlockRefs(this.options.bucket, derivationFields(await this.load()), [file], { start: number, end: number });
      if (ref) hashes.set(number, ref.hash);
    }
    return hashes;
  }

  async *blocks(start: number, end: number): AsyncIterable<SourceChunk> {
    const derivation = await this.load();
    const size = this.options.microbatchBlocks ?? MICROBATCH_BLOCKS;
    const wanted = this.options.wanted ?? new Set(this.options.kindTables.map((table) => table.name));
    for (let from = start; from <= end; from += size) {
      const range: BlockRange = { start: from, end: Math.min(end, from + size - 1) };
      const blocks = await this.refs(derivation, range);
      const tables = await deriveMicrobatch({
        derivation,
        bucket: this.options.bucket,
        kindTables: this.options.kindTables,
        range,
        startBlock: this.options.context.startBlock,
        wanted,
      });
      yield { blocks, tables };
    }
  }

  /** Every block of the range from the reference chain, or a retry while a dependency has not reached it. */
  private async refs(derivation: Derivation, range: BlockRange): Promise<BlockRef[]> {
    const files = await derivation.catalog.files(derivation.reference);
    const refs = await readBlockRefs(this.options.bucket, derivationFields(derivation), files, range);
    const count = range.end - range.start + 1;
    if (refs.length !== count || refs.some((ref, i) => ref.number !== range.start + i)) {
      throw new RetryableError(
        "dependency_not_synced",
        `the reference chain (${derivation.reference.name} of ${derivation.reference.dataset?.reference}) has ${refs.length} of blocks ${range.start}..=${range.end}`,
      );
    }
    return refs;
  }

  hints(): null {
    return null;
  }
}

/** The source of a derived job's step (writing the tables with blocks left to derive) or probe. */
export function derivedSource(db: Db, bucket: R2Bucket, context: ProbeContext | StepContext): DerivedSource {
  if (!("tables" in context)) return new DerivedSource({ db, bucket, context, kindTables: [] });
  const wanted = new Set(context.tables.filter((table) => table.ranges.length > 0).map((table) => table.table));
  return new DerivedSource({ db, bucket, context, kindTables: context.kindTables, wanted });
}

function derivationFields(derivation: Derivation) {
  return derivation.reference.fields;
}
