/**
 * Errors split by what a caller should do about them: try again later
 * (`RetryableError`) or give up (`FatalError`). Provider clients throw them;
 * the job runner decides from `retryable` whether a failed step is re-queued
 * with backoff or fails the job, and records `reason` in the job's events.
 */

/** Why an operation failed. Stable strings: they end up in job events. */
export type ErrorReason =
  // retryable
  | "network"
  | "timeout"
  | "rate_limited"
  | "server_error"
  | "invalid_response"
  | "rpc_error"
  | "block_not_available"
  | "block_invalid"
  | "chain_moved"
  | "batch_refused"
  /** A derived step's dependency has not reached the blocks it needs (yet). */
  | "dependency_not_synced"
  | "unexpected"
  // fatal
  | "invalid_provider"
  | "method_not_supported"
  | "rpc_rejected"
  | "http_rejected"
  | "block_invalid_twice"
  | "subrequest_budget"
  /** Deploy's `verify`: a block was not what its hash says, fetched twice (or its kind cannot be verified). */
  | "verification_failed"
  /** A derived table's SQL failed on its data (a function's error, a type the files cannot hold). */
  | "query_failed";

/** Reasons that are the provider's doing, as opposed to an unforeseen failure of our own. */
export function isProviderError(reason: string): boolean {
  return reason !== "unexpected";
}

export abstract class ClassifiedError extends Error {
  abstract readonly retryable: boolean;

  constructor(
    readonly reason: ErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Transient: the same operation may succeed later. */
export class RetryableError extends ClassifiedError {
  readonly retryable = true;
  /** The earliest time a retry makes sense, when the server said so (Retry-After). */
  readonly retryAfterMs: number | undefined;

  constructor(reason: ErrorReason, message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(reason, message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** Permanent: repeating the operation cannot succeed. */
export class FatalError extends ClassifiedError {
  readonly retryable = false;
}

/**
 * Any thrown value as a classified error. Unknown errors count as retryable:
 * a bug or an unforeseen failure gets the bounded retries of its caller
 * rather than failing a job on the first occurrence.
 */
export function classifyError(error: unknown): ClassifiedError {
  if (error instanceof ClassifiedError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RetryableError("unexpected", message, { cause: error });
}

export interface RetryOptions {
  /** Attempts in total, the first one included. */
  maxAttempts: number;
  /** Upper bound of the first retry's delay; doubles with every attempt. */
  baseDelayMs: number;
  /** Cap of any single delay. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_OPTIONS: RetryOptions = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 10_000 };

/**
 * Complete retry options from a partial set, validated once here so that
 * retry loops never meet a negative delay or zero attempts. Throws a
 * RangeError naming the first bad field.
 */
export function retryOptions(partial: Partial<RetryOptions> = {}): RetryOptions {
  const options = { ...DEFAULT_RETRY_OPTIONS, ...stripUndefined(partial) };
  if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) {
    throw new RangeError(`maxAttempts must be an integer >= 1, got ${options.maxAttempts}`);
  }
  if (!Number.isFinite(options.baseDelayMs) || options.baseDelayMs < 0) {
    throw new RangeError(`baseDelayMs must be a finite number >= 0, got ${options.baseDelayMs}`);
  }
  if (!Number.isFinite(options.maxDelayMs) || options.maxDelayMs < options.baseDelayMs) {
    throw new RangeError(`maxDelayMs must be finite and >= baseDelayMs (${options.baseDelayMs}), got ${options.maxDelayMs}`);
  }
  return options;
}

function stripUndefined(partial: Partial<RetryOptions>): Partial<RetryOptions> {
  return Object.fromEntries(Object.entries(partial).filter(([, value]) => value !== undefined));
}

/**
 * Full-jitter exponential backoff: a uniformly random delay in
 * [0, min(maxMs, baseMs * 2^(attempt-1))), where `attempt` (1-based) is the
 * attempt that just failed. Randomising the whole interval spreads clients
 * that failed together, so they do not retry in lockstep.
 */
export function backoffDelay(
  attempt: number,
  { baseMs, maxMs }: { baseMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be an integer >= 1, got ${attempt}`);
  // The exponent is capped so that 0 * 2^n never becomes 0 * Infinity = NaN.
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 52));
  return Math.floor(random() * ceiling);
}

/**
 * The wait an HTTP Retry-After header asks for, in ms: either delta-seconds
 * ("120") or an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT"), relative to
 * `nowMs`. Undefined when absent or unreadable; a date in the past is 0.
 */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // HTTP dates name the month ("Wed, 21 Oct 2015 ..."); Date.parse alone would take "-5" or "1.5".
  if (!/[a-z]{3}/i.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
