/** The aggregates GET /metrics reports, each one query over the tables the jobs already keep. */
import { and, count, eq, sql } from "drizzle-orm";
import type { Db } from "./db";
import { chainHeads, files, jobEvents, jobs, locationProgress, locations } from "./schema";

export function countJobsByStatus(db: Db): Promise<{ status: string; jobs: number }[]> {
  return db.select({ status: jobs.status, jobs: count() }).from(jobs).groupBy(jobs.status);
}

export interface StepOutcomeCount {
  namespace: string;
  name: string;
  provider: string | null;
  kind: "step_completed" | "step_failed" | "head_read_failed";
  /** The failure's class; null for completed steps and for events written before it was recorded. */
  error: string | null;
  events: number;
}

/** Completed and failed steps and failed head reads, by dataset, provider and failure class. */
export async function countStepOutcomes(db: Db): Promise<StepOutcomeCount[]> {
  const namespace = sql<string>`json_extract(${jobs.descriptor}, '$.Dump.dataset_namespace')`;
  const name = sql<string>`json_extract(${jobs.descriptor}, '$.Dump.dataset_name')`;
  const error = sql<string | null>`json_extract(${jobEvents.detail}, '$.error')`;
  const rows = await db
    .select({ namespace, name, provider: jobs.providerName, kind: jobEvents.kind, error, events: count() })
    .from(jobEvents)
    .innerJoin(jobs, eq(jobs.id, jobEvents.jobId))
    .where(sql`${jobEvents.kind} IN ('step_completed', 'step_failed', 'head_read_failed')`)
    .groupBy(namespace, name, jobs.providerName, jobEvents.kind, error);
  return rows as StepOutcomeCount[];
}

/** How many completed steps took at most each bound (ms), with their total duration. */
export async function stepDurationBuckets(db: Db, boundsMs: readonly number[]): Promise<{ atMost: number[]; sumMs: number; count: number }> {
  const duration = sql`json_extract(${jobEvents.detail}, '$.duration_ms')`;
  const buckets = boundsMs.map((bound) => sql<number>`coalesce(sum(CASE WHEN ${duration} <= ${bound} THEN 1 ELSE 0 END), 0)`);
  const [row] = await db
    .select({ buckets: sql<string>`json_array(${sql.join(buckets, sql`, `)})`, sumMs: sql<number>`coalesce(sum(${duration}), 0)`, count: count() })
    .from(jobEvents)
    .where(eq(jobEvents.kind, "step_completed"));
  return { atMost: JSON.parse(row?.buckets ?? "[]") as number[], sumMs: row?.sumMs ?? 0, count: row?.count ?? 0 };
}

export interface TableExtraction {
  namespace: string;
  name: string;
  table: string;
  manifestHash: string;
  files: number;
  rows: number;
  blocks: number;
  bytes: number;
  lastBlock: number | null;
  network: string | null;
  headBlock: number | null;
}

/**
 * Each active location's files (reorg branches included: they were
 * extracted), its canonical chain's last block and the head its manifest's
 * job last read.
 */
export async function tableExtraction(db: Db): Promise<TableExtraction[]> {
  const totals = db
    .select({
      locationId: files.locationId,
      files: count().as("files"),
      rows: sql<number>`sum(${files.rowCount})`.as("rows"),
      blocks: sql<number>`sum(${files.rangeEnd} - ${files.rangeStart} + 1)`.as("blocks"),
      bytes: sql<number>`coalesce(sum(${files.objectSize}), 0)`.as("bytes"),
    })
    .from(files)
    .groupBy(files.locationId)
    .as("totals");
  const rows = await db
    .select({
      namespace: locations.datasetNamespace,
      name: locations.datasetName,
      table: locations.tableName,
      manifestHash: locations.manifestHash,
      files: sql<number>`coalesce(${totals.files}, 0)`,
      rows: sql<number>`coalesce(${totals.rows}, 0)`,
      blocks: sql<number>`coalesce(${totals.blocks}, 0)`,
      bytes: sql<number>`coalesce(${totals.bytes}, 0)`,
      lastBlock: locationProgress.currentBlock,
      network: chainHeads.network,
      headBlock: chainHeads.headBlock,
    })
    .from(locations)
    .leftJoin(totals, eq(totals.locationId, locations.id))
    .leftJoin(locationProgress, eq(locationProgress.locationId, locations.id))
    .leftJoin(chainHeads, eq(chainHeads.manifestHash, locations.manifestHash))
    .where(and(eq(locations.active, true)))
    .orderBy(locations.datasetNamespace, locations.datasetName, locations.tableName, locations.manifestHash);
  return rows;
}

/** The highest head read per network. */
export function chainHeadsByNetwork(db: Db): Promise<{ network: string; head: number }[]> {
  return db
    .select({ network: chainHeads.network, head: sql<number>`max(${chainHeads.headBlock})` })
    .from(chainHeads)
    .groupBy(chainHeads.network)
    .orderBy(chainHeads.network);
}
