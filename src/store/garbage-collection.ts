import { and, asc, eq, gt, inArray, lt, notExists, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import { canonicalFileIds, invalidatedSegments, supersededSegments } from "../domain/garbage-rules";
import { isTerminal, parseJobStatus } from "../domain/job";
import type { Db } from "./db";
import { fileChainColumns } from "./files";
import { listInvalidations } from "./invalidations";
import { fileObjectKey } from "./r2-layout";
import { listLocationObjects } from "./revision-locations";
import { files, gcDeletedLocations, gcScheduledFiles, jobs, locations } from "./schema";

/**
 * Garbage collection: the objects and file rows no canonical chain needs (docs/storage.md "Garbage
 * collection" argues the order). Four kinds, all older than a cutoff:
 *
 * - `superseded`: file rows (and their objects) off their location's canonical chain, inside its range
 *   (`supersededSegments`): a reorg's losing branch, a range extracted again;
 * - `invalidated`: file rows (and their objects) an invalidation older than the cutoff took out of counting
 *   (`invalidatedSegments`): never on a canonical chain again, whether their range was rebuilt or not;
 * - `pruned`: files a revision prune handed over whose expiry has passed, still off the chain, in a location
 *   whose writer is absent or terminal;
 * - `unregistered`: objects under a location's prefix with no file row (a put whose row never came, or a
 *   removal interrupted between its row and its object);
 * - `deleted_location`: objects under the prefix of a location `DELETE /revisions/{id}` deleted.
 *
 * A file row always goes before its object, and its delete is conditional on its location having gained no
 * file since the chain was computed, so a file a concurrent step links to the chain is never removed.
 */

export type GarbageReason = "superseded" | "invalidated" | "pruned" | "unregistered" | "deleted_location";

export interface GarbageItem {
  reason: GarbageReason;
  key: string;
  bytes: number;
  fileId?: number;
  locationId?: number;
}

export interface GarbageTotals {
  files: number;
  objects: number;
  bytes: number;
}

export interface GarbageWindow {
  /** Only what is older than this (RFC 3339) is collected. */
  cutoff: string;
  /** Now, for the expiry of pruned files. */
  now: string;
}

/** D1 binds at most 100 parameters per statement. */
const IDS_PER_STATEMENT = 90;

interface LocationRef {
  id: number;
  path: string;
  createdAt: string;
  writerDone: boolean;
}

async function locationRefs(db: Db): Promise<LocationRef[]> {
  // Only columns the two tables do not share: D1 answers a join's columns by name.
  const rows = await db
    .select({ id: locations.id, path: locations.path, createdAt: locations.createdAt, writerStatus: jobs.status })
    .from(locations)
    .leftJoin(jobs, eq(jobs.id, locations.writer))
    .orderBy(asc(locations.id));
  return rows.map((row) => ({ id: row.id, path: row.path, createdAt: row.createdAt, writerDone: row.writerStatus === null || isTerminal(parseJobStatus(row.writerStatus)) }));
}

async function fileStates(db: Db, locationId: number) {
  const rows = await db
    .select({ ...fileChainColumns, fileName: files.fileName, createdAt: files.createdAt, expiresAt: gcScheduledFiles.expiresAt })
    .from(files)
    .leftJoin(gcScheduledFiles, eq(gcScheduledFiles.fileId, files.id))
    .where(eq(files.locationId, locationId))
    .orderBy(asc(files.id));
  return rows.map(({ start, end, ...row }) => ({ ...row, range: { start, end } }));
}

/** The file rows of a location that are garbage, and the highest file id seen (for the conditional delete). */
async function fileGarbage(db: Db, location: LocationRef, window: GarbageWindow): Promise<{ items: GarbageItem[]; maxFileId: number }> {
  // Invalidations first: one recorded after the files were read only takes out files read.
  const invalidations = await listInvalidations(db, [location.id]);
  const states = await fileStates(db, location.id);
  const maxFileId = states.reduce((max, s) => Math.max(max, s.fileId), 0);
  const superseded = supersededSegments(states, invalidations).filter((s) => s.createdAt < window.cutoff);
  const invalidated = invalidatedSegments(states, invalidations, window.cutoff);
  const chosen = new Set([...superseded, ...invalidated].map((s) => s.fileId));
  const canonical = canonicalFileIds(states, invalidations);
  const pruned = location.writerDone
    ? states.filter((s) => s.expiresAt !== null && s.expiresAt <= window.now && !canonical.has(s.fileId) && !chosen.has(s.fileId))
    : [];
  const item = (reason: GarbageReason) => (s: (typeof states)[number]): GarbageItem => ({
    reason,
    key: fileObjectKey(location.path, s.fileName),
    bytes: s.objectSize ?? 0,
    fileId: s.fileId,
    locationId: location.id,
  });
  return { items: [...superseded.map(item("superseded")), ...invalidated.map(item("invalidated")), ...pruned.map(item("pruned"))], maxFileId };
}

async function registeredNames(db: Db, locationId: number): Promise<Set<string>> {
  const rows = await db.select({ fileName: files.fileName }).from(files).where(eq(files.locationId, locationId));
  return new Set(rows.map((row) => row.fileName));
}

/**
 * Objects under a location's prefix without a file row, older than the cutoff, and uploaded after the location
 * row was created: a step's put whose row never came. Objects older than their location row were put there
 * some other way (a path registered with POST /revisions to be restored): they are left to the restore.
 * Objects are listed before rows are read, since a row always follows its object.
 */
async function unregisteredObjects(db: Db, bucket: R2Bucket, location: LocationRef, window: GarbageWindow): Promise<GarbageItem[]> {
  const objects = await listLocationObjects(bucket, location.path);
  if (objects.length === 0) return [];
  const names = await registeredNames(db, location.id);
  const cutoffMs = Date.parse(window.cutoff);
  const createdMs = Date.parse(location.createdAt);
  return objects
    .filter((object) => !names.has(object.fileName) && object.uploaded < cutoffMs && object.uploaded >= createdMs)
    .map((object) => ({ reason: "unregistered", key: object.key, bytes: object.size, locationId: location.id }));
}

const otherLocation = alias(locations, "named_again");

async function expiredTombstones(db: Db, window: GarbageWindow) {
  return db
    .select()
    .from(gcDeletedLocations)
    .where(
      and(
        lt(gcDeletedLocations.deletedAt, window.cutoff),
        notExists(db.select({ one: sql`1` }).from(otherLocation).where(eq(otherLocation.url, gcDeletedLocations.url))),
      ),
    );
}

async function deletedLocationObjects(bucket: R2Bucket, path: string): Promise<GarbageItem[]> {
  return (await listLocationObjects(bucket, path)).map((object) => ({ reason: "deleted_location", key: object.key, bytes: object.size }));
}

/** Everything a collection with this window would remove now (the dry run). */
export async function planGarbage(db: Db, bucket: R2Bucket, window: GarbageWindow): Promise<GarbageItem[]> {
  const items: GarbageItem[] = [];
  for (const location of await locationRefs(db)) {
    items.push(...(await fileGarbage(db, location, window)).items);
    items.push(...(await unregisteredObjects(db, bucket, location, window)));
  }
  for (const tombstone of await expiredTombstones(db, window)) items.push(...(await deletedLocationObjects(bucket, tombstone.path)));
  return items;
}

/**
 * Deletes file rows `ids` of a location, only if the location has gained no file since `maxFileId` (file ids
 * only grow): a new file could link a candidate into the chain. Returns the rows deleted.
 */
async function deleteFileRowsIfUnchanged(db: Db, locationId: number, ids: number[], maxFileId: number): Promise<{ id: number; fileName: string }[]> {
  const deleted: { id: number; fileName: string }[] = [];
  const newer = db.select({ one: sql`1` }).from(files).where(and(eq(files.locationId, locationId), gt(files.id, maxFileId)));
  for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) {
    const chunk = ids.slice(i, i + IDS_PER_STATEMENT);
    deleted.push(
      ...(await db
        .delete(files)
        .where(and(eq(files.locationId, locationId), inArray(files.id, chunk), notExists(newer)))
        .returning({ id: files.id, fileName: files.fileName })),
    );
  }
  return deleted;
}

async function deleteObjects(bucket: R2Bucket, keys: string[]): Promise<void> {
  // R2 deletes up to 1,000 keys per call.
  for (let i = 0; i < keys.length; i += 1000) await bucket.delete(keys.slice(i, i + 1000));
}

/**
 * Removes everything `planGarbage` finds, in the crash-safe order: a file's row, then its object (an object
 * whose row is gone is an `unregistered` object the next run removes); a deleted location's objects, then its
 * tombstone. Safe to repeat and to run twice at once: every delete is of what is still there.
 */
export async function collectGarbage(db: Db, bucket: R2Bucket, window: GarbageWindow): Promise<GarbageTotals> {
  const totals: GarbageTotals = { files: 0, objects: 0, bytes: 0 };
  const removedObjects = async (items: GarbageItem[]) => {
    await deleteObjects(bucket, items.map((item) => item.key));
    totals.objects += items.length;
    totals.bytes += items.reduce((sum, item) => sum + item.bytes, 0);
  };
  for (const location of await locationRefs(db)) {
    const { items, maxFileId } = await fileGarbage(db, location, window);
    if (items.length > 0) {
      const deleted = await deleteFileRowsIfUnchanged(db, location.id, items.map((item) => item.fileId!), maxFileId);
      const gone = new Set(deleted.map((row) => row.id));
      totals.files += deleted.length;
      await removedObjects(items.filter((item) => gone.has(item.fileId!)));
    }
    await removedObjects(await unregisteredObjects(db, bucket, location, window));
  }
  for (const tombstone of await expiredTombstones(db, window)) {
    await removedObjects(await deletedLocationObjects(bucket, tombstone.path));
    await db
      .delete(gcDeletedLocations)
      .where(and(eq(gcDeletedLocations.url, tombstone.url), notExists(db.select({ one: sql`1` }).from(otherLocation).where(eq(otherLocation.url, tombstone.url)))));
  }
  return totals;
}
