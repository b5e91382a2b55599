/**
 * The crashes the campaign arms, one per dataset, and the ones that happened. The test arms them and the
 * campaign's Worker entry (crash-entry.ts) meets them: both run in the project's one workerd isolate, so they
 * share this module. A target is matched by the dataset of the job that reaches the point (its jobs row), so a
 * crash can be armed before the deploy that meets it (a crash at the job's first transition comes before the
 * deploy's answer).
 */
import type { CrashPoint, PhasePlace } from "../../../src/domain/crash-points";
import type { JobStatus } from "../../../src/domain/job";

export interface CrashTarget {
  /** The dataset whose job crashes. */
  dataset: string;
  point: CrashPoint;
  /** Only at this table's file (a step's per-table points, runner:progress-saved). */
  table?: string;
  /** Only at the change to this status (runner:status-mirrored). */
  status?: JobStatus;
}

export interface Crash {
  target: CrashTarget;
  jobId: number;
  /** When it happened, ms since the epoch. */
  at: number;
}

const armed: CrashTarget[] = [];
/** Every crash that happened, in order. */
export const crashes: Crash[] = [];
const datasetOfJob = new Map<number, string | null>();

/** Arms one crash: the first time a job of the dataset reaches the point (and table, and status). */
export function armCrash(target: CrashTarget): void {
  armed.push(target);
}

async function datasetOf(db: D1Database, jobId: number): Promise<string | null> {
  if (!datasetOfJob.has(jobId)) {
    const row = await db.prepare("SELECT descriptor FROM jobs WHERE id = ?").bind(jobId).first<{ descriptor: string }>();
    const name = row ? (JSON.parse(row.descriptor) as { Dump?: { dataset_name?: string } }).Dump?.dataset_name : undefined;
    datasetOfJob.set(jobId, name ?? null);
  }
  return datasetOfJob.get(jobId) ?? null;
}

/** The armed crash this point meets, disarmed (each happens once) and recorded; null when the point passes. */
export async function crashAt(db: D1Database, point: CrashPoint, place: PhasePlace): Promise<Crash | null> {
  // Most points of most jobs pass: no D1 read for a point nothing is armed at.
  if (!armed.some((target) => target.point === point)) return null;
  const dataset = await datasetOf(db, place.jobId);
  // Found and taken without an await between: of two steps meeting one target at once, one crashes.
  const index = armed.findIndex(
    (target) =>
      target.point === point &&
      target.dataset === dataset &&
      (target.table === undefined || target.table === place.table) &&
      (target.status === undefined || target.status === place.status),
  );
  if (index < 0) return null;
  const [target] = armed.splice(index, 1) as [CrashTarget];
  const crash = { target, jobId: place.jobId, at: Date.now() };
  crashes.push(crash);
  return crash;
}
