/** How long a JobRunner waits on consumers and the chain head, and how it spaces retries. */
import { backoffDelay, retryOptions } from "../src/domain/errors";
import { DEFAULT_MAX_ATTEMPTS } from "../src/domain/job-settings";
import { WORKER_HEARTBEAT_MS } from "../src/domain/worker";

/**
 * A step handed to the queue must be claimed within this time, or it is
 * handed out again under a new lease. The queue delivers one message at a
 * time with a batch timeout of 1 s (wrangler.toml), so a healthy queue
 * delivers within seconds; a message still queued after a minute was lost
 * (a `wrangler dev` restart drops the local queue) or sits in a backlog. In
 * a backlog, handing out again costs one more message per waiting step and
 * minute, whose claim is refused at once (its lease is not current): cheap,
 * while a longer lease is the time a job stalls after a lost message.
 */
export const QUEUE_LEASE_MS = 60_000;
/**
 * A claimed step is handed out again when its consumer has not renewed its
 * claim within this time. The consumer renews with its worker heartbeat
 * (every WORKER_HEARTBEAT_MS while it works), so a live consumer may miss
 * three renewals in a row (a slow call to this runner) before losing the
 * step, and a dead one's step is handed out again within 45 s, plus the
 * alarm's own delay, of its last renewal.
 */
export const RUN_LEASE_MS = 4 * WORKER_HEARTBEAT_MS + WORKER_HEARTBEAT_MS / 2;
/** A probe not answered within this time is sent again. */
export const PROBE_LEASE_MS = 60_000;
/** Backoff of a failing step or probe, validated here, when work is scheduled, not when it runs; the job sets the attempts. */
const STEP_RETRY = retryOptions({ maxAttempts: DEFAULT_MAX_ATTEMPTS, baseDelayMs: 1_000, maxDelayMs: 60_000 });

/**
 * The wait before the next try after `attempt` failed: the base delay plus a
 * full-jitter share of the exponential ceiling, so a retry is never immediate.
 */
export function retryDelay(attempt: number): number {
  return STEP_RETRY.baseDelayMs + backoffDelay(attempt, { baseMs: STEP_RETRY.baseDelayMs, maxMs: STEP_RETRY.maxDelayMs });
}
