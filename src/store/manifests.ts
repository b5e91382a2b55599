import { and, asc, eq, notExists, ne, sql } from "drizzle-orm";
import { compareVersions, DEV_TAG } from "../domain/revision";
import { nowTimestamp } from "./clock";
import type { Db } from "./db";
import { manifestObjectKey } from "./r2-layout";
import { datasetManifests, manifestFiles, tags } from "./schema";

/**
 * Manifests: the canonical bytes in R2 (`manifestObjectKey`), indexed by the
 * `manifest_files` row. The object is always written before its row, and a
 * row is deleted only while no dataset links its manifest.
 */

export interface ManifestRecord {
  hash: string;
  kind: string;
  createdAt: string;
}

/** A manifest ready to store: its canonical JSON, its hash and its kind. */
export interface CanonicalManifest {
  hash: string;
  kind: string;
  canonical: string;
}

export async function putManifestObject(bucket: R2Bucket, manifest: CanonicalManifest): Promise<void> {
  await bucket.put(manifestObjectKey(manifest.hash), manifest.canonical, { httpMetadata: { contentType: "application/json" } });
}

/**
 * Writes the object again if it is gone. Called after a registration's D1
 * write: a prune that deleted the row just before it may have deleted the
 * object after our put, and the row we (re)inserted must not lack its object.
 */
export async function ensureManifestObject(bucket: R2Bucket, manifest: CanonicalManifest): Promise<void> {
  if ((await bucket.head(manifestObjectKey(manifest.hash))) === null) await putManifestObject(bucket, manifest);
}

/** The row insert of a manifest, idempotent, for use alone or inside a batch. */
export function insertManifestRow(db: Db, manifest: CanonicalManifest, now: string) {
  return db
    .insert(manifestFiles)
    .values({ hash: manifest.hash, path: manifest.hash, kind: manifest.kind, createdAt: now })
    .onConflictDoNothing({ target: manifestFiles.hash });
}

/** Indexes a manifest whose object the caller has put (`putManifestObject`), without linking it. Idempotent. */
export async function registerManifest(db: Db, bucket: R2Bucket, manifest: CanonicalManifest): Promise<void> {
  await insertManifestRow(db, manifest, nowTimestamp());
  await ensureManifestObject(bucket, manifest);
}

export async function findManifest(db: Db, hash: string): Promise<ManifestRecord | null> {
  const [row] = await db
    .select({ hash: manifestFiles.hash, kind: manifestFiles.kind, createdAt: manifestFiles.createdAt })
    .from(manifestFiles)
    .where(eq(manifestFiles.hash, hash));
  return row ?? null;
}

/** The stored canonical JSON, or null when the object is missing. */
export async function readManifestObject(bucket: R2Bucket, hash: string): Promise<string | null> {
  const object = await bucket.get(manifestObjectKey(hash));
  return object ? object.text() : null;
}

async function isManifestLinked(db: Db, hash: string): Promise<boolean> {
  const [row] = await db.select({ hash: datasetManifests.hash }).from(datasetManifests).where(eq(datasetManifests.hash, hash)).limit(1);
  return row !== undefined;
}

export type ManifestDeletion = "deleted" | "absent" | "linked";

/**
 * Deletes a manifest that no dataset links: the row in one conditional
 * statement (so a link made meanwhile wins), then the object. If a
 * registration re-inserted the row meanwhile, the object is put back.
 */
export async function deleteManifestIfUnlinked(db: Db, bucket: R2Bucket, hash: string): Promise<ManifestDeletion> {
  const deleted = await db
    .delete(manifestFiles)
    .where(
      and(
        eq(manifestFiles.hash, hash),
        notExists(db.select({ hash: datasetManifests.hash }).from(datasetManifests).where(eq(datasetManifests.hash, hash))),
      ),
    )
    .returning({ hash: manifestFiles.hash });
  if (deleted.length === 0) return (await isManifestLinked(db, hash)) ? "linked" : "absent";
  const key = manifestObjectKey(hash);
  const object = await bucket.get(key);
  const bytes = object ? await object.text() : null;
  await bucket.delete(key);
  if (bytes !== null && (await findManifest(db, hash)) !== null) {
    await bucket.put(key, bytes, { httpMetadata: { contentType: "application/json" } });
  }
  return "deleted";
}

/** Hashes of manifests that no dataset links. */
async function listOrphanManifests(db: Db): Promise<string[]> {
  const rows = await db
    .select({ hash: manifestFiles.hash })
    .from(manifestFiles)
    .where(notExists(db.select({ hash: datasetManifests.hash }).from(datasetManifests).where(eq(datasetManifests.hash, manifestFiles.hash))))
    .orderBy(asc(manifestFiles.hash));
  return rows.map((row) => row.hash);
}

/** Deletes every orphaned manifest, row and object; returns how many it deleted. */
export async function pruneOrphanManifests(db: Db, bucket: R2Bucket): Promise<number> {
  let deleted = 0;
  for (const hash of await listOrphanManifests(db)) {
    if ((await deleteManifestIfUnlinked(db, bucket, hash)) === "deleted") deleted++;
  }
  return deleted;
}

export interface ManifestVersionTag {
  namespace: string;
  name: string;
  version: string;
}

/** The version tags (not `dev`) that point to a manifest: by namespace, name, then highest version first. */
export async function listManifestVersionTags(db: Db, hash: string): Promise<ManifestVersionTag[]> {
  const rows = await db
    .select({ namespace: tags.namespace, name: tags.name, version: tags.version })
    .from(tags)
    .where(and(eq(tags.hash, hash), ne(tags.version, DEV_TAG)));
  const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return rows.sort((a, b) => byText(a.namespace, b.namespace) || byText(a.name, b.name) || compareVersions(b.version, a.version));
}

export interface ManifestSummary {
  hash: string;
  kind: string;
  datasetCount: number;
}

/** Every stored manifest by hash, with how many datasets link it. */
export async function listManifestSummaries(db: Db): Promise<ManifestSummary[]> {
  return db
    .select({ hash: manifestFiles.hash, kind: manifestFiles.kind, datasetCount: sql<number>`count(${datasetManifests.hash})` })
    .from(manifestFiles)
    .leftJoin(datasetManifests, eq(datasetManifests.hash, manifestFiles.hash))
    .groupBy(manifestFiles.hash)
    .orderBy(asc(manifestFiles.hash));
}
