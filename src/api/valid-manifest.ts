import { datasetKind } from "../domain/dataset-kinds/registry";
import type { Manifest } from "../domain/manifest/kinds";
import { prepareManifest } from "../domain/manifest/parse";
import { nonIncrementalSql } from "../sql/incremental";
import type { Db } from "../store/db";
import { pinDependencies } from "../store/dependency-pins";
import { type CanonicalManifest, putManifestObject } from "../store/manifests";
import { ApiError } from "./errors";

/**
 * Validates manifest content and puts its canonical bytes to R2: the first
 * write of every registration, so a rejected manifest writes nothing and the
 * object exists before any D1 row names it.
 */
export async function putValidManifest(db: Db, bucket: R2Bucket, content: unknown): Promise<CanonicalManifest> {
  const prepared = await prepareManifest(content);
  if (!prepared.ok) throw new ApiError(prepared.code, prepared.message);
  await refuseUnresolvedDependencies(db, bucket, prepared.manifest);
  refuseNonIncremental(prepared.manifest);
  try {
    await putManifestObject(bucket, prepared);
  } catch (error) {
    throw new ApiError("MANIFEST_STORAGE_ERROR", `could not store manifest ${prepared.hash}`, { cause: error });
  }
  return prepared;
}

/**
 * Every dependency of a derived manifest must resolve to a registered manifest when it is registered, as
 * HEAD's validate_derived_manifest resolves each to a hash first (derived-datasets.md §1.4), rather than its
 * job failing at start. The job still pins them again when it starts: a version tag may move or a dataset
 * be deleted between registration and deploy.
 */
async function refuseUnresolvedDependencies(db: Db, bucket: R2Bucket, manifest: Manifest): Promise<void> {
  if (manifest.kind !== "manifest") return;
  const pins = await pinDependencies(db, bucket, datasetKind(manifest.kind).dependencies(manifest));
  if (!pins.ok) throw new ApiError("DEPENDENCY_VALIDATION_ERROR", `Manifest validation error: ${pins.reason}`);
}

/**
 * A derived table whose SQL cannot be computed block range by block range is
 * refused when it is registered and deployed, as at HEAD (derived-datasets.md
 * §2.6), never when its first step runs; the construct is named.
 */
export function refuseNonIncremental(manifest: Manifest): void {
  if (manifest.kind !== "manifest") return;
  for (const [table, definition] of Object.entries(manifest.tables).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const construct = nonIncrementalSql(definition.input.sql);
    if (construct !== null) throw new ApiError("NON_INCREMENTAL_QUERY", `In table '${table}': query contains non-incremental operation: ${construct}`);
  }
}
