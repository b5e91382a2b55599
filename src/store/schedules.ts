import { and, asc, eq, isNotNull, lte } from "drizzle-orm";
import { nowTimestamp } from "./clock";
import type { Db } from "./db";
import { schedules } from "./schema";

export type ScheduleRow = typeof schedules.$inferSelect;

export interface ScheduleKey {
  namespace: string;
  name: string;
  /** The revision as the path named it, in its canonical text form. */
  revision: string;
}

export interface ScheduleSettings {
  cron: string;
  timezone: string;
  endBlock: string | number | null;
  parallelism: number;
  enabled: boolean;
  /** The first due time, computed by the caller from the expression; null when disabled. */
  nextRunAt: string | null;
}

/** What came of one due time: a job deployed, a skip because one was already running, or a failure to deploy. */
export type ScheduleRunOutcome = "deployed" | "skipped" | "failed";

const keyMatches = (key: ScheduleKey) => and(eq(schedules.namespace, key.namespace), eq(schedules.name, key.name), eq(schedules.revision, key.revision));

/** Creates or replaces a revision's schedule; its history of runs is kept. Returns the row and whether it is new. */
export async function putSchedule(db: Db, key: ScheduleKey, settings: ScheduleSettings): Promise<{ row: ScheduleRow; created: boolean }> {
  const now = nowTimestamp();
  const [row] = await db
    .insert(schedules)
    .values({ ...key, ...settings, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({ target: [schedules.namespace, schedules.name, schedules.revision], set: { ...settings, updatedAt: now } })
    .returning();
  if (!row) throw new Error(`schedule of ${key.namespace}/${key.name}@${key.revision} was not stored`);
  return { row, created: row.createdAt === now && row.updatedAt === now };
}

export async function getSchedule(db: Db, key: ScheduleKey): Promise<ScheduleRow | null> {
  const [row] = await db.select().from(schedules).where(keyMatches(key));
  return row ?? null;
}

/** Whether a schedule was there to delete. */
export async function deleteSchedule(db: Db, key: ScheduleKey): Promise<boolean> {
  const deleted = await db.delete(schedules).where(keyMatches(key)).returning({ id: schedules.id });
  return deleted.length > 0;
}

/** Every schedule, by dataset and revision. */
export function listSchedules(db: Db): Promise<ScheduleRow[]> {
  return db.select().from(schedules).orderBy(asc(schedules.namespace), asc(schedules.name), asc(schedules.revision));
}

/** Enabled schedules whose next due time has come. */
export function listDueSchedules(db: Db, now: string): Promise<ScheduleRow[]> {
  return db
    .select()
    .from(schedules)
    .where(and(eq(schedules.enabled, true), isNotNull(schedules.nextRunAt), lte(schedules.nextRunAt, now)))
    .orderBy(asc(schedules.nextRunAt), asc(schedules.id));
}

/**
 * Claims due time `dueAt` of schedule `id` by moving its next run on to
 * `nextRunAt`, only if no one did since it was read: of two triggers that
 * read the same due time (a trigger running twice, or late while the next
 * one starts), exactly one wins and deploys.
 */
export async function claimDueTime(db: Db, id: number, dueAt: string, nextRunAt: string | null): Promise<boolean> {
  const claimed = await db
    .update(schedules)
    .set({ nextRunAt, lastDueAt: dueAt })
    .where(and(eq(schedules.id, id), eq(schedules.enabled, true), eq(schedules.nextRunAt, dueAt)))
    .returning({ id: schedules.id });
  return claimed.length > 0;
}

/** Records what came of the due time a trigger claimed. */
export async function recordScheduleRun(db: Db, id: number, run: { outcome: ScheduleRunOutcome; jobId: number | null; message: string | null }): Promise<void> {
  await db
    .update(schedules)
    .set({ lastRunAt: nowTimestamp(), lastOutcome: run.outcome, lastJobId: run.jobId, lastMessage: run.message })
    .where(eq(schedules.id, id));
}
