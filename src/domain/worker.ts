/**
 * Worker node ids and build metadata (reference §1.1, §8).
 */

/**
 * A node id (the original's `NodeId`): non-empty, a letter first, then
 * letters, digits, `_`, `-` or `.`; Unicode letters and digits count, as in
 * Rust's `is_alphabetic` / `is_alphanumeric`.
 */
const NODE_ID = /^\p{Alphabetic}[\p{Alphabetic}\p{N}_.-]*$/u;

export function isNodeId(value: string): boolean {
  return NODE_ID.test(value);
}

/** How often a working executor (a JobRunner or a queue consumer) refreshes its worker row's heartbeat. */
export const WORKER_HEARTBEAT_MS = 10_000;

const WORKER_METADATA_FIELDS = ["version", "commit_sha", "commit_timestamp", "build_date"] as const;

/** A worker's build metadata; each field is "unknown" where it is not known. */
export type WorkerMetadata = Record<(typeof WORKER_METADATA_FIELDS)[number], string>;

export const UNKNOWN = "unknown";

/** Reads stored build metadata, with "unknown" for any field that is missing or not a non-empty string. */
export function workerMetadataFrom(stored: unknown): WorkerMetadata {
  const record = typeof stored === "object" && stored !== null ? (stored as Record<string, unknown>) : {};
  const field = (name: string): string => {
    const value = record[name];
    return typeof value === "string" && value !== "" ? value : UNKNOWN;
  };
  return {
    version: field("version"),
    commit_sha: field("commit_sha"),
    commit_timestamp: field("commit_timestamp"),
    build_date: field("build_date"),
  };
}

/** The Worker's version metadata binding (`[version_metadata]`), as far as we use it. */
export interface VersionMetadata {
  /** The id of the deployed Worker version. */
  id?: string;
  /** The version's tag, when it was uploaded with one. */
  tag?: string;
  /** When the version was uploaded (RFC 3339). */
  timestamp?: string;
}

/**
 * The build metadata a worker registers with: the deployed version's tag (or
 * its id when untagged) and its upload time as the build date. A Worker
 * version carries no commit, so `commit_sha` and `commit_timestamp` are
 * "unknown".
 */
export function workerMetadataFromVersion(version: VersionMetadata | undefined): WorkerMetadata {
  return workerMetadataFrom({ version: version?.tag || version?.id, build_date: version?.timestamp });
}

/**
 * Deploy's `worker_id` (amp-later B.2): an exact node id, or a prefix glob,
 * a valid node id prefix followed by one trailing `*` (`*` alone matches any
 * worker). Anything else is malformed.
 */
export type WorkerSelector = { readonly kind: "exact"; readonly nodeId: string } | { readonly kind: "prefix"; readonly prefix: string };

export function parseWorkerSelector(text: string): WorkerSelector | null {
  if (!text.endsWith("*")) return isNodeId(text) ? { kind: "exact", nodeId: text } : null;
  const prefix = text.slice(0, -1);
  return prefix === "" || isNodeId(prefix) ? { kind: "prefix", prefix } : null;
}

/**
 * A worker counts as live for a deploy while its heartbeat is at most this old: two heartbeat periods, so
 * one late heartbeat does not make a working executor unavailable (the original's 5 s assumes 1 s heartbeats).
 */
export const LIVE_WORKER_MS = 2 * WORKER_HEARTBEAT_MS;

export type WorkerChoice = { readonly ok: true; readonly nodeId: string } | { readonly ok: false; readonly reason: "not_available" | "no_match" };

/**
 * The worker a selector picks among the live ones: the exact id if it is
 * live, else `not_available`; for a glob, one of its live matches chosen
 * with `random` (in [0, 1)), else `no_match`.
 */
export function chooseWorker(selector: WorkerSelector, liveNodeIds: readonly string[], random: () => number): WorkerChoice {
  if (selector.kind === "exact") return liveNodeIds.includes(selector.nodeId) ? { ok: true, nodeId: selector.nodeId } : { ok: false, reason: "not_available" };
  const matches = liveNodeIds.filter((id) => id.startsWith(selector.prefix));
  const chosen = matches[Math.floor(random() * matches.length)];
  return chosen === undefined ? { ok: false, reason: "no_match" } : { ok: true, nodeId: chosen };
}
