import { compareBuild, valid } from "semver";

/**
 * Dataset identity and revisions (reference §1.1, §2.6): namespaces, names,
 * semver versions, manifest hashes, the special tags `latest` and `dev`, and
 * the tag rules. Pure functions only; the store applies what they decide.
 */

/*
 * Namespaces and names are at most 255 characters, which the original does not
 * limit: a dataset name is a segment of its files' R2 keys, and keys longer
 * than R2's 1,024 bytes could never be written.
 */
/** `_` is the global namespace. Lowercase ASCII letters, digits and `_`; may start with a digit. */
const NAMESPACE = /^[a-z0-9_]{1,255}$/;
/** Lowercase ASCII letters, digits and `_`; starts with a letter or `_`. */
const NAME = /^[a-z_][a-z0-9_]{0,254}$/;
const HASH = /^[0-9a-fA-F]{64}$/;
/** The shape of a strict semver; `semver.valid` then checks the details (leading zeros, identifiers). */
const SEMVER_SHAPE = /^[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

export const DEV_TAG = "dev";
const LATEST_TAG = "latest";

export function isNamespace(text: string): boolean {
  return NAMESPACE.test(text);
}

export function isName(text: string): boolean {
  return NAME.test(text);
}

/** 64 hex digits in either case; lookups use the lowercase form, as computed hashes are lowercase. */
export function isHash(text: string): boolean {
  return HASH.test(text);
}

/**
 * A strict semver version: MAJOR.MINOR.PATCH[-pre][+build], no `v` or `=`
 * prefix, no surrounding whitespace, no leading zeros in numeric parts.
 */
export function isVersion(text: string): boolean {
  return SEMVER_SHAPE.test(text) && valid(text) !== null;
}

export type Revision =
  | { kind: "latest" }
  | { kind: "dev" }
  /** `hash` keeps the case it was written in; compare with `hash.toLowerCase()`. */
  | { kind: "hash"; hash: string }
  | { kind: "version"; version: string };

/** Parses a revision as the original does: `latest`, `dev`, then a hash, then a version. */
export function parseRevision(text: string): Revision | null {
  if (text === LATEST_TAG) return { kind: "latest" };
  if (text === DEV_TAG) return { kind: "dev" };
  if (isHash(text)) return { kind: "hash", hash: text };
  if (isVersion(text)) return { kind: "version", version: text };
  return null;
}

export function formatRevision(revision: Revision): string {
  switch (revision.kind) {
    case "latest":
      return LATEST_TAG;
    case "dev":
      return DEV_TAG;
    case "hash":
      return revision.hash;
    case "version":
      return revision.version;
  }
}

/** A full dataset reference `<namespace>/<name>@<revision>`, as manifests declare dependencies. */
export interface DatasetReference {
  namespace: string;
  name: string;
  revision: Revision;
}

const PACKAGE_PREFIX = "pkg:amp/";

/** Parses `[pkg:amp/]<namespace>/<name>@<revision>`; the `pkg:amp/` prefix is accepted and dropped. */
export function parseDatasetReference(text: string): DatasetReference | null {
  const body = text.startsWith(PACKAGE_PREFIX) ? text.slice(PACKAGE_PREFIX.length) : text;
  const match = /^([^/@]+)\/([^/@]+)@([^/@]+)$/.exec(body);
  if (!match) return null;
  const [, namespace = "", name = "", revisionText = ""] = match;
  const revision = parseRevision(revisionText);
  if (!isNamespace(namespace) || !isName(name) || revision === null) return null;
  return { namespace, name, revision };
}

export function formatDatasetReference(reference: DatasetReference): string {
  return `${reference.namespace}/${reference.name}@${formatRevision(reference.revision)}`;
}

/** `[namespace/]name[@revision]`: how SQL may name a dataset; omitted parts are not constrained. */
export interface PartialDatasetReference {
  namespace: string | null;
  name: string;
  revision: Revision | null;
}

export function parsePartialDatasetReference(text: string): PartialDatasetReference | null {
  const match = /^(?:([^/@]+)\/)?([^/@]+)(?:@([^/@]+))?$/.exec(text);
  if (!match) return null;
  const [, namespace, name = "", revisionText] = match;
  if (namespace !== undefined && !isNamespace(namespace)) return null;
  if (!isName(name)) return null;
  const revision = revisionText === undefined ? null : parseRevision(revisionText);
  if (revisionText !== undefined && revision === null) return null;
  return { namespace: namespace ?? null, name, revision };
}

function sameRevision(a: Revision, b: Revision): boolean {
  if (a.kind === "hash" && b.kind === "hash") return a.hash.toLowerCase() === b.hash.toLowerCase();
  return formatRevision(a) === formatRevision(b);
}

/** Whether a partial reference names this dependency: the name must match, and each part given too. */
export function partialReferenceMatches(partial: PartialDatasetReference, dependency: DatasetReference): boolean {
  if (partial.name !== dependency.name) return false;
  if (partial.namespace !== null && partial.namespace !== dependency.namespace) return false;
  return partial.revision === null || sameRevision(partial.revision, dependency.revision);
}

/**
 * Semver order, as Rust's `semver::Version`: major, minor, patch, then
 * pre-release (a pre-release sorts before its release), then build metadata,
 * so that two distinct versions never compare equal by accident of build.
 */
export function compareVersions(a: string, b: string): number {
  return compareBuild(a, b);
}

/** Highest first. */
export function sortVersionsDescending(versions: readonly string[]): string[] {
  return [...versions].sort((a, b) => compareVersions(b, a));
}

/** A semver tag of a dataset: version -> manifest hash. */
export interface VersionTag {
  version: string;
  hash: string;
}

/**
 * The tag `latest` resolves to: the version tag with the highest semver, or
 * null when the dataset has no version tag. Because the highest version can
 * never be deleted (see `versionDeletion`), `latest` only ever moves forward.
 */
export function latestVersionTag<T extends VersionTag>(tags: readonly T[]): T | null {
  let best: T | null = null;
  for (const tag of tags) {
    if (best === null || compareVersions(tag.version, best.version) > 0) best = tag;
  }
  return best;
}

/**
 * Whether a version tag may be deleted: an absent tag is a no-op, and the
 * version `latest` points to is protected until a higher version exists.
 * Other versions that share latest's manifest may be deleted.
 */
export type VersionDeletion = "absent" | "latest" | "deletable";

export function versionDeletion(tags: readonly VersionTag[], version: string): VersionDeletion {
  if (!tags.some((tag) => tag.version === version)) return "absent";
  return latestVersionTag(tags)?.version === version ? "latest" : "deletable";
}
