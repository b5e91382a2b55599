import { and, asc, eq, type SQL, sql } from "drizzle-orm";
import type { TableProgress } from "../domain/canonical-chain";
import { nowTimestamp } from "./clock";
import type { Db } from "./db";
import { jobs, locationProgress, locations } from "./schema";

/**
 * Stores the running progress aggregate of a location, as job `jobId`
 * computed it, only while that job holds the location's write lock: a job
 * that lost the location to a newer deploy must not overwrite the new
 * writer's figures with its own, older view of the files.
 */
function progressValues(progress: TableProgress) {
  return {
    startBlock: progress.startBlock,
    currentBlock: progress.currentBlock,
    filesCount: progress.filesCount,
    totalSizeBytes: progress.totalSizeBytes,
    updatedAt: nowTimestamp(),
  };
}

export async function saveLocationProgress(db: Db, jobId: number, locationId: number, progress: TableProgress): Promise<void> {
  const values = progressValues(progress);
  const whileWriter = db
    .select({
      locationId: sql<number>`${locationId}`.as("location_id"),
      startBlock: sql<number | null>`${values.startBlock}`.as("start_block"),
      currentBlock: sql<number | null>`${values.currentBlock}`.as("current_block"),
      filesCount: sql<number>`${values.filesCount}`.as("files_count"),
      totalSizeBytes: sql<number>`${values.totalSizeBytes}`.as("total_size_bytes"),
      updatedAt: sql<string>`${values.updatedAt}`.as("updated_at"),
    })
    .from(locations)
    .where(and(eq(locations.id, locationId), eq(locations.writer, jobId)));
  await db.insert(locationProgress).select(whileWriter).onConflictDoUpdate({ target: locationProgress.locationId, set: values });
}

/**
 * Stores a location's progress whoever writes it: the API after an invalidation changed which files count,
 * for a location whose writer job may be done. A writer still running saves its own figures again when it
 * is told (JobRunner.takePartitions), from the same invalidations.
 */
export async function replaceLocationProgress(db: Db, locationId: number, progress: TableProgress): Promise<void> {
  const values = progressValues(progress);
  await db
    .insert(locationProgress)
    .values({ locationId, ...values })
    .onConflictDoUpdate({ target: locationProgress.locationId, set: values });
}

export interface TableProgressRow {
  table: string;
  locationId: number;
  startBlock: number | null;
  currentBlock: number | null;
  filesCount: number;
  totalSizeBytes: number;
  jobId: number | null;
  jobStatus: string | null;
}

function tableProgressRows(db: Db, where: SQL | undefined) {
  return db
    .select({
      table: locations.tableName,
      locationId: locations.id,
      startBlock: locationProgress.startBlock,
      currentBlock: locationProgress.currentBlock,
      filesCount: locationProgress.filesCount,
      totalSizeBytes: locationProgress.totalSizeBytes,
      jobId: locations.writer,
      jobStatus: jobs.status,
    })
    .from(locations)
    .leftJoin(locationProgress, eq(locationProgress.locationId, locations.id))
    .leftJoin(jobs, eq(jobs.id, locations.writer))
    .where(where)
    .orderBy(asc(locations.tableName))
    .then((rows) => rows.map((row) => ({ ...row, filesCount: row.filesCount ?? 0, totalSizeBytes: row.totalSizeBytes ?? 0 })));
}

/** Progress of every active location of a manifest, with its writer job (reference §9 step 6). */
export function listActiveTableProgress(db: Db, manifestHash: string): Promise<TableProgressRow[]> {
  return tableProgressRows(db, and(eq(locations.manifestHash, manifestHash), eq(locations.active, true)));
}

/** Progress of the active locations job `jobId` writes (or wrote last). */
export function listJobTableProgress(db: Db, jobId: number): Promise<TableProgressRow[]> {
  return tableProgressRows(db, and(eq(locations.writer, jobId), eq(locations.active, true)));
}
