/**
 * Leases that follow the work: a consumer renews its claim with its heartbeat
 * (every WORKER_HEARTBEAT_MS), so the runner keeps a claimed step as long as
 * the renewals come and hands it out again within a minute once they stop;
 * a step whose message was never claimed goes out again after the queue
 * lease. The clock is frozen: only `advance` moves it, only `fireAlarm` runs
 * the alarm.
 */
import { beforeEach, describe, expect, it, vi } from "vitest";
import { QUEUE_LEASE_MS, RUN_LEASE_MS } from "../../durable-objects/runner-timing";
import { WORKER_HEARTBEAT_MS } from "../../src/domain/worker";
import { advance, alarmAt, claim, deploy, eventKinds, fireAlarm, freezeClock, jobStatus, runnerSteps, runStep, startRunning, writeStepFiles } from "./runner-harness";

beforeEach(() => {
  freezeClock();
  return () => {
    vi.useRealTimers();
  };
});

const block = (n: number) => ({ kind: "absolute", block: n }) as const;

describe("the leases' bounds", () => {
  it("hand out a dead consumer's step within 60 s of its last renewal, allowing a live one to miss three beats", () => {
    expect(RUN_LEASE_MS).toBeLessThanOrEqual(60_000);
    expect(RUN_LEASE_MS).toBeGreaterThan(3 * WORKER_HEARTBEAT_MS);
    expect(QUEUE_LEASE_MS).toBeLessThanOrEqual(60_000);
  });
});

describe("a consumer that renews its claim", () => {
  it("keeps its step for as long as it renews, far past one lease", async () => {
    const { jobId, stub } = await deploy({ endBlock: block(9) });
    await startRunning(stub, jobId, 100);
    const [step] = await runnerSteps(stub);
    const context = await claim(stub, step!);
    // Ten minutes of work, one renewal per heartbeat, and the runner's alarm firing on the way.
    for (let beat = 0; beat < 60; beat++) {
      advance(WORKER_HEARTBEAT_MS);
      expect(await stub.renewStep(step!.id, step!.lease)).toBe(true);
      if (beat % 5 === 0) await fireAlarm(stub);
      expect((await runnerSteps(stub))[0]).toMatchObject({ id: step!.id, lease: step!.lease, state: "claimed", deadline: Date.now() + RUN_LEASE_MS });
    }
    const files = await writeStepFiles(jobId, context);
    expect(await stub.completeStep(step!.id, step!.lease, { files, durationMs: 600_000 })).toBe(true);
    expect(await jobStatus(jobId)).toBe("COMPLETED");
    expect((await eventKinds(jobId)).filter((kind) => kind === "step_started")).toHaveLength(1);
  });

  it("loses it within 60 s of its last renewal when it stops renewing (it died), and the step goes out again", async () => {
    const { jobId, stub } = await deploy({ endBlock: block(9) });
    await startRunning(stub, jobId, 100);
    const [step] = await runnerSteps(stub);
    await claim(stub, step!);
    for (let beat = 0; beat < 6; beat++) {
      advance(WORKER_HEARTBEAT_MS);
      await stub.renewStep(step!.id, step!.lease);
    }
    const lastRenewal = Date.now();
    // The runner wakes at the lease it last knew of (a renewal moves no alarm), finds it renewed, and
    // sleeps until the renewed lease's end, which is within the minute.
    while ((await runnerSteps(stub))[0]!.state === "claimed") {
      const wakeAt = (await alarmAt(stub))!;
      expect(wakeAt - lastRenewal).toBeLessThanOrEqual(60_000);
      advance(Math.max(0, wakeAt - Date.now()));
      await fireAlarm(stub);
    }
    const [again] = await runnerSteps(stub);
    expect(again).toMatchObject({ id: step!.id, range: step!.range, state: "leased", attempt: 2 });
    expect(Date.now() - lastRenewal).toBeLessThanOrEqual(60_000);
    // The dead consumer's lease is gone: a renewal that arrives late is refused.
    expect(await stub.renewStep(step!.id, step!.lease)).toBe(false);
    await runStep(stub, jobId, again!);
    expect(await jobStatus(jobId)).toBe("COMPLETED");
  });

  it("cannot renew a step it has not claimed, one that completed, or a job that ended", async () => {
    const { jobId, stub } = await deploy({ endBlock: block(19), parallelism: 2 });
    await startRunning(stub, jobId, 100);
    const [first, second] = await runnerSteps(stub);
    expect(await stub.renewStep(first!.id, first!.lease)).toBe(false);
    expect(await stub.renewStep(first!.id, "not-the-lease")).toBe(false);
    await runStep(stub, jobId, first!);
    expect(await stub.renewStep(first!.id, first!.lease)).toBe(false);
    await claim(stub, second!);
    expect(await stub.renewStep(second!.id, second!.lease)).toBe(true);
    expect(await stub.requestStop(jobId)).toBe("requested");
    // A stopping job waits for its claimed step, so the step may still renew.
    expect(await stub.renewStep(second!.id, second!.lease)).toBe(true);
    await stub.failStep(second!.id, second!.lease, { reason: "stopped", error: "timeout", retryable: true });
    expect(await jobStatus(jobId)).toBe("STOPPED");
    expect(await stub.renewStep(second!.id, second!.lease)).toBe(false);
  });

  it("keeps a stopping job STOPPING while its consumer renews, and STOPPED once it reports", async () => {
    const { jobId, stub } = await deploy({ endBlock: block(29), parallelism: 1 });
    await startRunning(stub, jobId, 100);
    const [step] = await runnerSteps(stub);
    const context = await claim(stub, step!);
    await stub.requestStop(jobId);
    for (let beat = 0; beat < 12; beat++) {
      advance(WORKER_HEARTBEAT_MS);
      expect(await stub.renewStep(step!.id, step!.lease)).toBe(true);
      await fireAlarm(stub);
      expect(await jobStatus(jobId)).toBe("STOPPING");
    }
    expect(await stub.completeStep(step!.id, step!.lease, { files: await writeStepFiles(jobId, context), durationMs: 1 })).toBe(true);
    expect(await jobStatus(jobId)).toBe("STOPPED");
  });
});

describe("a step whose message is never delivered", () => {
  it("goes out again after the queue lease, a minute, under a new lease", async () => {
    const { jobId, stub } = await deploy({ endBlock: block(9) });
    await startRunning(stub, jobId, 100);
    const [lost] = await runnerSteps(stub);
    expect(await alarmAt(stub)).toBe(Date.now() + QUEUE_LEASE_MS);
    advance(QUEUE_LEASE_MS);
    await fireAlarm(stub);
    const [again] = await runnerSteps(stub);
    expect(again).toMatchObject({ id: lost!.id, state: "leased", attempt: 2 });
    expect(again!.lease).not.toBe(lost!.lease);
    // Should the lost message turn up after all, its claim is refused.
    expect(await stub.claimStep(lost!.id, lost!.lease)).toBeNull();
    await runStep(stub, jobId, again!);
    expect(await jobStatus(jobId)).toBe("COMPLETED");
  });
});
