/**
 * Which extraction steps to start next. A step is one block range for all
 * tables of a dataset. Steps are fixed-size chunks aligned to multiples of the
 * step size (with 1,000: 0..=999, 1000..=1999, ...), cut short only where the
 * missing ranges end, so leases and retries stay small and the same missing
 * blocks always give the same step ranges, hence the same file names, across
 * restarts and redeliveries.
 */
import { type BlockRange, difference } from "./block-range";

export interface StepPlanInput {
  /** Blocks still to extract (any ranges; normalized here). */
  readonly missing: readonly BlockRange[];
  /** Ranges of the steps currently leased out, one entry per step. */
  readonly inFlight: readonly BlockRange[];
  /** Blocks per step, a positive integer. */
  readonly stepSize: number;
  /** Steps allowed in flight at once, a positive integer. */
  readonly parallelism: number;
}

/**
 * The steps to start now, lowest blocks first: missing blocks not covered by
 * an in-flight step, in aligned chunks, as many as there are free slots
 * (parallelism minus steps in flight; none when all are taken).
 */
export function nextSteps(input: StepPlanInput): BlockRange[] {
  const { stepSize, parallelism } = input;
  requirePositive("step size", stepSize);
  requirePositive("parallelism", parallelism);
  const slots = parallelism - input.inFlight.length;
  const steps: BlockRange[] = [];
  if (slots <= 0) return steps;
  for (const step of chunks(difference(input.missing, input.inFlight), stepSize)) {
    steps.push(step);
    if (steps.length === slots) break;
  }
  return steps;
}

function* chunks(ranges: readonly BlockRange[], stepSize: number): Generator<BlockRange> {
  for (const range of ranges) {
    let start = range.start;
    while (start <= range.end) {
      const alignedEnd = (Math.floor(start / stepSize) + 1) * stepSize - 1;
      const end = Math.min(alignedEnd, range.end);
      yield { start, end };
      start = end + 1;
    }
  }
}

/** A step size or parallelism that is not a positive integer is a caller bug, not bad input. */
function requirePositive(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${what} must be a positive integer, got ${value}`);
}
