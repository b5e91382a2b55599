import { and, desc, eq, lt } from "drizzle-orm";
import { DEFAULT_GC_GRACE_SECS } from "../domain/garbage-rules";
import { nowTimestamp } from "./clock";
import type { Db } from "./db";
import { collectGarbage, type GarbageTotals, type GarbageWindow } from "./garbage-collection";
import { gcRuns } from "./schema";

/** Garbage collection runs and their status, the job-like resource `POST /gc` answers (src/api/gc.ts). */

export type GcRun = typeof gcRuns.$inferSelect;
export type GcRunStatus = "running" | "completed" | "failed";
export type GcTrigger = "request" | "cron";

export interface NewGcRun {
  trigger: GcTrigger;
  olderThanSecs: number;
  cutoff: string;
  /** The UTC day of a Cron run (`2025-11-06`); at most one run per day has it. */
  scheduledFor?: string;
}

/** Inserts a running run; null when a run already has its `scheduledFor` day. */
export async function createGcRun(db: Db, run: NewGcRun): Promise<GcRun | null> {
  const now = nowTimestamp();
  const [row] = await db
    .insert(gcRuns)
    .values({ ...run, scheduledFor: run.scheduledFor ?? null, status: "running", filesRemoved: 0, objectsRemoved: 0, bytesRemoved: 0, createdAt: now, updatedAt: now })
    .onConflictDoNothing({ target: gcRuns.scheduledFor })
    .returning();
  return row ?? null;
}

export async function getGcRun(db: Db, id: number): Promise<GcRun | undefined> {
  const [row] = await db.select().from(gcRuns).where(eq(gcRuns.id, id));
  return row;
}

/** The newest run still running, if any. */
export async function findRunningGcRun(db: Db): Promise<GcRun | undefined> {
  const [row] = await db.select().from(gcRuns).where(eq(gcRuns.status, "running")).orderBy(desc(gcRuns.id)).limit(1);
  return row;
}

/** Runs still running whose last update is older than `before`: their Worker died; the Cron trigger runs them again. */
export async function listStaleGcRuns(db: Db, before: string): Promise<GcRun[]> {
  return db
    .select()
    .from(gcRuns)
    .where(and(eq(gcRuns.status, "running"), lt(gcRuns.updatedAt, before)));
}

/** Marks a run as being worked on now, so it is not taken for stale while it runs. */
export async function touchGcRun(db: Db, id: number): Promise<void> {
  await db.update(gcRuns).set({ updatedAt: nowTimestamp() }).where(eq(gcRuns.id, id));
}

export async function finishGcRun(db: Db, id: number, outcome: { totals: GarbageTotals } | { error: string }): Promise<void> {
  const now = nowTimestamp();
  const set =
    "totals" in outcome
      ? { status: "completed", filesRemoved: outcome.totals.files, objectsRemoved: outcome.totals.objects, bytesRemoved: outcome.totals.bytes }
      : { status: "failed", error: outcome.error };
  await db
    .update(gcRuns)
    .set({ ...set, updatedAt: now, finishedAt: now })
    .where(and(eq(gcRuns.id, id), eq(gcRuns.status, "running")));
}

/** The window of a collection with a grace period of `olderThanSecs`, at `nowMs`. */
export function garbageWindow(olderThanSecs: number, nowMs: number): GarbageWindow {
  return { cutoff: new Date(nowMs - olderThanSecs * 1000).toISOString(), now: new Date(nowMs).toISOString() };
}

/** Runs a collection to its end and records the outcome on the run. */
export async function executeGcRun(db: Db, bucket: R2Bucket, run: GcRun): Promise<void> {
  try {
    await touchGcRun(db, run.id);
    const totals = await collectGarbage(db, bucket, { cutoff: run.cutoff, now: nowTimestamp() });
    await finishGcRun(db, run.id, { totals });
  } catch (error) {
    console.error(`garbage collection run ${run.id} failed`, error);
    await finishGcRun(db, run.id, { error: error instanceof Error ? error.message : String(error) });
  }
}

/** A run not updated for this long is taken for dead (its Worker was evicted) and run again. */
const STALE_RUN_MS = 15 * 60 * 1000;

/**
 * The Cron trigger's share of garbage collection: runs again what a dead Worker left running, and, when
 * `dailyHourUtc` is set (AMP_GC_DAILY_HOUR_UTC), starts the day's run once the hour has come, with the default
 * grace period. The day's run is claimed by its unique `scheduled_for`, so it starts once however often the
 * trigger fires.
 */
export async function runScheduledGc(db: Db, bucket: R2Bucket, dailyHourUtc: number | null, now: Date): Promise<void> {
  for (const run of await listStaleGcRuns(db, new Date(now.getTime() - STALE_RUN_MS).toISOString())) await executeGcRun(db, bucket, run);
  if (dailyHourUtc === null || now.getUTCHours() < dailyHourUtc) return;
  const day = now.toISOString().slice(0, 10);
  const { cutoff } = garbageWindow(DEFAULT_GC_GRACE_SECS, now.getTime());
  const run = await createGcRun(db, { trigger: "cron", olderThanSecs: DEFAULT_GC_GRACE_SECS, cutoff, scheduledFor: day });
  if (run) await executeGcRun(db, bucket, run);
}

/** AMP_GC_DAILY_HOUR_UTC as an hour 0..23; null when unset or not such an hour. */
export function dailyGcHour(value: string | undefined): number | null {
  if (value === undefined || !/^\d{1,2}$/.test(value)) return null;
  const hour = Number(value);
  return hour <= 23 ? hour : null;
}
