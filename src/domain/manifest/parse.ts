import type { z } from "zod";
import { canonicalManifestJson, manifestHash } from "./canonical";
import { validateDependencies } from "./dependencies";
import { DERIVED_DATASET_KIND, type DatasetKind, derivedManifestSchema, isDatasetKind, type Manifest, rawManifestSchemas } from "./kinds";

/**
 * Manifest intake, in the order and with the codes of reference §1.2(2):
 * envelope, kind, typed parse, dependency validation; then the canonical form
 * and its hash.
 */

export type ManifestErrorCode = "INVALID_MANIFEST" | "UNSUPPORTED_DATASET_KIND" | "DEPENDENCY_VALIDATION_ERROR";

export type ManifestFailure = { ok: false; code: ManifestErrorCode; message: string };
export type ParsedManifest = { ok: true; manifest: Manifest } | ManifestFailure;
export type PreparedManifest = { ok: true; manifest: Manifest; kind: DatasetKind; canonical: string; hash: string } | ManifestFailure;

function failure(code: ManifestErrorCode, message: string): ManifestFailure {
  return { ok: false, code, message };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
    .join("; ");
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Validates a manifest given as parsed JSON and returns its typed form. */
export function parseManifest(value: unknown): ParsedManifest {
  if (!isPlainObject(value)) return failure("INVALID_MANIFEST", "manifest must be a JSON object");
  const { kind, network } = value;
  if (typeof kind !== "string") return failure("INVALID_MANIFEST", "manifest must have a string 'kind'");
  if (network !== undefined && network !== null && typeof network !== "string") {
    return failure("INVALID_MANIFEST", "manifest 'network' must be a string");
  }
  if (!isDatasetKind(kind)) {
    return failure("UNSUPPORTED_DATASET_KIND", `unsupported dataset kind '${kind}'; expected manifest, evm-rpc, firehose or eth-beacon`);
  }
  if (kind === DERIVED_DATASET_KIND) {
    const parsed = derivedManifestSchema.safeParse(value);
    if (!parsed.success) return failure("INVALID_MANIFEST", `invalid ${kind} manifest: ${describeIssues(parsed.error)}`);
    const dependencies = validateDependencies(parsed.data);
    if (!dependencies.ok) return failure("DEPENDENCY_VALIDATION_ERROR", dependencies.message);
    return { ok: true, manifest: parsed.data };
  }
  const parsed = rawManifestSchemas[kind].safeParse(value);
  if (!parsed.success) return failure("INVALID_MANIFEST", `invalid ${kind} manifest: ${describeIssues(parsed.error)}`);
  return { ok: true, manifest: parsed.data };
}

/** A lone UTF-16 surrogate: JSON.parse lets `"\ud800"` through, serde_json refuses it. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Validates a manifest and computes its canonical JSON and hash. */
export async function prepareManifest(value: unknown): Promise<PreparedManifest> {
  const parsed = parseManifest(value);
  if (!parsed.ok) return parsed;
  const canonical = canonicalManifestJson(parsed.manifest);
  if (LONE_SURROGATE.test(canonical)) {
    return failure("INVALID_MANIFEST", "manifest strings must be valid Unicode (found an unpaired surrogate escape)");
  }
  return { ok: true, manifest: parsed.manifest, kind: parsed.manifest.kind, canonical, hash: await manifestHash(canonical) };
}
