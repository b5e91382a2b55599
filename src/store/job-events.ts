import { and, asc, desc, eq } from "drizzle-orm";
import type { BlockRange } from "../domain/block-range";
import type { ErrorReason } from "../domain/errors";
import { nowTimestamp } from "./clock";
import type { Db } from "./db";
import { type Page, type PageRequest, pastCursor, toPage } from "./page";
import { jobEvents } from "./schema";

/** Every kind of entry in a job's timeline. */
export const JOB_EVENT_KINDS = [
  "scheduled",
  "running",
  "step_started",
  "step_completed",
  "step_failed",
  "head_read_failed",
  "stop_requested",
  "stopping",
  "stopped",
  "completed",
  "failed",
  "partition_invalidated",
  "rebuild_requested",
] as const;

/** A status change with no required detail; the writer may add context. */
type TransitionKind = "scheduled" | "running" | "stop_requested" | "stopping" | "stopped" | "completed";

/** One entry of a job's timeline, as its writer appends it. Ranges are inclusive block ranges. */
export type JobEvent =
  | { kind: TransitionKind; detail?: Record<string, unknown> }
  | { kind: "step_started"; detail: { range: BlockRange; attempt: number } }
  | {
      kind: "step_completed";
      detail: {
        range: BlockRange;
        files: number;
        rows: number;
        bytes: number;
        duration_ms: number;
        /** HTTP requests to the provider. */
        requests?: number;
        /** The most MiB the step held at once (answers, rows, encoded Parquet), by its own account. */
        held_mb?: number;
      };
    }
  | { kind: "step_failed"; detail: { range: BlockRange; reason: string; error: ErrorReason; attempt: number; retryable: boolean } }
  | { kind: "head_read_failed"; detail: { reason: string; error: ErrorReason; attempt: number; retryable: boolean } }
  | { kind: "failed"; detail: { reason: string } }
  | {
      /** One of the job's tables had a block range invalidated (by request, or with a dependency, `cause_id`). */
      kind: "partition_invalidated";
      detail: { table: string; location_id: number; invalidation_id: number; range: BlockRange; reason: string; requested_by: string; cause_id?: number };
    }
  | { kind: "rebuild_requested"; detail: { table: string; location_id: number; ranges: BlockRange[]; requested_by: string } };

export type JobEventRow = typeof jobEvents.$inferSelect;

/** The row values that append `event` to the timeline of job `jobId` now. */
export function jobEventValues(jobId: number, event: JobEvent): typeof jobEvents.$inferInsert {
  return { jobId, kind: event.kind, detail: { ...event.detail }, createdAt: nowTimestamp() };
}

/** The statement appending `event` to a job's timeline, for use inside a caller's `db.batch`. */
function appendJobEventStatement(db: Db, jobId: number, event: JobEvent) {
  return db.insert(jobEvents).values(jobEventValues(jobId, event)).returning({ id: jobEvents.id });
}

/** Appends `event` to the timeline of job `jobId`; returns the event's id. */
export async function appendJobEvent(db: Db, jobId: number, event: JobEvent): Promise<number> {
  const [row] = await appendJobEventStatement(db, jobId, event);
  if (!row) throw new Error(`job event of job ${jobId} was not inserted`);
  return row.id;
}

/** A job's timeline, oldest first; the cursor is the id of the last event already seen. */
export async function listJobEvents(db: Db, jobId: number, page: PageRequest): Promise<Page<JobEventRow>> {
  const rows = await db
    .select()
    .from(jobEvents)
    .where(and(eq(jobEvents.jobId, jobId), pastCursor(jobEvents.id, page, "oldest first")))
    .orderBy(asc(jobEvents.id))
    .limit(page.limit + 1);
  return toPage(rows, page.limit);
}

/** Event `eventId` of job `jobId`; undefined when there is none or it belongs to another job. */
export async function getJobEvent(db: Db, jobId: number, eventId: number): Promise<JobEventRow | undefined> {
  const [row] = await db
    .select()
    .from(jobEvents)
    .where(and(eq(jobEvents.jobId, jobId), eq(jobEvents.id, eventId)));
  return row;
}

/** The newest event of `kind` in job `jobId`'s timeline. */
export async function latestJobEvent(db: Db, jobId: number, kind: JobEventRow["kind"]): Promise<JobEventRow | undefined> {
  const [row] = await db
    .select()
    .from(jobEvents)
    .where(and(eq(jobEvents.jobId, jobId), eq(jobEvents.kind, kind)))
    .orderBy(desc(jobEvents.id))
    .limit(1);
  return row;
}
