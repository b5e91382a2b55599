/**
 * How an evm-rpc client finds its batch size and requests in flight by
 * itself when the provider sets neither `rpc_batch_size` nor
 * `concurrent_request_limit`: pure decisions over what the answers showed.
 *
 * Growth is probing: after each window of answers the throughput (calls
 * answered per second of wall time) is compared with the window before; while
 * it rises by at least GAIN the controller grows one dimension (the batch
 * size doubles, else one more request goes in flight), and once a growth
 * brings nothing it steps that growth back and holds. Trouble shrinks at
 * once, whatever the window: a 429 halves the requests in flight (and the
 * batch, as many providers count each call of a batch against the rate), a
 * 5xx, a timeout or an answer slower than SLOW_MS halves the batch, and a
 * node that refuses batches (answers one with a single error, HTTP 413, or
 * says the batch is too large) gets smaller batches down to single calls.
 * What was learned is plain JSON, carried to the job's next steps, which
 * start from it instead of from scratch.
 */

/** What a provider was found to take; carried across a job's steps. */
export interface RpcTuning {
  /** Calls per HTTP request; 1 sends single calls. */
  readonly batchSize: number;
  /** HTTP requests in flight at once. */
  readonly inFlight: number;
  /** Largest batch the node accepted without refusing it; null until one was refused. */
  readonly batchCap: number | null;
}

/** The bounds the controller moves within. */
export interface RpcTuningLimits {
  readonly maxBatchSize: number;
  readonly maxInFlight: number;
  /** The smallest batch that keeps a step within its subrequest budget. */
  readonly minBatchSize: number;
}

export type AnswerOutcome = "ok" | "rate_limited" | "server_error" | "timeout" | "batch_refused";

/** One HTTP request's answer. */
export interface AnswerSample {
  readonly outcome: AnswerOutcome;
  /** Calls the request carried. */
  readonly calls: number;
  readonly latencyMs: number;
  /** When the answer arrived (ms, any monotonic clock). */
  readonly at: number;
}

/** The controller's state inside one client: the tuning in use and the window being measured. */
export interface RpcController {
  readonly tuning: RpcTuning;
  readonly limits: RpcTuningLimits;
  /** Throughput of the last complete window, calls per second; null before the first. */
  readonly lastRate: number | null;
  /** The growth that led to the current window, to undo when it did not pay. */
  readonly lastGrowth: "batch" | "inFlight" | null;
  /** True once growing stopped paying: hold until trouble or a new client. */
  readonly settled: boolean;
  readonly window: { readonly startedAt: number | null; readonly calls: number; readonly answers: number };
}

/** Where a provider nobody has measured starts: small, as most public endpoints take that much. */
export const START_TUNING: RpcTuning = { batchSize: 10, inFlight: 2, batchCap: null };
/** Defaults for the upper bounds: batches beyond 100 calls bring little and many providers refuse them. */
export const DEFAULT_MAX_BATCH_SIZE = 100;
/** A Worker invocation holds at most 6 simultaneous outgoing connections. */
export const MAX_CONNECTIONS = 6;
/** A window's throughput must beat the one before by this factor to count as a gain. */
export const GAIN = 1.1;
/** An answer slower than this asks for smaller batches. */
export const SLOW_MS = 10_000;
/** Answers per measuring window, at least, and per request in flight. */
const WINDOW_ANSWERS = 4;

function clamp(value: number, low: number, high: number): number {
  return Math.max(low, Math.min(high, value));
}

function fit(tuning: RpcTuning, limits: RpcTuningLimits): RpcTuning {
  const cap = tuning.batchCap ?? limits.maxBatchSize;
  const maxBatch = Math.max(1, Math.min(limits.maxBatchSize, cap));
  return {
    batchSize: clamp(Math.max(tuning.batchSize, limits.minBatchSize), 1, maxBatch),
    inFlight: clamp(tuning.inFlight, 1, limits.maxInFlight),
    batchCap: tuning.batchCap,
  };
}

/** A controller starting from what earlier steps learned (or START_TUNING), within `limits`. */
export function startController(limits: RpcTuningLimits, learned: RpcTuning | null): RpcController {
  return {
    tuning: fit(learned ?? START_TUNING, limits),
    limits,
    lastRate: null,
    lastGrowth: null,
    // A provider already measured starts where it settled; trouble still shrinks it.
    settled: learned !== null,
    window: { startedAt: null, calls: 0, answers: 0 },
  };
}

const freshWindow = { startedAt: null, calls: 0, answers: 0 } as const;

/** The controller after one answer. */
export function observeAnswer(controller: RpcController, sample: AnswerSample): RpcController {
  const { tuning, limits } = controller;
  switch (sample.outcome) {
    case "rate_limited":
      return shrink(controller, { ...tuning, inFlight: Math.floor(tuning.inFlight / 2), batchSize: Math.floor(tuning.batchSize / 2) });
    case "server_error":
    case "timeout":
      return shrink(controller, { ...tuning, batchSize: Math.floor(tuning.batchSize / 2) });
    case "batch_refused": {
      // The refused batch had `calls` calls: the node takes fewer than that.
      const cap = Math.max(1, Math.min(tuning.batchCap ?? Number.MAX_SAFE_INTEGER, Math.floor(sample.calls / 2)));
      return shrink(controller, { ...tuning, batchSize: cap, batchCap: cap });
    }
    case "ok":
      break;
  }
  if (sample.latencyMs > SLOW_MS && tuning.batchSize > 1) return shrink(controller, { ...tuning, batchSize: Math.floor(tuning.batchSize / 2) });
  const window = {
    startedAt: controller.window.startedAt ?? sample.at - sample.latencyMs,
    calls: controller.window.calls + sample.calls,
    answers: controller.window.answers + 1,
  };
  if (controller.settled || window.answers < WINDOW_ANSWERS * tuning.inFlight) return { ...controller, window };
  const seconds = Math.max(0.001, (sample.at - window.startedAt) / 1000);
  const rate = window.calls / seconds;
  const next = { ...controller, window: freshWindow };
  if (controller.lastRate !== null && rate < controller.lastRate * GAIN) {
    // The last growth did not pay: undo it and hold.
    const back = controller.lastGrowth === "batch" ? { ...tuning, batchSize: Math.ceil(tuning.batchSize / 2) } : controller.lastGrowth === "inFlight" ? { ...tuning, inFlight: tuning.inFlight - 1 } : tuning;
    return { ...next, tuning: fit(back, limits), settled: true, lastRate: Math.max(rate, controller.lastRate) };
  }
  return grow({ ...next, lastRate: rate });
}

/** One step up: the batch first (fewer requests for the same calls), then more requests in flight. */
function grow(controller: RpcController): RpcController {
  const { tuning, limits } = controller;
  const maxBatch = Math.min(limits.maxBatchSize, tuning.batchCap ?? limits.maxBatchSize);
  if (tuning.batchSize < maxBatch) {
    return { ...controller, tuning: fit({ ...tuning, batchSize: tuning.batchSize * 2 }, limits), lastGrowth: "batch" };
  }
  if (tuning.inFlight < limits.maxInFlight) {
    return { ...controller, tuning: { ...tuning, inFlight: tuning.inFlight + 1 }, lastGrowth: "inFlight" };
  }
  return { ...controller, settled: true, lastGrowth: null };
}

/** Trouble: take the smaller tuning now and measure again from there before growing. */
function shrink(controller: RpcController, smaller: RpcTuning): RpcController {
  return { ...controller, tuning: fit(smaller, controller.limits), lastRate: null, lastGrowth: null, settled: false, window: freshWindow };
}

/** The controller with a higher floor for its batch size (a step's subrequest budget). */
export function withMinBatch(controller: RpcController, minBatchSize: number): RpcController {
  const limits = { ...controller.limits, minBatchSize: Math.max(1, Math.min(minBatchSize, controller.limits.maxBatchSize)) };
  return { ...controller, limits, tuning: fit(controller.tuning, limits) };
}

/** Subrequests per invocation on the Workers paid plan (the free plan allows 50). */
export const PAID_PLAN_SUBREQUESTS = 10_000;
/** Kept per step for what is not a provider request (R2 puts and parts, D1 queries, the runner's calls): this many, at most a fifth of the share. */
export const SUBREQUESTS_KEPT_PER_STEP = 100;

/**
 * HTTP requests each of `steps` steps running in one invocation may send to
 * its provider: an equal share of the invocation's subrequests (`limit`, the
 * AMP_SUBREQUEST_LIMIT var when it is a positive integer, else the paid
 * plan's), less what the step needs for storage. At least 1.
 */
export function stepRequestBudget(limit: string | undefined, steps: number): number {
  const parsed = limit !== undefined && /^[1-9][0-9]*$/.test(limit.trim()) ? Number(limit.trim()) : PAID_PLAN_SUBREQUESTS;
  const share = Math.floor(parsed / Math.max(1, steps));
  return Math.max(1, share - Math.min(SUBREQUESTS_KEPT_PER_STEP, Math.floor(share / 5)));
}

/**
 * The smallest batch that lets a step of `blocks` blocks stay within
 * `budget` HTTP requests: about two calls per block (the block, its
 * receipts), with a quarter of the budget kept for retries and reorg checks.
 */
export function minBatchForBudget(blocks: number, budget: number): number {
  return Math.max(1, Math.ceil((2 * blocks) / Math.max(1, Math.floor(budget * 0.75))));
}

/** Learned values read back from a job's state: anything that is not a valid RpcTuning is ignored. */
export function parseTuning(value: unknown): RpcTuning | null {
  if (typeof value !== "object" || value === null) return null;
  const { batchSize, inFlight, batchCap } = value as Record<string, unknown>;
  const positive = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 1;
  if (!positive(batchSize) || !positive(inFlight) || !(batchCap === null || positive(batchCap))) return null;
  return { batchSize, inFlight, batchCap };
}
