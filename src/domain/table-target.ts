/**
 * Where a table is heading: the `target_end` of its partitions, up to which blocks no file holds are listed as
 * `missing`. Decided from what is known, the first that answers wins:
 *
 * 1. The table's heading job: the newest job of its manifest that is not a rebuild-only job. A rebuild extracts
 *    some ranges again; it says nothing about where the table goes, so a finished rebuild must not shorten the
 *    target to the top of its ranges. Its target, in this order:
 *    - the end block its runner resolved (also once it stopped or failed half-way: the blocks it did not reach
 *      are still missing);
 *    - for a continuous job, the chain head its runner read last;
 *    - when its runner holds nothing (not started, or it failed before taking the job): its descriptor's end,
 *      block N as such, `latest` / `-N` / continuous against the manifest's chain head last read.
 * 2. The chain head last read for the manifest (`chain_heads`, by any of its jobs): a location no job of the
 *    manifest is known to write (jobs deleted, or never deployed) heads where its chain is.
 * 3. Null: nothing is known; the partitions end with the last file.
 */
import { type EndBlock, resolveEndBlock } from "./end-block";

/** What a job's runner knows of its range (the JobRunner's `target()`); null while it holds no job. */
export interface RunnerTarget {
  readonly continuous: boolean;
  /** The resolved end block; null for a continuous job and before it is resolved. */
  readonly endBlock: number | null;
  /** The chain head it read last; null before its first read. */
  readonly head: number | null;
}

export interface HeadingJob {
  /** The end block of its descriptor, as deployed. */
  readonly endBlock: EndBlock;
  readonly runner: RunnerTarget | null;
}

export interface TargetInputs {
  /** The newest job of the table's manifest that is not a rebuild-only job; null when there is none. */
  readonly job: HeadingJob | null;
  /** The chain head last read for the table's manifest; null when never read. */
  readonly chainHead: number | null;
  /** The dataset's start block, for resolving `latest` and `-N` as a job start does. */
  readonly startBlock: number;
}

function jobTarget(job: HeadingJob, chainHead: number | null, startBlock: number): number | null {
  const { runner } = job;
  if (runner !== null) {
    if (runner.endBlock !== null) return runner.endBlock;
    if (runner.continuous && runner.head !== null) return runner.head;
  }
  if (job.endBlock.kind === "absolute") return job.endBlock.block;
  if (job.endBlock.kind === "continuous") return chainHead;
  const resolved = resolveEndBlock(job.endBlock, { start: startBlock, ...(chainHead === null ? {} : { latest: chainHead }) });
  return resolved.ok && resolved.end.kind === "block" ? resolved.end.block : null;
}

/** The table's target end, by the rule above. */
export function tableTargetEnd(inputs: TargetInputs): number | null {
  const fromJob = inputs.job === null ? null : jobTarget(inputs.job, inputs.chainHead, inputs.startBlock);
  return fromJob ?? inputs.chainHead;
}
