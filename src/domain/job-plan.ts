/**
 * What a job should extract next, from what its tables already hold. Pure:
 * the JobRunner feeds it the segments of each table, the steps it has handed
 * out and the chain head it last saw, and acts on the answer.
 */
import { type BlockRange, type RangeSet, difference, intersection, normalize, union } from "./block-range";
import { type Invalidation, type Segment, missingRanges } from "./canonical-chain";
import { nextSteps } from "./step-plan";

/** One table of a job: its files and its invalidations. */
export interface PlanTable {
  readonly segments: readonly Segment[];
  readonly invalidations: readonly Invalidation[];
}

/**
 * What a job extracts besides its own range: `forced` covered ranges (a reorg behind the cursor), `rebuild`
 * ranges where invalidated files do not count (a rebuild), and whether the job extracts nothing else (a job a
 * rebuild deployed).
 */
export interface ExtraWork {
  readonly forced: readonly BlockRange[];
  readonly rebuild: readonly BlockRange[];
  readonly rebuildOnly: boolean;
}

export interface JobPlanInput {
  readonly startBlock: number;
  /** The resolved end block; null for a continuous job. */
  readonly end: number | null;
  /** The provider's chain head as last seen; null when not known yet or the chain is empty. */
  readonly head: number | null;
  /** The segments and invalidations of each table of the job. */
  readonly tables: readonly PlanTable[];
  /** Covered blocks that must be extracted again (a reorg behind the cursor). */
  readonly forced: readonly BlockRange[];
  /** Ranges to extract again where invalidated files do not count (rebuilds); up to the head. */
  readonly rebuild: readonly BlockRange[];
  /** A job a rebuild deployed: it extracts its rebuild ranges and nothing else. */
  readonly rebuildOnly: boolean;
  /** Ranges of steps handed out or waiting to be retried. */
  readonly busy: readonly BlockRange[];
  readonly stepSize: number;
  readonly parallelism: number;
}

export interface JobPlan {
  /** Every block some table still needs, up to the head. */
  readonly missing: RangeSet;
  /** New steps to hand out now. */
  readonly steps: readonly BlockRange[];
  /**
   * A finite job whose every table has the whole range, with nothing in
   * flight. Decided from the files alone: blocks in a file were on the chain,
   * so a head that is not known yet (or fell back) does not hold it back.
   */
  readonly complete: boolean;
}

/** The blocks a job wants now: from its start block up to its end, but not past the head. */
export function desiredRange(startBlock: number, end: number | null, head: number | null): BlockRange | null {
  if (head === null) return null;
  const last = end === null ? head : Math.min(end, head);
  return last >= startBlock ? { start: startBlock, end: last } : null;
}

/** The blocks of `ranges` a table needs again because the files holding them were invalidated (or never came). */
export function rebuildMissing(ranges: readonly BlockRange[], table: PlanTable): RangeSet {
  return normalize(normalize(ranges).flatMap((range) => missingRanges(range, table.segments, table.invalidations)));
}

/**
 * The blocks of `desired` one table still needs: what no file holds (invalidated files still hold their blocks
 * here, so an invalidated range waits for a rebuild), forced re-extraction, and the rebuild ranges' blocks that
 * do not count.
 */
export function tableMissing(desired: BlockRange, table: PlanTable, extra: ExtraWork): RangeSet {
  const rebuilt = rebuildMissing(intersection(extra.rebuild, [desired]), table);
  if (extra.rebuildOnly) return rebuilt;
  return union(union(missingRanges(desired, table.segments), intersection(extra.forced, [desired])), rebuilt);
}

export function planJob(input: JobPlanInput): JobPlan {
  const missingIn = (range: BlockRange | null): RangeSet =>
    range ? normalize(input.tables.flatMap((table) => tableMissing(range, table, input))) : [];
  // Rebuild ranges are extracted wherever they are, up to the head, also outside the job's own range.
  const rebuilding = (last: number | null): RangeSet =>
    last === null ? [] : normalize(input.tables.flatMap((table) => rebuildMissing(intersection(input.rebuild, [{ start: 0, end: last }]), table)));
  const desired = input.rebuildOnly ? null : desiredRange(input.startBlock, input.end, input.head);
  const missing = union(missingIn(desired), rebuilding(input.head));
  const steps = nextSteps({ missing, inFlight: input.busy, stepSize: input.stepSize, parallelism: input.parallelism });
  const whole = input.end === null ? null : { start: input.startBlock, end: input.end };
  const rebuildDone = rebuilding(Number.MAX_SAFE_INTEGER).length === 0;
  const ownDone = input.rebuildOnly || (whole !== null && (desired?.end === whole.end ? missingIn(desired) : missingIn(whole)).length === 0);
  const complete = (input.rebuildOnly || whole !== null) && input.busy.length === 0 && rebuildDone && ownDone;
  return { missing, steps, complete };
}

/** Rebuild ranges whose blocks now count in every table are done. */
export function settleRebuild(rebuild: readonly BlockRange[], tables: readonly PlanTable[]): RangeSet {
  return normalize(tables.flatMap((table) => rebuildMissing(rebuild, table)));
}

/** Forced ranges that a completed step has now extracted again are no longer forced. */
export function settleForced(forced: readonly BlockRange[], extracted: BlockRange): RangeSet {
  return difference(forced, [extracted]);
}
