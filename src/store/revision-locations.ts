import { and, count, desc, eq, ne, notExists, sql } from "drizzle-orm";
import { chains } from "../domain/canonical-chain";
import { isTerminal } from "../domain/job";
import type { Db } from "./db";
import { readLocationChain } from "./invalidations";
import type { Job } from "./jobs";
import {
  beginLocationDeletion,
  deleteEmptyInactiveLocation,
  deleteLocationFileRows,
  deleteLocationObjects,
  getLocation,
  getLocationWithWriter,
  type Location,
} from "./locations";
import { locationObjectPrefix, locationPathOfPrefix, locationUrl, tableObjectPrefix } from "./r2-layout";
import { files, gcDeletedLocations, gcScheduledFiles, locations } from "./schema";
import { nowTimestamp } from "./clock";

/**
 * The original's table revisions (amp-later B.4) are our locations, with the same ids: one R2 prefix of one
 * table of one manifest. "Active" is the location's `active` flag; a table is "registered" once it has any
 * location.
 */

/** Locations newest first (id DESC), optionally only the active or inactive ones; no cursor, as in the original. */
export async function listRevisionLocations(db: Db, options: { active?: boolean; limit: number }): Promise<Location[]> {
  return db
    .select()
    .from(locations)
    .where(options.active === undefined ? undefined : eq(locations.active, options.active))
    .orderBy(desc(locations.id))
    .limit(options.limit);
}

export interface RevisionToRegister {
  manifestHash: string;
  tableName: string;
  datasetNamespace: string;
  datasetName: string;
  bucket: string;
  /** `<dataset_name>/<table>/<revision>/`, checked by the caller against the key layout. */
  path: string;
}

/**
 * Registers an inactive location at `path`, or finds the one already there (by its URL, which is unique); its
 * metadata is not updated then. Returns its id.
 */
export async function registerRevisionLocation(db: Db, revision: RevisionToRegister, now: string): Promise<number> {
  const url = locationUrl(revision.bucket, revision.path);
  const [, [row]] = await db.batch([
    db
      .insert(locations)
      .values({ ...revision, url, active: false, createdAt: now })
      .onConflictDoNothing({ target: locations.url }),
    db.select({ id: locations.id }).from(locations).where(eq(locations.url, url)),
  ]);
  if (!row) throw new Error(`location at ${url} was neither inserted nor found`);
  return row.id;
}

export interface LogicalTable {
  manifestHash: string;
  tableName: string;
}

export type Activation = "activated" | "table_not_registered" | "revision_not_found" | "other_table";

/**
 * Makes location `id` the active one of its table: the table's other active location is deactivated in the same
 * batch, first, so the one-active-location index holds at every statement. Unlike the original, a location of
 * another table is refused: activating it would make it the active location of a table it holds no files of.
 */
export async function activateLocation(db: Db, table: LogicalTable, id: number): Promise<Activation> {
  const [[registered], [target]] = await db.batch([
    db
      .select({ id: locations.id })
      .from(locations)
      .where(and(eq(locations.manifestHash, table.manifestHash), eq(locations.tableName, table.tableName)))
      .limit(1),
    db.select().from(locations).where(eq(locations.id, id)),
  ]);
  if (!registered) return "table_not_registered";
  if (!target) return "revision_not_found";
  if (target.manifestHash !== table.manifestHash || target.tableName !== table.tableName) return "other_table";
  const [, activated] = await db.batch([
    db
      .update(locations)
      .set({ active: false })
      .where(and(eq(locations.manifestHash, table.manifestHash), eq(locations.tableName, table.tableName), eq(locations.active, true), ne(locations.id, id))),
    db.update(locations).set({ active: true }).where(eq(locations.id, id)).returning({ id: locations.id }),
  ]);
  // Deleted between the two batches.
  return activated.length > 0 ? "activated" : "revision_not_found";
}

/** Deactivates a table's active location; false when the table has no location at all. */
export async function deactivateTable(db: Db, table: LogicalTable): Promise<boolean> {
  const where = and(eq(locations.manifestHash, table.manifestHash), eq(locations.tableName, table.tableName));
  const [, [any]] = await db.batch([
    db
      .update(locations)
      .set({ active: false })
      .where(and(where, eq(locations.active, true))),
    db.select({ id: locations.id }).from(locations).where(where).limit(1),
  ]);
  return any !== undefined;
}

export type RevisionRefusal = { outcome: "absent" } | { outcome: "active" } | { outcome: "ongoing_writer"; writer: Job };

/**
 * Deletes the row of location `id` and, by cascade, its file rows and progress; its objects stay in R2, as in
 * the original. The same batch records the prefix for garbage collection (`gc_deleted_locations`), which
 * deletes the objects once the grace period has passed. Refused while the location is active or its writer
 * job is not terminal.
 */
export async function deleteRevisionRow(db: Db, id: number): Promise<{ outcome: "deleted" } | RevisionRefusal> {
  const begun = await beginLocationDeletion(db, id, false);
  if (begun.outcome !== "started") return begun.outcome === "deleted" ? { outcome: "absent" } : begun;
  const [deleted] = await db.batch([
    db
      .delete(locations)
      .where(and(eq(locations.id, id), eq(locations.active, false)))
      .returning({ id: locations.id }),
    // Recorded only if the row above went: the insert selects from nothing when the location is still there.
    db
      .insert(gcDeletedLocations)
      .select(
        db
          .select({
            url: sql<string>`${begun.location.url}`.as("url"),
            path: sql<string>`${begun.location.path}`.as("path"),
            deletedAt: sql<string>`${nowTimestamp()}`.as("deleted_at"),
          })
          .from(sql`(SELECT 1)`)
          .where(notExists(db.select({ one: sql`1` }).from(locations).where(eq(locations.id, id)))),
      )
      .onConflictDoUpdate({ target: gcDeletedLocations.url, set: { deletedAt: sql`excluded.deleted_at` } }),
  ]);
  if (deleted.length > 0) return { outcome: "deleted" };
  return (await getLocation(db, id)) ? { outcome: "active" } : { outcome: "deleted" };
}

/**
 * Deletes location `id` with its file rows and objects, in the crash-safe order of `deleteLocation`, and says
 * how many file rows it had. The same refusals as `deleteRevisionRow`.
 */
export async function truncateRevision(db: Db, bucket: R2Bucket, id: number): Promise<{ outcome: "truncated"; filesDeleted: number } | RevisionRefusal> {
  const begun = await beginLocationDeletion(db, id, false);
  if (begun.outcome !== "started") return begun.outcome === "deleted" ? { outcome: "absent" } : begun;
  const [counted] = await db.select({ n: count() }).from(files).where(eq(files.locationId, id));
  await deleteLocationFileRows(db, id);
  await deleteLocationObjects(bucket, begun.location.path);
  await deleteEmptyInactiveLocation(db, id);
  return { outcome: "truncated", filesDeleted: counted?.n ?? 0 };
}

/**
 * Hands every file of location `id` that is off its canonical chain (only those ending before `beforeBlock`,
 * when given) to garbage collection, to be deleted once `expiresAt` has passed; files already handed over get
 * the new expiry. Refused while the writer job is not terminal; the location stays as it is.
 */
export async function scheduleNonCanonicalFiles(
  db: Db,
  id: number,
  options: { beforeBlock?: number; expiresAt: string },
): Promise<{ outcome: "scheduled"; files: number } | { outcome: "absent" } | { outcome: "ongoing_writer"; writer: Job }> {
  const found = await getLocationWithWriter(db, id);
  if (!found) return { outcome: "absent" };
  if (found.writer && !isTerminal(found.writer.status)) return { outcome: "ongoing_writer", writer: found.writer };
  const { files: segments, invalidations } = await readLocationChain(db, id);
  const canonical = new Set(chains(segments, invalidations)?.canonical.map((s) => s.fileId) ?? []);
  const scheduled = segments.filter((s) => !canonical.has(s.fileId) && (options.beforeBlock === undefined || s.range.end < options.beforeBlock));
  // D1 binds at most 100 parameters per statement: three per row.
  for (let i = 0; i < scheduled.length; i += 30) {
    const rows = scheduled.slice(i, i + 30).map((s) => ({ fileId: s.fileId, locationId: id, expiresAt: options.expiresAt }));
    await db
      .insert(gcScheduledFiles)
      .values(rows)
      .onConflictDoUpdate({ target: gcScheduledFiles.fileId, set: { expiresAt: sql`excluded.expires_at` } });
  }
  return { outcome: "scheduled", files: scheduled.length };
}

export interface StoredObject {
  key: string;
  fileName: string;
  size: number;
  etag: string;
  version: string | null;
  /** When it was uploaded, ms since the epoch. */
  uploaded: number;
}

/** Every object under the prefix of the location stored at `path`, in key order. */
export async function listLocationObjects(bucket: R2Bucket, path: string): Promise<StoredObject[]> {
  const prefix = locationObjectPrefix(path);
  const found: StoredObject[] = [];
  let cursor: string | undefined;
  do {
    const listing = await bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
    for (const object of listing.objects) {
      found.push({
        key: object.key,
        fileName: object.key.slice(prefix.length),
        size: object.size,
        etag: object.etag,
        version: object.version ?? null,
        uploaded: object.uploaded.getTime(),
      });
    }
    cursor = listing.truncated ? listing.cursor : undefined;
  } while (cursor);
  return found;
}

/**
 * The path of the newest location of a table in R2, found by listing: the one holding the most recently
 * uploaded object. (The original takes the greatest UUIDv7 prefix; our revisions are random UUIDs, so upload
 * times stand in for the order.) Null when R2 has none.
 */
export async function newestStoredLocationPath(bucket: R2Bucket, datasetName: string, table: string): Promise<string | null> {
  const prefix = tableObjectPrefix(datasetName, table);
  let newest: { path: string; uploaded: number } | null = null;
  let cursor: string | undefined;
  do {
    const listing = await bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
    for (const object of listing.objects) {
      const slash = object.key.indexOf("/", prefix.length);
      const path = slash < 0 ? null : locationPathOfPrefix(object.key.slice(0, slash + 1));
      const uploaded = object.uploaded.getTime();
      if (path !== null && (newest === null || uploaded > newest.uploaded)) newest = { path, uploaded };
    }
    cursor = listing.truncated ? listing.cursor : undefined;
  } while (cursor);
  return newest?.path ?? null;
}
