import type { Manifest } from "../domain/manifest/kinds";
import { prepareManifest } from "../domain/manifest/parse";
import { nonIncrementalSql } from "../sql/incremental";
import { type CanonicalManifest, putManifestObject } from "../store/manifests";
import { ApiError } from "./errors";

/**
 * Validates manifest content and puts its canonical bytes to R2: the first
 * write of every registration, so a rejected manifest writes nothing and the
 * object exists before any D1 row names it.
 */
export async function putValidManifest(bucket: R2Bucket, content: unknown): Promise<CanonicalManifest> {
  const prepared = await prepareManifest(content);
  if (!prepared.ok) throw new ApiError(prepared.code, prepared.message);
  refuseNonIncremental(prepared.manifest);
  try {
    await putManifestObject(bucket, prepared);
  } catch (error) {
    throw new ApiError("MANIFEST_STORAGE_ERROR", `could not store manifest ${prepared.hash}`, { cause: error });
  }
  return prepared;
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
