import { and, asc, desc, eq, notInArray, sql } from "drizzle-orm";
import type { SizedSegment } from "../domain/canonical-chain";
import { TERMINAL_STATUSES } from "../domain/job";
import { nowTimestamp } from "./clock";
import type { Db } from "./db";
import { type Page, type PageRequest, pastCursor, toPage } from "./page";
import { files, jobs, locations } from "./schema";

export type FileRow = typeof files.$inferSelect;

/** What a location's file listing shows of each file. */
export interface FileSummary {
  id: number;
  fileName: string;
  objectSize: number | null;
}

/** A location's files newest first (id DESC); the cursor is the id of the last file already seen. */
export async function listLocationFiles(db: Db, locationId: number, page: PageRequest): Promise<Page<FileSummary>> {
  const rows = await db
    .select({ id: files.id, fileName: files.fileName, objectSize: files.objectSize })
    .from(files)
    .where(and(eq(files.locationId, locationId), pastCursor(files.id, page, "newest first")))
    .orderBy(desc(files.id))
    .limit(page.limit + 1);
  return toPage(rows, page.limit);
}

/** A file with its location's URL (join the two for the object's full URL) and path (for its object key). */
export async function getFileWithUrl(db: Db, id: number): Promise<{ file: FileRow; url: string; path: string } | undefined> {
  const [row] = await db
    .select({ file: files, url: locations.url, path: locations.path })
    .from(files)
    .innerJoin(locations, eq(locations.id, files.locationId))
    .where(eq(files.id, id));
  return row;
}

/** A Parquet file to register, after its object is complete in R2. */
export interface NewFile {
  locationId: number;
  fileName: string;
  /** Inclusive block range of the file. */
  rangeStart: number;
  rangeEnd: number;
  /** Hash of the range's end block. */
  endHash: string;
  /** Hash of the parent of the range's start block, when known. */
  prevHash: string | null;
  rowCount: number;
  objectSize: number | null;
  objectETag: string | null;
  objectVersion: string | null;
  /** The `nozzle_metadata` JSON (reference §5.5), also stored in the Parquet file. */
  metadata: Record<string, unknown>;
}

/**
 * - `inserted`: the row is new.
 * - `existed`: a row with this (location, file name) was already there (a step
 *   delivered twice); it is left as it was, and so must its object be.
 * - `refused`: no row exists and the job may not write here (it is not the
 *   location's writer, or it is STOPPED, COMPLETED or FAILED). The object the
 *   caller put has no row; it is left to the consistency check at the next
 *   job start, since a new writer may own an object of the same name.
 */
export type RegisterFileOutcome = { outcome: "inserted"; id: number } | { outcome: "existed"; id: number } | { outcome: "refused" };

/**
 * Registers a file written by job `jobId`. The insert happens only while that
 * job holds the location's write lock and is not terminal, so a stopped job
 * can never add a file; it is ignored if the file name is already registered
 * in the location. The insert and the look-up that explains its outcome run
 * in one batch.
 */
export async function registerFile(db: Db, jobId: number, file: NewFile): Promise<RegisterFileOutcome> {
  const values = {
    id: sql<number>`NULL`.as("id"),
    locationId: sql<number>`${file.locationId}`.as("location_id"),
    fileName: sql<string>`${file.fileName}`.as("file_name"),
    rangeStart: sql<number>`${file.rangeStart}`.as("range_start"),
    rangeEnd: sql<number>`${file.rangeEnd}`.as("range_end"),
    endHash: sql<string>`${file.endHash}`.as("end_hash"),
    prevHash: sql<string | null>`${file.prevHash}`.as("prev_hash"),
    rowCount: sql<number>`${file.rowCount}`.as("row_count"),
    objectSize: sql<number | null>`${file.objectSize}`.as("object_size"),
    objectETag: sql<string | null>`${file.objectETag}`.as("object_e_tag"),
    objectVersion: sql<string | null>`${file.objectVersion}`.as("object_version"),
    metadata: sql<string>`${JSON.stringify(file.metadata)}`.as("metadata"),
    createdAt: sql<string>`${nowTimestamp()}`.as("created_at"),
  };
  const writerMayWrite = db
    .select(values)
    .from(locations)
    .innerJoin(jobs, eq(jobs.id, locations.writer))
    .where(and(eq(locations.id, file.locationId), eq(locations.writer, jobId), notInArray(jobs.status, [...TERMINAL_STATUSES])));
  const [inserted, existing] = await db.batch([
    db
      .insert(files)
      .select(writerMayWrite)
      .onConflictDoNothing({ target: [files.locationId, files.fileName] })
      .returning({ id: files.id }),
    db
      .select({ id: files.id })
      .from(files)
      .where(and(eq(files.locationId, file.locationId), eq(files.fileName, file.fileName))),
  ]);
  if (inserted[0]) return { outcome: "inserted", id: inserted[0].id };
  if (existing[0]) return { outcome: "existed", id: existing[0].id };
  return { outcome: "refused" };
}

/** A file as a segment of its table's chain, with what a reader of the table needs to know of it. */
export interface ChainFile extends SizedSegment {
  fileName: string;
  rowCount: number;
  objectETag: string | null;
}

/** The columns a file takes part in canonical-chain computations with: its range, hashes, network and size. */
export const fileChainColumns = {
  fileId: files.id,
  start: files.rangeStart,
  end: files.rangeEnd,
  hash: files.endHash,
  prevHash: files.prevHash,
      network: sql<string>`coalesce(json_extract(${files.metadata}, '$.ranges[0].network'), '')`,
  objectSize: files.objectSize,
};

/** Every file of a location with its chain fields, in id order (the canonical chain is computed from them). */
export async function listChainFiles(db: Db, locationId: number): Promise<ChainFile[]> {
  const rows = await db
    .select({ ...fileChainColumns, fileName: files.fileName, rowCount: files.rowCount, objectETag: files.objectETag })
    .from(files)
    .where(eq(files.locationId, locationId))
    .orderBy(asc(files.id));
  return rows.map(({ start, end, ...file }) => ({ ...file, range: { start, end } }));
}

/** Every file of a location as a segment for canonical-chain computations, in id order. */
export async function listFileSegments(db: Db, locationId: number): Promise<SizedSegment[]> {
  const rows = await db
    .select(fileChainColumns)
    .from(files)
    .where(eq(files.locationId, locationId))
    .orderBy(asc(files.id));
  return rows.map(({ start, end, ...segment }) => ({ ...segment, range: { start, end } }));
}

/**
 * Registers files found in R2 by a restore, whoever wrote them: a file already registered under its name is
 * left as it is, so a restore repeated or racing another adds each file once. No writer check, since a restore
 * rebuilds the rows of objects that exist, and the object is always there before its row.
 */
export async function registerRestoredFiles(db: Db, restored: readonly NewFile[]): Promise<void> {
  const now = nowTimestamp();
  // D1 binds at most 100 parameters per statement: twelve per row.
  for (let i = 0; i < restored.length; i += 8) {
    const rows = restored.slice(i, i + 8).map((file) => ({ ...file, createdAt: now }));
    await db
      .insert(files)
      .values(rows)
      .onConflictDoNothing({ target: [files.locationId, files.fileName] });
  }
}
