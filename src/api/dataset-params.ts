import { z } from "@hono/zod-openapi";
import { formatRevision, isHash, isName, isNamespace, isVersion, parseRevision, type Revision } from "../domain/revision";
import { kindTables } from "../domain/dataset-kinds/registry";
import type { Manifest } from "../domain/manifest/kinds";
import { parseManifest } from "../domain/manifest/parse";
import type { Db } from "../store/db";
import { readManifestObject } from "../store/manifests";
import { type ResolvedRevision, resolveRevision } from "../store/revisions";
import { ApiError } from "./errors";

/**
 * Path parameters shared by the dataset, manifest, deploy and progress
 * routes (reference §1.1), and the manifest a dataset revision path names.
 * A revision is parsed into its typed form.
 */

export const NamespaceSchema = z
  .string()
  .refine(isNamespace, "namespace must be 1 to 255 lowercase ASCII letters, digits or '_'")
  .openapi({ description: "Dataset namespace (`_` is the global one)", example: "_", pattern: "^[a-z0-9_]{1,255}$" });

export const NameSchema = z
  .string()
  .refine(isName, "name must start with a lowercase letter or '_', contain only lowercase letters, digits or '_', and be at most 255 characters")
  .openapi({ description: "Dataset name", example: "eth_rpc", pattern: "^[a-z_][a-z0-9_]{0,254}$" });

export const VersionSchema = z
  .string()
  .refine(isVersion, "version must be a strict semver such as 1.2.3 (no 'v' prefix)")
  .openapi({ description: "Semantic version", example: "1.0.0" });

const HashSchema = z
  .string()
  .refine(isHash, "hash must be 64 hex digits")
  .transform((hash) => hash.toLowerCase())
  .openapi({ description: "Manifest hash: 64 hex digits (sha256 of the canonical manifest)", example: "3d1c0c2d3d7c276e18bd92a09728ecd76ad8be05ebb30656c448859f3e5c22b9" });

const RevisionSchema = z
  .string()
  .transform((text, ctx): Revision => {
    const revision = parseRevision(text);
    if (revision) return revision;
    ctx.addIssue({ code: "custom", message: "revision must be a semver version, 'latest', 'dev' or a 64-hex manifest hash" });
    return z.NEVER;
  })
  .openapi({ description: "A version (`1.2.3`), `latest` (the highest version), `dev` (the last registered) or a manifest hash", example: "latest" });

const pathParam = (name: string) => ({ param: { name, in: "path" as const } });

export const DatasetParamsSchema = z.object({
  namespace: NamespaceSchema.openapi(pathParam("namespace")),
  name: NameSchema.openapi(pathParam("name")),
});

export const DatasetRevisionParamsSchema = DatasetParamsSchema.extend({
  revision: RevisionSchema.openapi(pathParam("revision")),
});

export const DatasetTableParamsSchema = DatasetRevisionParamsSchema.extend({
  table: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, "table must be a lowercase identifier")
    .openapi({ param: { name: "table", in: "path" }, example: "blocks" }),
});

export const DatasetVersionParamsSchema = DatasetParamsSchema.extend({
  version: VersionSchema.openapi(pathParam("version")),
});

export const HashParamsSchema = z.object({ hash: HashSchema.openapi(pathParam("hash")) });

/** The manifest `{namespace}/{name}/versions/{revision}` names; 404 DATASET_NOT_FOUND when it names none. */
export async function resolveDatasetRevision(db: Db, params: { namespace: string; name: string; revision: Revision }): Promise<ResolvedRevision> {
  const { namespace, name, revision } = params;
  const resolved = await resolveRevision(db, { namespace, name }, revision);
  if (!resolved) throw new ApiError("DATASET_NOT_FOUND", `dataset ${namespace}/${name} has no revision '${formatRevision(revision)}'`);
  return resolved;
}

/**
 * The parsed manifest of a revision, or null when the stored manifest cannot
 * be read: a job then fails at its start with the reason, which the runner
 * reads from the same object.
 */
export async function revisionManifest(bucket: R2Bucket, resolved: ResolvedRevision): Promise<Manifest | null> {
  const text = await readManifestObject(bucket, resolved.hash);
  if (text === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = parseManifest(json);
  return parsed.ok ? parsed.manifest : null;
}

/** The tables a job of the revision writes, as its kind says; empty when the stored manifest cannot be read. */
export async function revisionTables(bucket: R2Bucket, resolved: ResolvedRevision): Promise<string[]> {
  const manifest = await revisionManifest(bucket, resolved);
  return manifest ? kindTables(manifest).map((table) => table.name) : [];
}
