import { and, desc, eq, inArray, isNull, notExists, notInArray, or, sql } from "drizzle-orm";
import { TERMINAL_STATUSES } from "../domain/job";
import type { Db } from "./db";
import { type Job, toJob } from "./jobs";
import { type Page, type PageRequest, pastCursor, toPage } from "./page";
import { locationObjectPrefix } from "./r2-layout";
import { files, jobs, locationProgress, locations, manifestFiles } from "./schema";

export type Location = typeof locations.$inferSelect;

/** A location with the job that holds its write lock, if any. */
export interface LocationWithWriter {
  location: Location;
  writer: Job | null;
}

/** Locations newest first (id DESC); the cursor is the id of the last location already seen. */
export async function listLocations(db: Db, page: PageRequest): Promise<Page<Location>> {
  const rows = await db
    .select()
    .from(locations)
    .where(pastCursor(locations.id, page, "newest first"))
    .orderBy(desc(locations.id))
    .limit(page.limit + 1);
  return toPage(rows, page.limit);
}

export async function getLocation(db: Db, id: number): Promise<Location | undefined> {
  const [row] = await db.select().from(locations).where(eq(locations.id, id));
  return row;
}

/*
 * Two statements rather than a join: D1 answers a join's columns by name, and the names both tables share
 * (id, manifest_hash, created_at) shift the joined job's values into the wrong fields.
 */
function locationQuery(db: Db, id: number) {
  return db.select().from(locations).where(eq(locations.id, id));
}

function writerOfLocationQuery(db: Db, id: number) {
  return db.select().from(jobs).where(inArray(jobs.id, db.select({ writer: locations.writer }).from(locations).where(eq(locations.id, id))));
}

export async function getLocationWithWriter(db: Db, id: number): Promise<LocationWithWriter | undefined> {
  const [[location], [writer]] = await db.batch([locationQuery(db, id), writerOfLocationQuery(db, id)]);
  return location && { location, writer: writer ? toJob(writer) : null };
}

/** The active location (write target and default read target) of a logical table. */
export async function findActiveLocation(db: Db, manifestHash: string, table: string): Promise<Location | undefined> {
  const [row] = await db
    .select()
    .from(locations)
    .where(and(eq(locations.manifestHash, manifestHash), eq(locations.tableName, table), eq(locations.active, true)));
  return row;
}

/** The active locations of derived datasets (manifest kind `manifest`): the tables that may read another table. */
export async function listActiveDerivedLocations(db: Db): Promise<Location[]> {
  const rows = await db
    .select({ location: locations })
    .from(locations)
    .innerJoin(manifestFiles, eq(manifestFiles.hash, locations.manifestHash))
    .where(and(eq(locations.active, true), eq(manifestFiles.kind, "manifest")));
  return rows.map((row) => row.location);
}

/*
 * Deleting a location removes rows in D1 and objects in R2, which share no
 * transaction. The steps below keep two facts true at every instant, so a
 * crash between any two of them leaves a state that a second DELETE finishes:
 *
 *   1. Every file row has its object. (The commit protocol writes the object
 *      before the row; deletion removes the row before the object. Readers
 *      and the consistency check at job start rely on this.)
 *   2. Every object under a location's prefix belongs to a location row that
 *      still exists, so a re-run can find it by that row's prefix.
 *
 * Steps: (a) deactivate the location, only if its writer is absent or
 * terminal, which also means no job can register files in it again; (b)
 * delete its file rows and progress aggregate in one batch; (c) delete every
 * object under its prefix, by listing; (d) delete the location row, only if it
 * is inactive and has no file rows. A crash after (a) leaves an inactive
 * location, which needs no `force` to be deleted again; after (b), an inactive
 * location whose objects have no rows, which (c) finds by prefix; after (c),
 * an empty inactive location.
 */

export type LocationDeletion =
  | { outcome: "deleted" }
  | { outcome: "absent" }
  | { outcome: "active" }
  | { outcome: "ongoing_writer"; writer: Job };

function writerIsDoneOrAbsent(db: Db) {
  const ongoingWriter = db
    .select({ one: sql`1` })
    .from(jobs)
    .where(and(eq(jobs.id, locations.writer), notInArray(jobs.status, [...TERMINAL_STATUSES])));
  return or(isNull(locations.writer), notExists(ongoingWriter));
}

/**
 * Step (a): deactivates location `id` if it may be deleted: inactive or
 * `force`, and its writer job absent or terminal. Otherwise says why not, with
 * the same precedence as the original (active before ongoing writer).
 */
export async function beginLocationDeletion(db: Db, id: number, force: boolean): Promise<LocationDeletion | { outcome: "started"; location: Location }> {
  const [marked, current, writerRows] = await db.batch([
    db
      .update(locations)
      .set({ active: false })
      .where(and(eq(locations.id, id), force ? undefined : eq(locations.active, false), writerIsDoneOrAbsent(db)))
      .returning(),
    locationQuery(db, id),
    writerOfLocationQuery(db, id),
  ]);
  const [location] = marked;
  if (location) return { outcome: "started", location };
  const [refused] = current;
  if (!refused) return { outcome: "absent" };
  if (refused.active && !force) return { outcome: "active" };
  const [writer] = writerRows;
  if (writer) return { outcome: "ongoing_writer", writer: toJob(writer) };
  throw new Error(`location ${id} could not be marked for deletion and no reason was found`);
}

/** Step (b): deletes the file rows and the progress aggregate of location `id` in one batch. */
export async function deleteLocationFileRows(db: Db, id: number): Promise<void> {
  await db.batch([db.delete(files).where(eq(files.locationId, id)), db.delete(locationProgress).where(eq(locationProgress.locationId, id))]);
}

/** R2 deletes at most this many keys per call. */
const R2_DELETE_BATCH = 1000;

/**
 * Step (c): deletes every object under the prefix of the location stored at
 * `path`, `batchSize` keys per listing and delete call; returns how many.
 */
export async function deleteLocationObjects(bucket: R2Bucket, path: string, batchSize = R2_DELETE_BATCH): Promise<number> {
  const prefix = locationObjectPrefix(path);
  let deleted = 0;
  for (;;) {
    // Listing from the start each time: what was deleted is gone, so this ends when the prefix is empty.
    const listing = await bucket.list({ prefix, limit: batchSize });
    if (listing.objects.length === 0) return deleted;
    await bucket.delete(listing.objects.map((object) => object.key));
    deleted += listing.objects.length;
  }
}

/** Step (d): deletes location `id` if it is inactive and has no file rows; returns whether it did. */
export async function deleteEmptyInactiveLocation(db: Db, id: number): Promise<boolean> {
  const deleted = await db
    .delete(locations)
    .where(
      and(
        eq(locations.id, id),
        eq(locations.active, false),
        notExists(db.select({ one: sql`1` }).from(files).where(eq(files.locationId, id))),
      ),
    )
    .returning({ id: locations.id });
  return deleted.length > 0;
}

/**
 * Deletes location `id`, its file rows and its objects, in the crash-safe
 * order described above. Refuses an active location without `force`, and a
 * location whose writer job is not terminal even with `force`.
 */
export async function deleteLocation(db: Db, bucket: R2Bucket, id: number, force: boolean): Promise<LocationDeletion> {
  const begun = await beginLocationDeletion(db, id, force);
  if (begun.outcome !== "started") return begun;
  await deleteLocationFileRows(db, id);
  await deleteLocationObjects(bucket, begun.location.path);
  if (await deleteEmptyInactiveLocation(db, id)) return { outcome: "deleted" };
  // A concurrent DELETE of the same location may have finished first.
  if (!(await getLocation(db, id))) return { outcome: "deleted" };
  // Nothing can add rows to a deactivated location whose writer is done; if it still has some, stop loudly.
  throw new Error(`location ${id} gained file rows while it was being deleted`);
}
