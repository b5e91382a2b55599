import { and, eq, ne } from "drizzle-orm";
import { DEV_TAG, latestVersionTag, type Revision } from "../domain/revision";
import type { Db } from "./db";
import type { DatasetId } from "./datasets";
import { datasetManifests, manifestFiles, tags } from "./schema";

/** The manifest a revision of a dataset stands for. */
export interface ResolvedRevision {
  hash: string;
  kind: string;
}

async function taggedManifest(db: Db, dataset: DatasetId, version: string): Promise<ResolvedRevision | null> {
  const [row] = await db
    .select({ hash: tags.hash, kind: manifestFiles.kind })
    .from(tags)
    .innerJoin(manifestFiles, eq(manifestFiles.hash, tags.hash))
    .where(and(eq(tags.namespace, dataset.namespace), eq(tags.name, dataset.name), eq(tags.version, version)));
  return row ?? null;
}

/**
 * Resolves a revision of `namespace/name` to its manifest, or null when the
 * dataset has no such revision: a version or `dev` by its tag, `latest` as
 * the highest semver version, and a hash only if it is linked to this
 * dataset (hashes compare in lowercase). Every route that takes a revision
 * (get, manifest, deploy, progress) resolves it here.
 */
export async function resolveRevision(db: Db, dataset: DatasetId, revision: Revision): Promise<ResolvedRevision | null> {
  switch (revision.kind) {
    case "version":
      return taggedManifest(db, dataset, revision.version);
    case "dev":
      return taggedManifest(db, dataset, DEV_TAG);
    case "latest": {
      const versions = await db
        .select({ version: tags.version, hash: tags.hash })
        .from(tags)
        .where(and(eq(tags.namespace, dataset.namespace), eq(tags.name, dataset.name), ne(tags.version, DEV_TAG)));
      const latest = latestVersionTag(versions);
      return latest ? taggedManifest(db, dataset, latest.version) : null;
    }
    case "hash": {
      const [row] = await db
        .select({ hash: manifestFiles.hash, kind: manifestFiles.kind })
        .from(datasetManifests)
        .innerJoin(manifestFiles, eq(manifestFiles.hash, datasetManifests.hash))
        .where(
          and(
            eq(datasetManifests.namespace, dataset.namespace),
            eq(datasetManifests.name, dataset.name),
            eq(datasetManifests.hash, revision.hash.toLowerCase()),
          ),
        );
      return row ?? null;
    }
  }
}
