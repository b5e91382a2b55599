/** Invalidated partitions and rebuilds as a job's runner sees them: the invalidations it reads, the ranges it extracts again. */
import { type BlockRange, union } from "../src/domain/block-range";
import type { ExtraWork } from "../src/domain/job-plan";
import { listInvalidations } from "../src/store/invalidations";
import type { RunnerContext } from "./runner-context";
import type { RunnerJob, RunnerState } from "./runner-storage";

/** What the job extracts besides its own range. */
export function extraWork(job: RunnerJob, state: RunnerState): ExtraWork {
  return { forced: state.forced, rebuild: state.rebuild ?? [], rebuildOnly: job.rebuildRanges !== undefined };
}

/**
 * Reads the invalidations of one location from D1 into the runner's storage. Done before every progress
 * figure the runner writes and when the API says partitions changed, so no figure it writes counts a file an
 * invalidation recorded before the read took out.
 */
export async function refreshInvalidations(runner: RunnerContext, locationId: number): Promise<void> {
  const rows = await listInvalidations(runner.db, [locationId]);
  runner.storage.addInvalidations(locationId, rows);
}

/** Adds ranges to extract again (a rebuild handed to a job that is already running). */
export function addRebuild(state: RunnerState, ranges: readonly BlockRange[]): void {
  state.rebuild = [...union(state.rebuild ?? [], ranges)];
}
