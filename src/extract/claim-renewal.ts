/**
 * A consumer's heartbeat while it works on a step: every interval (the
 * worker heartbeat), `renew` tells the step's runner that the claim is alive,
 * so the runner can keep its leases short and hand out the step of a consumer
 * that died within a minute. A renewal that fails (the runner is busy or
 * restarting) is simply tried at the next beat; the lease allows for a few.
 */
import { WORKER_HEARTBEAT_MS } from "../domain/worker";

export interface ClaimRenewal {
  stop(): void;
}

export function renewWhileWorking(renew: () => Promise<unknown>, intervalMs: number = WORKER_HEARTBEAT_MS): ClaimRenewal {
  let inFlight = false;
  const timer = setInterval(() => {
    // One renewal at a time: a slow runner must not pile them up.
    if (inFlight) return;
    inFlight = true;
    renew()
      .catch(() => undefined)
      .finally(() => {
        inFlight = false;
      });
  }, intervalMs);
  return { stop: () => clearInterval(timer) };
}
