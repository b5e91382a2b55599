/**
 * How an evm-rpc client finds its batch size and requests in flight by
 * itself when the provider sets neither `rpc_batch_size` nor
 * `concurrent_request_limit`: pure decisions over what the answers showed.
 *
 * Throughput is what the provider delivers: calls answered per second of
 * *busy* time, the time at least one request was on the wire (the union of
 * the requests' [sent, answered] intervals). Wall time would also count the
 * gaps when the client had nothing in flight (building rows, encoding
 * Parquet, waiting for the next chunk), which do not change with the tuning:
 * measured over wall time, every growth looked as if it brought nothing.
 *
 * Growth is probing, one dimension after the other, against the best window
 * so far. The batch size doubles while a bigger batch is not clearly slower
 * (by more than BATCH_SLOWER): a bigger batch at the same throughput is
 * still fewer HTTP requests, fewer subrequests of the invocation and less
 * work per call for the node, and one window is a noisy measure. Once a bigger batch is slower it is stepped back and
 * requests in flight are added, one at a time, while each brings at least
 * GAIN more; the first one that does not is stepped back and the controller
 * holds.
 * Trouble shrinks at once, whatever the window: a 429 halves the requests in
 * flight (and the batch, as many providers count each call of a batch
 * against the rate), a 5xx, a timeout or an answer slower than SLOW_MS
 * halves the batch, and a node that refuses batches (answers one with a
 * single error, HTTP 413, or says the batch is too large) gets smaller
 * batches down to single calls. What was learned is plain JSON, carried to
 * the job's next steps, which start from it instead of from scratch (and go
 * on probing where a step ended before it had settled).
 */

/** What a provider was found to take; carried across a job's steps. */
export interface RpcTuning {
  /** Calls per HTTP request; 1 sends single calls. */
  readonly batchSize: number;
  /** HTTP requests in flight at once. */
  readonly inFlight: number;
  /** Largest batch the node accepted without refusing it; null until one was refused. */
  readonly batchCap: number | null;
  /**
   * True when the step that learned it ended while still probing (a step of a
   * sparse chain can end before the larger tunings were measured): the next
   * step goes on growing from here. Absent or false: settled, hold.
   */
  readonly probing?: boolean;
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
  /** From the request going out (after waiting for its permit) to its answer read. */
  readonly latencyMs: number;
  /** When the answer arrived (ms, any monotonic clock). */
  readonly at: number;
  /** The controller's generation when the request took its calls (see RpcController.generation). */
  readonly generation: number;
}

/** A measuring window: the answers so far and the intervals their requests were on the wire. */
export interface TuningWindow {
  readonly calls: number;
  readonly answers: number;
  /** [sent, answered] of each answer, ms. */
  readonly intervals: readonly (readonly [number, number])[];
}

/** The controller's state inside one client: the tuning in use and the window being measured. */
export interface RpcController {
  readonly tuning: RpcTuning;
  readonly limits: RpcTuningLimits;
  /** Best throughput of a complete window at a tuning that was kept, calls per busy second; null before the first. */
  readonly bestRate: number | null;
  /** The growth that led to the current window, to undo when it did not pay. */
  readonly lastGrowth: "batch" | "inFlight" | null;
  /** The tuning before that growth: what undoing it goes back to. */
  readonly previous: RpcTuning | null;
  /** True once a bigger batch was slower (or the batch is as large as it may be): grow requests in flight only. */
  readonly batchHeld: boolean;
  /** True once growing stopped paying: hold until trouble or a new client. */
  readonly settled: boolean;
  readonly window: TuningWindow;
  /**
   * Counts the changes of the tuning. A window measures only requests that
   * took their calls under the current tuning: the answers of requests made
   * before a growth would credit the growth with the old tuning's throughput,
   * and a burst of 429s to requests sent before a shrink would shrink again
   * for trouble already answered.
   */
  readonly generation: number;
}

/** Where a provider nobody has measured starts: small, as most public endpoints take that much. */
export const START_TUNING: RpcTuning = { batchSize: 10, inFlight: 2, batchCap: null };
/** Defaults for the upper bounds: batches beyond 100 calls bring little and many providers refuse them. */
export const DEFAULT_MAX_BATCH_SIZE = 100;
/** A Worker invocation holds at most 6 simultaneous outgoing connections. */
export const MAX_CONNECTIONS = 6;
/** Another request in flight must bring this factor more than the best window so far. */
export const GAIN = 1.1;
/**
 * A bigger batch is undone when its window is slower than the best so far by
 * more than this factor: only a clear slowdown, since a bigger batch is fewer
 * requests whatever its throughput and a single window is a noisy measure.
 */
export const BATCH_SLOWER = 1.25;
/** An answer slower than this asks for smaller batches. */
export const SLOW_MS = 10_000;
/** Answers per measuring window, at least, and per request in flight. */
export const WINDOW_ANSWERS = 4;

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

const freshWindow: TuningWindow = { calls: 0, answers: 0, intervals: [] };

/** A controller starting from what earlier steps learned (or START_TUNING), within `limits`. */
export function startController(limits: RpcTuningLimits, learned: RpcTuning | null): RpcController {
  return {
    tuning: fit(learned ?? START_TUNING, limits),
    limits,
    bestRate: null,
    lastGrowth: null,
    previous: null,
    batchHeld: false,
    // A provider already measured starts where it settled (trouble still shrinks it); one still being probed goes on growing.
    settled: learned !== null && learned.probing !== true,
    window: freshWindow,
    generation: 0,
  };
}

/**
 * Milliseconds covered by at least one of `intervals` (their union): the
 * time the provider had work from this client.
 */
export function busyMs(intervals: readonly (readonly [number, number])[]): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let from = Number.NEGATIVE_INFINITY;
  let until = Number.NEGATIVE_INFINITY;
  for (const [start, end] of sorted) {
    if (start > until) {
      if (until > from) total += until - from;
      from = start;
      until = end;
    } else if (end > until) {
      until = end;
    }
  }
  if (until > from) total += until - from;
  return total;
}

/**
 * The controller after one answer. Answers to requests made under an earlier
 * tuning change nothing, but for a refused batch: that the node takes fewer
 * calls than it had is true whenever the batch was made.
 */
export function observeAnswer(controller: RpcController, sample: AnswerSample): RpcController {
  if (sample.generation !== controller.generation && sample.outcome !== "batch_refused") return controller;
  const next = decide(controller, sample);
  return sameTuning(next.tuning, controller.tuning) ? next : { ...next, window: freshWindow, generation: controller.generation + 1 };
}

function sameTuning(a: RpcTuning, b: RpcTuning): boolean {
  return a.batchSize === b.batchSize && a.inFlight === b.inFlight && a.batchCap === b.batchCap;
}

function decide(controller: RpcController, sample: AnswerSample): RpcController {
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
      // A refusal of a batch made before the last one was (already smaller than the cap it tells): nothing new.
      if (tuning.batchCap !== null && cap >= tuning.batchCap && tuning.batchSize <= cap) return controller;
      return shrink(controller, { ...tuning, batchSize: Math.min(tuning.batchSize, cap), batchCap: cap });
    }
    case "ok":
      break;
  }
  if (sample.latencyMs > SLOW_MS && tuning.batchSize > 1) return shrink(controller, { ...tuning, batchSize: Math.floor(tuning.batchSize / 2) });
  if (controller.settled) return controller;
  const window: TuningWindow = {
    calls: controller.window.calls + sample.calls,
    answers: controller.window.answers + 1,
    intervals: [...controller.window.intervals, [sample.at - Math.max(0, sample.latencyMs), sample.at]],
  };
  if (window.answers < WINDOW_ANSWERS * tuning.inFlight) return { ...controller, window };
  const rate = window.calls / Math.max(0.001, busyMs(window.intervals) / 1000);
  const next: RpcController = { ...controller, window: freshWindow };
  const best = controller.bestRate;
  if (best === null || controller.lastGrowth === null) return grow({ ...next, bestRate: rate });
  if (controller.lastGrowth === "batch") {
    if (rate * BATCH_SLOWER >= best) return grow({ ...next, bestRate: Math.max(rate, best) });
    // Slower with the bigger batch: back to the batch that made `best`, and try more requests in flight from there.
    return grow({ ...next, tuning: fit(controller.previous ?? tuning, limits), batchHeld: true });
  }
  if (rate >= best * GAIN) return grow({ ...next, bestRate: rate });
  // One more request in flight brought too little: step it back and hold.
  return { ...next, tuning: fit(controller.previous ?? tuning, limits), lastGrowth: null, previous: null, settled: true };
}

/** One step up: the batch first (fewer requests for the same calls), then more requests in flight. */
function grow(controller: RpcController): RpcController {
  const { tuning, limits } = controller;
  const maxBatch = Math.min(limits.maxBatchSize, tuning.batchCap ?? limits.maxBatchSize);
  if (!controller.batchHeld && tuning.batchSize < maxBatch) {
    return { ...controller, tuning: fit({ ...tuning, batchSize: tuning.batchSize * 2 }, limits), lastGrowth: "batch", previous: tuning };
  }
  if (tuning.inFlight < limits.maxInFlight) {
    return { ...controller, tuning: { ...tuning, inFlight: tuning.inFlight + 1 }, lastGrowth: "inFlight", previous: tuning, batchHeld: true };
  }
  return { ...controller, settled: true, lastGrowth: null, previous: null, batchHeld: true };
}

/** Trouble: take the smaller tuning now and measure again from there before growing. */
function shrink(controller: RpcController, smaller: RpcTuning): RpcController {
  return { ...controller, tuning: fit(smaller, controller.limits), bestRate: null, lastGrowth: null, previous: null, batchHeld: false, settled: false, window: freshWindow };
}

/** What a client hands to the job's next steps: its tuning, marked `probing` while it has not settled. */
export function learnedTuning(controller: RpcController): RpcTuning {
  const { batchSize, inFlight, batchCap } = controller.tuning;
  return controller.settled ? { batchSize, inFlight, batchCap } : { batchSize, inFlight, batchCap, probing: true };
}

/** The controller with a higher floor for its batch size (a step's subrequest budget). */
export function withMinBatch(controller: RpcController, minBatchSize: number): RpcController {
  const limits = { ...controller.limits, minBatchSize: Math.max(1, Math.min(minBatchSize, controller.limits.maxBatchSize)) };
  const tuning = fit(controller.tuning, limits);
  if (sameTuning(tuning, controller.tuning)) return { ...controller, limits };
  return { ...controller, limits, tuning, window: freshWindow, generation: controller.generation + 1 };
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
  const { batchSize, inFlight, batchCap, probing } = value as Record<string, unknown>;
  const positive = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 1;
  if (!positive(batchSize) || !positive(inFlight) || !(batchCap === null || positive(batchCap))) return null;
  if (!(probing === undefined || typeof probing === "boolean")) return null;
  return probing === true ? { batchSize, inFlight, batchCap, probing } : { batchSize, inFlight, batchCap };
}
