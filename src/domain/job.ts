/**
 * Job statuses, their allowed transitions (reference §4.2) as data, the
 * `DELETE /jobs?status=` filters (§1.4 (11)) and the job descriptor (§4.1).
 */
import { type BlockRange, isBlockNumber, normalize } from "./block-range";
import { type EndBlock, formatEndBlock, parseEndBlock } from "./end-block";

export const JOB_STATUSES = [
  "SCHEDULED",
  "RUNNING",
  "COMPLETED",
  "STOPPED",
  "STOP_REQUESTED",
  "STOPPING",
  "FAILED",
  "UNKNOWN",
] as const;

export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: readonly JobStatus[] = ["COMPLETED", "STOPPED", "FAILED"];

/** Terminal jobs never change again and are the only ones that can be deleted. */
export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/**
 * For each target status, the statuses it may be reached from. Creating a
 * job is not a transition: a job is inserted as SCHEDULED. UNKNOWN is neither
 * reached nor left. A stop of a SCHEDULED job with nothing in flight goes
 * through STOP_REQUESTED and STOPPING to STOPPED at once, so every step is
 * still one of these.
 */
export const JOB_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  SCHEDULED: [],
  RUNNING: ["SCHEDULED"],
  STOP_REQUESTED: ["SCHEDULED", "RUNNING"],
  STOPPING: ["STOP_REQUESTED"],
  STOPPED: ["STOPPING"],
  COMPLETED: ["RUNNING"],
  FAILED: ["SCHEDULED", "RUNNING"],
  UNKNOWN: [],
};

export const INITIAL_STATUS: JobStatus = "SCHEDULED";

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return JOB_TRANSITIONS[to].includes(from);
}

/**
 * Reads a stored status. Like the original, decoding ignores case and any
 * string it does not know becomes UNKNOWN.
 */
export function parseJobStatus(text: string): JobStatus {
  const upper = text.toUpperCase();
  return JOB_STATUSES.find((s) => s === upper) ?? "UNKNOWN";
}

/**
 * What `PUT /jobs/{id}/stop` does for a job in a given status: request the
 * stop, succeed without change because the stop is already under way or the
 * job already ended, or report a state it cannot handle (UNKNOWN).
 */
export type StopOutcome = "request" | "alreadyStopping" | "alreadyTerminal" | "conflict";

export function stopOutcome(status: JobStatus): StopOutcome {
  if (canTransition(status, "STOP_REQUESTED")) return "request";
  if (status === "STOP_REQUESTED" || status === "STOPPING") return "alreadyStopping";
  if (isTerminal(status)) return "alreadyTerminal";
  return "conflict";
}

/** The `status` filters of `DELETE /jobs` and the statuses each deletes. There is no `failed` alias. */
export const DELETE_STATUS_FILTERS = {
  terminal: TERMINAL_STATUSES,
  completed: ["COMPLETED"],
  stopped: ["STOPPED"],
  error: ["FAILED"],
} as const satisfies Record<string, readonly JobStatus[]>;

export type DeleteStatusFilter = keyof typeof DELETE_STATUS_FILTERS;

/** The statuses a `DELETE /jobs?status=` filter deletes (case-insensitive), or null for a missing or unknown filter. */
export function statusesForDeleteFilter(filter: string | null | undefined): readonly JobStatus[] | null {
  if (filter === null || filter === undefined) return null;
  const key = filter.toLowerCase();
  return Object.hasOwn(DELETE_STATUS_FILTERS, key) ? DELETE_STATUS_FILTERS[key as DeleteStatusFilter] : null;
}

/** The job descriptor stored with each job (reference §4.1): an externally tagged enum with one variant. */
export interface DumpJobDescriptor {
  readonly Dump: {
    /** null (continuous) or a string: "latest", "N" or "-N". */
    readonly end_block: string | null;
    readonly max_writers: number;
    readonly dataset_namespace: string;
    readonly dataset_name: string;
    readonly manifest_hash: string;
    /** Whether each step checks the fetched blocks before writing (deploy's `verify`). */
    readonly verify: boolean;
    /** The worker deploy chose for a `worker_id` selector; absent without one. */
    readonly worker_id?: string;
    /** A job a rebuild deployed: the block ranges it extracts again, and nothing else; absent otherwise. */
    readonly rebuild?: readonly BlockRange[];
  };
}

export interface DumpJob {
  readonly endBlock: EndBlock;
  /** Steps in flight at once (the deploy's `parallelism`). */
  readonly maxWriters: number;
  readonly datasetNamespace: string;
  readonly datasetName: string;
  readonly manifestHash: string;
  readonly verify: boolean;
  readonly workerId?: string;
  /** The ranges a rebuild job extracts again (its only work); absent for other jobs. */
  readonly rebuild?: readonly BlockRange[];
}

export function dumpDescriptor(job: DumpJob): DumpJobDescriptor {
  return {
    Dump: {
      end_block: formatEndBlock(job.endBlock),
      max_writers: job.maxWriters,
      dataset_namespace: job.datasetNamespace,
      dataset_name: job.datasetName,
      manifest_hash: job.manifestHash,
      verify: job.verify,
      ...(job.workerId === undefined ? {} : { worker_id: job.workerId }),
      ...(job.rebuild === undefined ? {} : { rebuild: job.rebuild.map(({ start, end }) => ({ start, end })) }),
    },
  };
}

export type DescriptorParse = { readonly ok: true; readonly job: DumpJob } | { readonly ok: false; readonly reason: string };

/**
 * Reads a stored descriptor back. `max_writers` defaults to 1 when absent, as
 * in the original; `end_block` must be in its stored form (null or a string).
 */
export function parseDumpDescriptor(value: unknown): DescriptorParse {
  const fail = (reason: string): DescriptorParse => ({ ok: false, reason: `job descriptor: ${reason}` });
  if (!isRecord(value) || !isRecord(value.Dump)) return fail('expected {"Dump": {...}}');
  const dump = value.Dump;
  const endBlockValue = dump.end_block ?? null;
  if (endBlockValue !== null && typeof endBlockValue !== "string") return fail("end_block must be null or a string");
  const endBlock = parseEndBlock(endBlockValue);
  if (!endBlock.ok) return fail(endBlock.reason);
  const maxWriters = dump.max_writers ?? 1;
  if (typeof maxWriters !== "number" || !Number.isSafeInteger(maxWriters) || maxWriters < 1) {
    return fail("max_writers must be a positive integer");
  }
  const text = (key: string): string | null => {
    const field = dump[key];
    return typeof field === "string" ? field : null;
  };
  const datasetNamespace = text("dataset_namespace");
  const datasetName = text("dataset_name");
  const manifestHash = text("manifest_hash");
  if (datasetNamespace === null || datasetName === null || manifestHash === null) {
    return fail("dataset_namespace, dataset_name and manifest_hash must be strings");
  }
  // Descriptors written before `verify` existed have none: they did not verify.
  const verify = dump.verify ?? false;
  if (typeof verify !== "boolean") return fail("verify must be a boolean");
  const workerId = text("worker_id");
  const rebuild = dump.rebuild === undefined ? undefined : parseRanges(dump.rebuild);
  if (rebuild === null) return fail("rebuild must be a list of {start, end} block ranges");
  const job: DumpJob = {
    endBlock: endBlock.endBlock,
    maxWriters,
    datasetNamespace,
    datasetName,
    manifestHash,
    verify,
    ...(workerId === null ? {} : { workerId }),
    ...(rebuild === undefined ? {} : { rebuild }),
  };
  return { ok: true, job };
}

function parseRanges(value: unknown): BlockRange[] | null {
  if (!Array.isArray(value)) return null;
  const ranges: BlockRange[] = [];
  for (const item of value) {
    if (!isRecord(item) || !isBlockNumber(item.start) || !isBlockNumber(item.end) || item.start > item.end) return null;
    ranges.push({ start: item.start, end: item.end });
  }
  return [...normalize(ranges)];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
