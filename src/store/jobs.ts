import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import { isTerminal, type JobStatus, parseJobStatus, TERMINAL_STATUSES } from "../domain/job";
import { nowTimestamp } from "./clock";
import type { Db } from "./db";
import type { JobEvent } from "./job-events";
import { type Page, type PageRequest, pastCursor, toPage } from "./page";
import { jobEvents, jobs } from "./schema";

/** A job as the `jobs` row mirrors it. */
export interface Job {
  id: number;
  manifestHash: string;
  descriptor: Record<string, unknown>;
  status: JobStatus;
  /** Why the job failed; set by the transition to FAILED, null otherwise. */
  failureReason: string | null;
  /** The provider chosen when the job started; null before, and for a job that never ran. */
  providerName: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A job's node id is the id of the JobRunner Durable Object that owns it. */
export function jobNodeId(jobId: number): string {
  return `jobrunner-${jobId}`;
}

export function toJob(row: typeof jobs.$inferSelect): Job {
  return { ...row, status: parseJobStatus(row.status) };
}

export async function getJob(db: Db, id: number): Promise<Job | undefined> {
  const [row] = await db.select().from(jobs).where(eq(jobs.id, id));
  return row && toJob(row);
}

/** Jobs newest first (id DESC); the cursor is the id of the last job already seen. */
export async function listJobs(db: Db, page: PageRequest): Promise<Page<Job>> {
  const rows = await db
    .select()
    .from(jobs)
    .where(pastCursor(jobs.id, page, "newest first"))
    .orderBy(desc(jobs.id))
    .limit(page.limit + 1);
  const { items, nextCursor } = toPage(rows, page.limit);
  return { items: items.map(toJob), nextCursor };
}

export type DeleteJobOutcome = { outcome: "deleted" } | { outcome: "absent" } | { outcome: "not_terminal"; status: JobStatus };

/**
 * Deletes a job only if it is terminal; its events go with it (cascade) and
 * the locations it wrote lose their writer (set null). The delete and the
 * look-up that explains a refusal run in one batch, so they see one state.
 */
export async function deleteTerminalJob(db: Db, id: number): Promise<DeleteJobOutcome> {
  const [deleted, remaining] = await db.batch([
    db
      .delete(jobs)
      .where(and(eq(jobs.id, id), inArray(jobs.status, [...TERMINAL_STATUSES])))
      .returning({ id: jobs.id }),
    db.select({ status: jobs.status }).from(jobs).where(eq(jobs.id, id)),
  ]);
  if (deleted.length > 0) return { outcome: "deleted" };
  const [row] = remaining;
  return row ? { outcome: "not_terminal", status: parseJobStatus(row.status) } : { outcome: "absent" };
}

/** Deletes every job in one of `statuses`, of which only the terminal ones count; returns how many went. */
export async function deleteJobsByStatus(db: Db, statuses: readonly JobStatus[]): Promise<number> {
  const terminal = statuses.filter(isTerminal);
  if (terminal.length === 0) return 0;
  const deleted = await db.delete(jobs).where(inArray(jobs.status, terminal)).returning({ id: jobs.id });
  return deleted.length;
}

export interface TransitionOptions {
  /** Stored as the job's failure reason (with the transition to FAILED). */
  reason?: string;
  /** The timeline entry recording this transition; appended only if the transition applies. */
  event: JobEvent;
  /** Stored as the job's provider (with the transition to RUNNING). */
  providerName?: string;
}

/** Whether the transition applied, and the job's status after it (null when the job does not exist). */
export type TransitionResult = { applied: true; status: JobStatus } | { applied: false; status: JobStatus | null };

/**
 * Compare-and-set of a job's status: moves job `id` to `to` only if its
 * status is one of `allowedFrom`, and appends `options.event` to its
 * timeline in the same D1 batch (one transaction). The event insert and the
 * update carry the same condition and nothing between them changes `jobs`,
 * so the event exists exactly when the update applied.
 */
export async function transitionJob(
  db: Db,
  id: number,
  allowedFrom: readonly JobStatus[],
  to: JobStatus,
  options: TransitionOptions,
): Promise<TransitionResult> {
  const now = nowTimestamp();
  const expected = and(eq(jobs.id, id), inArray(jobs.status, [...allowedFrom]));
  const detail = JSON.stringify({ ...options.event.detail });
  const [, updated, current] = await db.batch([
    db.insert(jobEvents).select(
      db
        .select({
          id: sql<number>`NULL`.as("id"),
          jobId: sql<number>`${id}`.as("job_id"),
          kind: sql<string>`${options.event.kind}`.as("kind"),
          detail: sql<string>`${detail}`.as("detail"),
          createdAt: sql<string>`${now}`.as("created_at"),
        })
        .from(jobs)
        .where(expected),
    ),
    db
      .update(jobs)
      .set({
        status: to,
        updatedAt: now,
        ...(options.reason === undefined ? {} : { failureReason: options.reason }),
        ...(options.providerName === undefined ? {} : { providerName: options.providerName }),
      })
      .where(expected)
      .returning({ id: jobs.id }),
    db.select({ status: jobs.status }).from(jobs).where(eq(jobs.id, id)),
  ]);
  const status = current[0] ? parseJobStatus(current[0].status) : null;
  if (updated.length > 0) return { applied: true, status: to };
  return { applied: false, status };
}

/** The jobs deployed for dataset `namespace/name` at manifest `manifestHash`, oldest first. */
export async function listDatasetJobs(db: Db, dataset: { namespace: string; name: string }, manifestHash: string): Promise<Job[]> {
  const rows = await db
    .select()
    .from(jobs)
    .where(
      and(
        eq(jobs.manifestHash, manifestHash),
        sql`json_extract(${jobs.descriptor}, '$.Dump.dataset_namespace') = ${dataset.namespace}`,
        sql`json_extract(${jobs.descriptor}, '$.Dump.dataset_name') = ${dataset.name}`,
      ),
    )
    .orderBy(asc(jobs.id));
  return rows.map(toJob);
}

/**
 * The newest job of a manifest that is not a rebuild-only job (one whose descriptor has `rebuild` ranges): the
 * job that says where the manifest's tables are heading (src/domain/table-target.ts).
 */
export async function newestHeadingJob(db: Db, manifestHash: string): Promise<Job | undefined> {
  const [row] = await db
    .select()
    .from(jobs)
    .where(and(eq(jobs.manifestHash, manifestHash), sql`json_extract(${jobs.descriptor}, '$.Dump.rebuild') IS NULL`))
    .orderBy(desc(jobs.id))
    .limit(1);
  return row && toJob(row);
}
