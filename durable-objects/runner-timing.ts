/** How long a JobRunner waits on consumers and the chain head, and how it spaces retries. */
import { backoffDelay, retryOptions } from "../src/domain/errors";
import { DEFAULT_MAX_ATTEMPTS } from "../src/domain/job-settings";

/** A step handed to the queue must be claimed within this time, or it is handed out again. */
export const QUEUE_LEASE_MS = 10 * 60_000;
/** A claimed step must finish within this time (a consumer's wall-time limit is 15 minutes). */
export const RUN_LEASE_MS = 14 * 60_000;
/** A probe not answered within this time is sent again. */
export const PROBE_LEASE_MS = 60_000;
/** How often a job that waits for new blocks reads the chain head. */
export const HEAD_POLL_MS = 10_000;
/** Backoff of a failing step or probe, validated here, when work is scheduled, not when it runs; the job sets the attempts. */
const STEP_RETRY = retryOptions({ maxAttempts: DEFAULT_MAX_ATTEMPTS, baseDelayMs: 1_000, maxDelayMs: 60_000 });

/**
 * The wait before the next try after `attempt` failed: the base delay plus a
 * full-jitter share of the exponential ceiling, so a retry is never immediate.
 */
export function retryDelay(attempt: number): number {
  return STEP_RETRY.baseDelayMs + backoffDelay(attempt, { baseMs: STEP_RETRY.baseDelayMs, maxMs: STEP_RETRY.maxDelayMs });
}
