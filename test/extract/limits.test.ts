/** The concurrency and rate limits on their own, with a fake clock for the rate limiter. */
import { describe, expect, it } from "vitest";
import { RateLimiter, Semaphore } from "../../src/extract/limits";

describe("Semaphore", () => {
  it("runs at most `size` tasks at once, in arrival order", async () => {
    const semaphore = new Semaphore(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const gates = Array.from({ length: 5 }, () => {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      return { promise, resolve };
    });
    const tasks = gates.map((gate, i) =>
      semaphore.run(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await gate.promise;
        running--;
        return i;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    gates[1]!.resolve();
    await tasks[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    for (const gate of gates) gate.resolve();
    expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
  });

  it("releases the permit when a task fails", async () => {
    const semaphore = new Semaphore(1);
    await expect(semaphore.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await semaphore.run(async () => "next")).toBe("next");
  });

  it.each([0, -1, 1.5, Number.NaN])("refuses a size of %s", (size) => {
    expect(() => new Semaphore(size)).toThrow(RangeError);
  });
});

describe("RateLimiter", () => {
  function fakeClock() {
    let now = 1_000_000;
    const waits: number[] = [];
    return {
      now: () => now,
      advance: (ms: number) => (now += ms),
      waits,
      wait: async (ms: number) => {
        waits.push(ms);
      },
    };
  }

  it("lets a burst of the quota through, then paces at 60/n s per request", async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(6, clock.now, clock.wait);
    for (let i = 0; i < 6; i++) await limiter.acquire();
    expect(clock.waits).toEqual([]);
    await limiter.acquire();
    await limiter.acquire();
    // Each reservation waits for its own token: 10 s, then 20 s.
    expect(clock.waits).toEqual([10_000, 20_000]);
  });

  it("refills with time, never above the quota", async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(60, clock.now, clock.wait);
    for (let i = 0; i < 60; i++) await limiter.acquire();
    clock.advance(10_000);
    for (let i = 0; i < 10; i++) await limiter.acquire();
    expect(clock.waits).toEqual([]);
    await limiter.acquire();
    expect(clock.waits).toEqual([1000]);
    clock.advance(3_600_000);
    for (let i = 0; i < 60; i++) await limiter.acquire();
    expect(clock.waits).toHaveLength(1);
    await limiter.acquire();
    expect(clock.waits).toHaveLength(2);
  });

  it.each([0, -5, 2.5])("refuses a quota of %s", (perMinute) => {
    expect(() => new RateLimiter(perMinute)).toThrow(RangeError);
  });
});
