/**
 * The two limits a provider's settings put on its HTTP requests: how many may
 * be in flight at once, and how many may start per minute. Only timers and
 * promises, so they run in workerd as well as in Node.
 */
import { MAX_CONNECTIONS } from "../domain/rpc-tuning";

export type Sleep = (ms: number) => Promise<void>;

export const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** At most `size` tasks run at once; the others wait in arrival order. */
export class Semaphore {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`semaphore size must be an integer >= 1, got ${size}`);
    this.free = size;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      // Hand the permit straight to the next waiter, so a newcomer cannot overtake it.
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/**
 * At most `limit()` tasks run at once, where the limit may change between
 * calls (the adaptive client's requests in flight); the others wait in
 * arrival order. A lowered limit lets running tasks finish and holds the
 * waiters until fewer run.
 */
export class AdjustableSemaphore {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: () => number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.limit()) this.running++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      this.running--;
      this.release();
    }
  }

  /** Lets waiters in while the limit has room; call after raising it. */
  release(): void {
    while (this.waiting.length > 0 && this.running < this.limit()) {
      this.running++;
      this.waiting.shift()!();
    }
  }
}

/**
 * A Worker invocation may hold at most 6 simultaneous outgoing connections:
 * the steps of one queue batch (which run side by side) share one of these,
 * made for the invocation, so they cannot exceed it together. Not one for the
 * isolate: an invocation that dies while its requests hold permits (killed,
 * cancelled, out of time) never settles their promises, so it would keep its
 * permits for good, and after six such deaths every later request of the
 * surviving isolate would wait forever (the crash campaign met it:
 * test/chaos/crash).
 */
export function invocationConnections(): Semaphore {
  return new Semaphore(MAX_CONNECTIONS);
}

/**
 * A per-minute quota in the manner of governor's `Quota::per_minute(n)`: a
 * bucket of n tokens refilled continuously at n per minute. Each caller
 * reserves its token at once (the balance may go negative) and sleeps until
 * the refill has paid for it, so concurrent callers are served in order and
 * never exceed the quota.
 */
export class RateLimiter {
  private tokens: number;
  private updatedAt: number;
  private readonly tokensPerMs: number;

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
    private readonly wait: Sleep = sleep,
  ) {
    if (!Number.isInteger(perMinute) || perMinute < 1) throw new RangeError(`rate limit must be an integer >= 1 per minute, got ${perMinute}`);
    this.tokens = perMinute;
    this.tokensPerMs = perMinute / 60_000;
    this.updatedAt = now();
  }

  async acquire(): Promise<void> {
    const now = this.now();
    this.tokens = Math.min(this.perMinute, this.tokens + (now - this.updatedAt) * this.tokensPerMs);
    this.updatedAt = now;
    this.tokens -= 1;
    if (this.tokens < 0) await this.wait(Math.ceil(-this.tokens / this.tokensPerMs));
  }
}
