import { and, asc, eq, ne, sql } from "drizzle-orm";
import { DEV_TAG } from "../domain/revision";
import { nowTimestamp } from "./clock";
import { isConstraintViolation } from "./constraint-errors";
import type { Db } from "./db";
import { type CanonicalManifest, deleteManifestIfUnlinked, ensureManifestObject, insertManifestRow } from "./manifests";
import { datasetManifests, tags } from "./schema";

/**
 * Datasets: links (namespace, name) -> manifest in `dataset_manifests`, and
 * tags (namespace, name, version) -> manifest in `tags`. Tag rows are the
 * semver versions and `dev`; `latest` is not stored but derived as the
 * highest version (see domain/revision.ts), so it can never go stale.
 */

export interface DatasetId {
  namespace: string;
  name: string;
}

export interface TagRow {
  version: string;
  hash: string;
  createdAt: string;
  updatedAt: string;
}

/** Inserts a tag, or points it at a new hash; `updated_at` changes only when the hash does. */
function upsertTag(db: Db, dataset: DatasetId, version: string, hash: string, now: string) {
  return db
    .insert(tags)
    .values({ namespace: dataset.namespace, name: dataset.name, version, hash, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: [tags.namespace, tags.name, tags.version],
      set: { hash: sql`excluded.hash`, updatedAt: sql`excluded.updated_at` },
      setWhere: sql`${tags.hash} IS NOT excluded.hash`,
    });
}

export interface Registration {
  dataset: DatasetId;
  /** A semver version to tag, or null to only link and move `dev`. */
  version: string | null;
}

/** The link and tag writes of a registration: link, `dev`, and the version tag if any. */
function linkAndTag(db: Db, hash: string, registration: Registration, now: string) {
  const { dataset, version } = registration;
  const link = db
    .insert(datasetManifests)
    .values({ namespace: dataset.namespace, name: dataset.name, hash, createdAt: now })
    .onConflictDoNothing({ target: [datasetManifests.namespace, datasetManifests.name, datasetManifests.hash] });
  const dev = upsertTag(db, dataset, DEV_TAG, hash, now);
  return version === null ? ([link, dev] as const) : ([link, dev, upsertTag(db, dataset, version, hash, now)] as const);
}

/**
 * Registers a dataset with manifest content whose object the caller has
 * already put to R2: manifest row, link, `dev` and version tag in one batch.
 */
export async function registerDatasetWithManifest(db: Db, bucket: R2Bucket, manifest: CanonicalManifest, registration: Registration): Promise<void> {
  const now = nowTimestamp();
  await db.batch([insertManifestRow(db, manifest, now), ...linkAndTag(db, manifest.hash, registration, now)]);
  await ensureManifestObject(bucket, manifest);
}

/**
 * Registers a dataset with an already stored manifest, in one batch. Returns
 * false, having written nothing, when no manifest has that hash (including
 * one deleted concurrently: the link's foreign key then fails the batch).
 */
export async function registerDatasetWithHash(db: Db, hash: string, registration: Registration): Promise<boolean> {
  try {
    await db.batch(linkAndTag(db, hash, registration, nowTimestamp()));
    return true;
  } catch (error) {
    if (isConstraintViolation(error, "FOREIGN KEY")) return false;
    throw error;
  }
}

export interface DatasetVersions extends DatasetId {
  versions: string[];
}

/** Every dataset linked to at least one manifest, by namespace then name, with its version tags. */
export async function listDatasets(db: Db): Promise<DatasetVersions[]> {
  const [linked, versionTags] = await db.batch([
    db
      .selectDistinct({ namespace: datasetManifests.namespace, name: datasetManifests.name })
      .from(datasetManifests)
      .orderBy(asc(datasetManifests.namespace), asc(datasetManifests.name)),
    db.select({ namespace: tags.namespace, name: tags.name, version: tags.version }).from(tags).where(ne(tags.version, DEV_TAG)),
  ]);
  const byDataset = new Map<string, string[]>();
  for (const tag of versionTags) {
    const key = `${tag.namespace}/${tag.name}`;
    byDataset.set(key, [...(byDataset.get(key) ?? []), tag.version]);
  }
  return linked.map((dataset) => ({ ...dataset, versions: byDataset.get(`${dataset.namespace}/${dataset.name}`) ?? [] }));
}

/** All tags of a dataset, `dev` included. */
export async function listTags(db: Db, dataset: DatasetId): Promise<TagRow[]> {
  return db
    .select({ version: tags.version, hash: tags.hash, createdAt: tags.createdAt, updatedAt: tags.updatedAt })
    .from(tags)
    .where(and(eq(tags.namespace, dataset.namespace), eq(tags.name, dataset.name)));
}

export async function deleteTag(db: Db, dataset: DatasetId, version: string): Promise<void> {
  await db.delete(tags).where(and(eq(tags.namespace, dataset.namespace), eq(tags.name, dataset.name), eq(tags.version, version)));
}

/**
 * Unlinks every manifest of a dataset and deletes its tags in one batch, then deletes
 * those manifests that no other dataset links, row and object.
 */
export async function deleteDataset(db: Db, bucket: R2Bucket, dataset: DatasetId): Promise<void> {
  const [, unlinked] = await db.batch([
    db.delete(tags).where(and(eq(tags.namespace, dataset.namespace), eq(tags.name, dataset.name))),
    db
      .delete(datasetManifests)
      .where(and(eq(datasetManifests.namespace, dataset.namespace), eq(datasetManifests.name, dataset.name)))
      .returning({ hash: datasetManifests.hash }),
  ]);
  for (const { hash } of unlinked) await deleteManifestIfUnlinked(db, bucket, hash);
}
