import { prepareManifest } from "../domain/manifest/parse";
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
  try {
    await putManifestObject(bucket, prepared);
  } catch (error) {
    throw new ApiError("MANIFEST_STORAGE_ERROR", `could not store manifest ${prepared.hash}`, { cause: error });
  }
  return prepared;
}
