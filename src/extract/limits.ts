/**
 * The two limits a provider's settings put on its HTTP requests: how many may
 * be in flight at once, and how many may start per minute. Only timers and
 * promises, so they run in workerd as well as in Node.
 */

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
