import { and, desc, eq, inArray, notInArray, sql } from "drizzle-orm";
import { type DumpJobDescriptor, INITIAL_STATUS, TERMINAL_STATUSES } from "../domain/job";
import { nowTimestamp } from "./clock";
import { isConstraintViolation } from "./constraint-errors";
import type { Db } from "./db";
import { jobEventValues } from "./job-events";
import { locationPath, locationUrl } from "./r2-layout";
import { jobEvents, jobs, locations } from "./schema";

/** Statuses of a job that blocks a second deploy of the same manifest (reference §1.2 (8)). */
const BLOCKING_STATUSES = ["SCHEDULED", "RUNNING"];

export interface JobToSchedule {
  manifestHash: string;
  datasetNamespace: string;
  datasetName: string;
  tables: readonly string[];
  bucketName: string;
  descriptor: DumpJobDescriptor;
  /** The schedule that deploys the job, named in its `scheduled` event; absent for a deploy by request. */
  schedule?: Record<string, unknown>;
}

export type ScheduleOutcome = { outcome: "scheduled"; jobId: number } | { outcome: "existing"; jobId: number };

/** The SCHEDULED or RUNNING job writing a manifest's tables, if any. */
async function findBlockingJob(db: Db, manifestHash: string): Promise<number | undefined> {
  const [row] = await db
    .select({ id: jobs.id })
    .from(jobs)
    .where(and(eq(jobs.manifestHash, manifestHash), inArray(jobs.status, BLOCKING_STATUSES)))
    .orderBy(desc(jobs.id))
    .limit(1);
  return row?.id;
}

/**
 * Creates a SCHEDULED job and gives it the write lock of the dataset's active
 * locations, creating the locations missing on a first deploy, in one D1
 * batch (one transaction). A SCHEDULED or RUNNING job of the same manifest is
 * returned instead; the partial unique index on jobs makes two concurrent
 * deploys end with one job.
 */
export async function scheduleJob(db: Db, job: JobToSchedule): Promise<ScheduleOutcome> {
  const existing = await findBlockingJob(db, job.manifestHash);
  if (existing !== undefined) return { outcome: "existing", jobId: existing };
  const now = nowTimestamp();
  const newJobId = sql`(SELECT max(${jobs.id}) FROM ${jobs} WHERE ${jobs.manifestHash} = ${job.manifestHash})`;
  const newLocations = job.tables.map((table) => {
    const path = locationPath(job.datasetName, table, crypto.randomUUID());
    return db
      .insert(locations)
      .values({
        manifestHash: job.manifestHash,
        tableName: table,
        datasetNamespace: job.datasetNamespace,
        datasetName: job.datasetName,
        bucket: job.bucketName,
        path,
        url: locationUrl(job.bucketName, path),
        active: true,
        createdAt: now,
      })
      // An active location of this table already exists: it is reused (resuming).
      .onConflictDoNothing();
  });
  const scheduled = jobEventValues(0, { kind: "scheduled", detail: { descriptor: job.descriptor, ...(job.schedule ? { schedule: job.schedule } : {}) } });
  try {
    const results = await db.batch([
      db
        .insert(jobs)
        .values({ manifestHash: job.manifestHash, descriptor: { ...job.descriptor }, status: INITIAL_STATUS, createdAt: now, updatedAt: now })
        .returning({ id: jobs.id }),
      ...newLocations,
      db
        .update(locations)
        .set({ writer: newJobId })
        .where(and(eq(locations.manifestHash, job.manifestHash), eq(locations.active, true), inArray(locations.tableName, [...job.tables]))),
      db.insert(jobEvents).values({ ...scheduled, jobId: newJobId }),
    ]);
    const inserted = results[0] as { id: number }[];
    const jobId = inserted[0]?.id;
    if (jobId === undefined) throw new Error("job insert returned no id");
    return { outcome: "scheduled", jobId };
  } catch (error) {
    if (!isConstraintViolation(error, "UNIQUE")) throw error;
    const winner = await findBlockingJob(db, job.manifestHash);
    if (winner === undefined) throw error;
    return { outcome: "existing", jobId: winner };
  }
}

export interface JobLocation {
  table: string;
  locationId: number;
  path: string;
}

/** The locations a job holds the write lock of (reference §4.4: a job does not store its tables). */
export async function listJobLocations(db: Db, jobId: number): Promise<JobLocation[]> {
  const rows = await db
    .select({ table: locations.tableName, locationId: locations.id, path: locations.path })
    .from(locations)
    .where(eq(locations.writer, jobId))
    .orderBy(locations.tableName);
  return rows;
}

/** Jobs that are not terminal, for the cron's reconcile. */
export async function listUnfinishedJobIds(db: Db): Promise<number[]> {
  const rows = await db
    .select({ id: jobs.id })
    .from(jobs)
    .where(notInArray(jobs.status, [...TERMINAL_STATUSES]));
  return rows.map((row) => row.id);
}
