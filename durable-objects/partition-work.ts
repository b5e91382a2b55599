/** Invalidated partitions and rebuilds as a job's runner sees them: the invalidations it reads, the ranges it extracts again. */
import { type BlockRange, union } from "../src/domain/block-range";
import type { ExtraWork } from "../src/domain/job-plan";
import { isInvalidated } from "../src/domain/canonical-chain";
import type { StepFile } from "../src/domain/step-protocol";
import { listInvalidations, recordInvalidations } from "../src/store/invalidations";
import { getJob } from "../src/store/jobs";
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

/** Reads the invalidations of all the job's locations from D1 in one query. */
export async function refreshAllInvalidations(runner: RunnerContext, job: RunnerJob): Promise<void> {
  const rows = await listInvalidations(runner.db, job.locations.map((location) => location.locationId));
  for (const location of job.locations) runner.storage.addInvalidations(location.locationId, rows.filter((row) => row.locationId === location.locationId));
}

/** The newest invalidation id the runner knows of, over the job's locations (0 for none). */
export function newestInvalidationId(runner: RunnerContext, job: RunnerJob): number {
  return job.locations.reduce((max, location) => runner.storage.invalidations(location.locationId).reduce((m, i) => Math.max(m, i.id), max), 0);
}

/** Remembers what the runner knew when it handed a step out: the lowest mark over the step's claims. */
export function markClaim(state: RunnerState, stepId: number, newest: number): void {
  const marks = (state.claimMarks ??= {});
  marks[stepId] = Math.min(marks[stepId] ?? newest, newest);
}

/**
 * A step's files that count although an invalidation of their blocks came after the step was handed out:
 * written from blocks fetched before it (a step in flight when a range was invalidated). Each is invalidated
 * in turn, naming the invalidation it slipped past as its reason, so the invalidation holds and a rebuild
 * extracts the range again. Call after the files were recorded (their invalidations read from D1). Returns the
 * locations that got an invalidation.
 */
export async function invalidateStaleFiles(runner: RunnerContext, state: RunnerState, stepId: number, files: readonly StepFile[]): Promise<Set<number>> {
  const touched = new Set<number>();
  const mark = state.claimMarks?.[stepId];
  if (state.claimMarks) delete state.claimMarks[stepId];
  if (mark === undefined) return touched;
  for (const file of files) {
    const segment = { fileId: file.fileId, range: file.range, hash: file.hash, prevHash: file.prevHash, network: file.network };
    const newer = runner.storage.invalidations(file.locationId).filter((i) => i.id > mark && isInvalidated(segment, [{ range: i.range, fileIdCeiling: Number.MAX_SAFE_INTEGER }]));
    const slipped = newer.find((i) => i.fileIdCeiling < file.fileId);
    if (!slipped) continue;
    const reason = `file ${file.fileId} was written by step ${stepId}, handed out before invalidation ${slipped.id} of its blocks`;
    await recordInvalidations(runner.db, file.locationId, [{ locationId: file.locationId, range: file.range, reason, requestedBy: "runner", dependant: true }]);
    await refreshInvalidations(runner, file.locationId);
    touched.add(file.locationId);
  }
  return touched;
}

/** Adds ranges to extract again (a rebuild handed to a job that is already running). */
export function addRebuild(state: RunnerState, ranges: readonly BlockRange[]): void {
  state.rebuild = [...union(state.rebuild ?? [], ranges)];
}

/**
 * A rebuild handed to a job whose runner has not taken charge yet: a job a concurrent rebuild or deploy has
 * just scheduled in D1 and not started. While D1 says SCHEDULED the ranges are kept in the runner's storage and
 * `start` takes them (the deploy's start, or Cron's reconcile when that never came), so the caller's hand-over
 * holds; a job that left SCHEDULED without a runner (stopped, failed at setup) will not run, and takes nothing.
 */
export async function holdForStart(runner: RunnerContext, jobId: number, ranges: readonly BlockRange[]): Promise<boolean> {
  const row = await getJob(runner.db, jobId);
  if (row?.status !== "SCHEDULED") return false;
  await runner.storage.savePendingRebuild([...union(await runner.storage.pendingRebuild(), ranges)]);
  return true;
}
