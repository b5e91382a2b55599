import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { renewWhileWorking } from "../../src/extract/claim-renewal";
import { WORKER_HEARTBEAT_MS } from "../../src/domain/worker";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("renewWhileWorking", () => {
  it("renews once per heartbeat until stopped", async () => {
    const renew = vi.fn(async () => true);
    const renewal = renewWhileWorking(renew);
    await vi.advanceTimersByTimeAsync(WORKER_HEARTBEAT_MS - 1);
    expect(renew).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(renew).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(5 * WORKER_HEARTBEAT_MS);
    expect(renew).toHaveBeenCalledTimes(6);
    renewal.stop();
    await vi.advanceTimersByTimeAsync(10 * WORKER_HEARTBEAT_MS);
    expect(renew).toHaveBeenCalledTimes(6);
  });

  it("keeps beating after a failed renewal (the runner was busy)", async () => {
    let calls = 0;
    const renewal = renewWhileWorking(async () => {
      calls++;
      if (calls === 1) throw new Error("runner restarting");
    });
    await vi.advanceTimersByTimeAsync(3 * WORKER_HEARTBEAT_MS);
    expect(calls).toBe(3);
    renewal.stop();
  });

  it("never has two renewals in flight: a slow one makes the next beats skip", async () => {
    let release: () => void = () => undefined;
    const renew = vi.fn(() => new Promise<void>((resolve) => (release = resolve)));
    const renewal = renewWhileWorking(renew);
    await vi.advanceTimersByTimeAsync(4 * WORKER_HEARTBEAT_MS);
    expect(renew).toHaveBeenCalledTimes(1);
    release();
    await vi.advanceTimersByTimeAsync(WORKER_HEARTBEAT_MS);
    expect(renew).toHaveBeenCalledTimes(2);
    renewal.stop();
  });
});
