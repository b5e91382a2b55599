/**
 * What a job should extract next, from what its tables already hold. Pure:
 * the JobRunner feeds it the segments of each table, the steps it has handed
 * out and the chain head it last saw, and acts on the answer.
 */
import { type BlockRange, type RangeSet, difference, intersection, normalize, union } from "./block-range";
import { type Segment, missingRanges } from "./canonical-chain";
import { nextSteps } from "./step-plan";

export interface JobPlanInput {
  readonly startBlock: number;
  /** The resolved end block; null for a continuous job. */
  readonly end: number | null;
  /** The provider's chain head as last seen; null when not known yet or the chain is empty. */
  readonly head: number | null;
  /** The segments of each table of the job. */
  readonly tables: readonly (readonly Segment[])[];
  /** Covered blocks that must be extracted again (a reorg behind the cursor). */
  readonly forced: readonly BlockRange[];
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

/** The blocks of `desired` one table still needs, including forced re-extraction. */
export function tableMissing(desired: BlockRange, segments: readonly Segment[], forced: readonly BlockRange[]): RangeSet {
  return union(missingRanges(desired, segments), intersection(forced, [desired]));
}

export function planJob(input: JobPlanInput): JobPlan {
  const missingIn = (range: BlockRange | null): RangeSet =>
    range ? normalize(input.tables.flatMap((segments) => tableMissing(range, segments, input.forced))) : [];
  const desired = desiredRange(input.startBlock, input.end, input.head);
  const missing = missingIn(desired);
  const steps = nextSteps({ missing, inFlight: input.busy, stepSize: input.stepSize, parallelism: input.parallelism });
  const whole = input.end === null ? null : { start: input.startBlock, end: input.end };
  const complete =
    whole !== null && input.busy.length === 0 && (desired?.end === whole.end ? missing : missingIn(whole)).length === 0;
  return { missing, steps, complete };
}

/** Forced ranges that a completed step has now extracted again are no longer forced. */
export function settleForced(forced: readonly BlockRange[], extracted: BlockRange): RangeSet {
  return difference(forced, [extracted]);
}
