import { env, runInDurableObject } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { RunnerStep } from "../../durable-objects/runner-storage";
import { PROBE_LEASE_MS, QUEUE_LEASE_MS, RUN_LEASE_MS } from "../../durable-objects/runner-timing";
import { JOB_TRANSITIONS } from "../../src/domain/job";
import { DEFAULT_HEAD_POLL_MS } from "../../src/domain/job-settings";
import { type BlockRange, normalize } from "../../src/domain/block-range";
import { transitionJob } from "../../src/store/jobs";
import { locationObjectPrefix } from "../../src/store/r2-layout";
import { locationProgress } from "../../src/store/schema";
import { deliveredMessages } from "./runner-entry";
import {
  advance,
  alarmAt,
  answerProbe,
  chain,
  claim,
  db,
  deploy,
  eventKinds,
  events,
  fireAlarm,
  freezeClock,
  jobRow,
  jobStatus,
  mainChain,
  type RunnerStub,
  runnerState,
  runnerSteps,
  runStep,
  schedule,
  startRunning,
  TABLES,
  writeFile,
  writeStepFiles,
} from "./runner-harness";

beforeEach(() => {
  freezeClock();
  return () => {
    vi.useRealTimers();
  };
});

const block = (n: number) => ({ kind: "absolute", block: n }) as const;

async function progressOf(locationId: number) {
  const [row] = await db().select().from(locationProgress).where(eq(locationProgress.locationId, locationId));
  return row;
}

/** The runner's status and the D1 row that mirrors it. */
async function expectStatus(stub: RunnerStub, jobId: number, status: string): Promise<void> {
  expect(await jobStatus(jobId)).toBe(status);
  expect((await runnerState(stub)).status).toBe(status);
}

/** Steps handed out and not claimed yet. */
async function unclaimed(stub: RunnerStub): Promise<RunnerStep[]> {
  return (await runnerSteps(stub)).filter((step) => step.state === "leased");
}

describe("a finite job", () => {
  it.each([1, 3])("runs SCHEDULED → RUNNING → COMPLETED with parallelism %i, handing out every block once", async (parallelism) => {
    const { jobId, stub, locations } = await deploy({ endBlock: block(44), parallelism });
    await expectStatus(stub, jobId, "SCHEDULED");
    expect(await eventKinds(jobId)).toEqual(["scheduled"]);

    await fireAlarm(stub);
    await expectStatus(stub, jobId, "RUNNING");
    // Nothing can be handed out before the first head is known.
    expect(await runnerSteps(stub)).toEqual([]);
    await answerProbe(stub, 100);

    const handedOut = new Map<number, RunnerStep>();
    while ((await jobStatus(jobId)) === "RUNNING") {
      await expectStatus(stub, jobId, "RUNNING");
      const steps = await runnerSteps(stub);
      expect(steps.length).toBeGreaterThan(0);
      expect(steps.length).toBeLessThanOrEqual(parallelism);
      for (const step of steps) if (!handedOut.has(step.id)) handedOut.set(step.id, step);
      // The highest range first: completions need not come in order.
      await runStep(stub, jobId, steps[steps.length - 1]!);
    }

    await expectStatus(stub, jobId, "COMPLETED");
    const ranges = [...handedOut.values()].map((step) => step.range);
    expect(ranges.reduce((sum, range) => sum + range.end - range.start + 1, 0)).toBe(45);
    expect(normalize(ranges)).toEqual([{ start: 0, end: 44 }]);
    expect(ranges.sort((a, b) => a.start - b.start)).toEqual([
      { start: 0, end: 9 },
      { start: 10, end: 19 },
      { start: 20, end: 29 },
      { start: 30, end: 39 },
      { start: 40, end: 44 },
    ]);
    expect(await eventKinds(jobId)).toEqual(["scheduled", "running", ...Array(5).fill(["step_started", "step_completed"]).flat(), "completed"]);
    const completed = (await events(jobId)).filter((event) => event.kind === "step_completed");
    expect(completed.map((event) => event.detail.files)).toEqual([3, 3, 3, 3, 3]);
    expect(completed.map((event) => event.detail.rows).sort()).toEqual([15, 30, 30, 30, 30]);

    for (const location of locations) {
      const progress = await progressOf(location.locationId);
      expect(progress).toMatchObject({ startBlock: 0, currentBlock: 44, filesCount: 5 });
      expect(progress!.totalSizeBytes).toBeGreaterThan(0);
    }
    expect(await runnerSteps(stub)).toEqual([]);
    expect(await alarmAt(stub)).toBeNull();
    expect((await jobRow(jobId)).failureReason).toBeNull();

    // The messages really went through the STEPS queue, with the leases the runner stored.
    await vi.waitFor(
      () => {
        const mine = deliveredMessages.filter((message) => message.jobId === jobId && message.kind === "extract");
        for (const step of handedOut.values()) expect(mine).toContainEqual({ kind: "extract", jobId, stepId: step.id, lease: step.lease });
      },
      { timeout: 10_000, interval: 50 },
    );
  });

  it("carries what a step's source learned to the job's next steps, and records its requests and held bytes", async () => {
    const { jobId, stub } = await deploy({ endBlock: block(19) });
    await startRunning(stub, jobId, 100);
    const [first] = await runnerSteps(stub);
    const firstContext = await claim(stub, first!);
    expect(firstContext.sourceHints).toBeNull();
    const hints = { tuning: { batchSize: 40, inFlight: 3, batchCap: null } };
    const result = { files: await writeStepFiles(jobId, firstContext), durationMs: 1, sourceHints: hints, requests: 12, heldBytes: 3 * 2 ** 20 };
    expect(await stub.completeStep(first!.id, first!.lease, result)).toBe(true);
    const [second] = await runnerSteps(stub);
    expect((await claim(stub, second!)).sourceHints).toEqual(hints);
    const [completed] = (await events(jobId)).filter((event) => event.kind === "step_completed");
    expect(completed!.detail).toMatchObject({ requests: 12, held_mb: 3 });
  });

  it("gives each table of a step only the blocks it lacks", async () => {
    const { jobId, stub, locations } = await schedule({ endBlock: block(19) });
    const blocks = locations.find((location) => location.table === "blocks")!;
    await writeFile(jobId, blocks, { start: 0, end: 9 });
    await stub.start(jobId, 10);
    await startRunning(stub, jobId, 100);
    const [step] = await runnerSteps(stub);
    const context = await claim(stub, step!);
    expect(context.range).toEqual({ start: 0, end: 9 });
    expect(context.tables.map((table) => [table.table, table.ranges])).toEqual([
      ["blocks", []],
      ["logs", [{ start: 0, end: 9 }]],
      ["transactions", [{ start: 0, end: 9 }]],
    ]);
  });

  it("completes without handing anything out when the files are all there", async () => {
    const { jobId, stub, locations } = await schedule({ endBlock: block(9) });
    for (const location of locations) await writeFile(jobId, location, { start: 0, end: 9 });
    await stub.start(jobId, 10);
    await fireAlarm(stub);
    expect(await jobStatus(jobId)).toBe("COMPLETED");
    expect(await eventKinds(jobId)).toEqual(["scheduled", "running", "completed"]);
    expect(await progressOf(locations[0]!.locationId)).toMatchObject({ startBlock: 0, currentBlock: 9, filesCount: 1 });
  });

  it("waits for the head to reach the end block, asking again every poll interval", async () => {
    const { jobId, stub } = await deploy({ endBlock: block(29), parallelism: 5 });
    await startRunning(stub, jobId, 12);
    expect((await runnerSteps(stub)).map((step) => step.range)).toEqual([
      { start: 0, end: 9 },
      { start: 10, end: 12 },
    ]);
    for (const step of await runnerSteps(stub)) await runStep(stub, jobId, step);
    expect((await runnerState(stub)).probe).toBeNull();
    expect(await alarmAt(stub)).toBe(Date.now() + DEFAULT_HEAD_POLL_MS);
    advance(DEFAULT_HEAD_POLL_MS);
    await fireAlarm(stub);
    await answerProbe(stub, 40);
    expect((await runnerSteps(stub)).map((step) => step.range)).toEqual([
      { start: 13, end: 19 },
      { start: 20, end: 29 },
    ]);
    for (const step of await runnerSteps(stub)) await runStep(stub, jobId, step);
    expect(await jobStatus(jobId)).toBe("COMPLETED");
  });

  it("polls the head at the interval the job was started with (AMP_HEAD_POLL_MS at deploy)", async () => {
    const { jobId, stub } = await schedule({ endBlock: block(29) });
    await stub.start(jobId, 10, 10, 2_500);
    await startRunning(stub, jobId, 9);
    const [step] = await runnerSteps(stub);
    await runStep(stub, jobId, step!);
    expect(await alarmAt(stub)).toBe(Date.now() + 2_500);
    advance(2_500);
    await fireAlarm(stub);
    expect((await runnerState(stub)).probe).not.toBeNull();
  });
});

describe("end block resolution", () => {
  it('resolves "latest" from the first probe', async () => {
    const { jobId, stub } = await deploy({ endBlock: { kind: "latest" }, parallelism: 5 });
    await fireAlarm(stub);
    expect((await runnerState(stub)).end).toBeUndefined();
    await answerProbe(stub, 24);
    expect((await runnerState(stub)).end).toBe(24);
    expect((await runnerSteps(stub)).map((step) => step.range)).toEqual([
      { start: 0, end: 9 },
      { start: 10, end: 19 },
      { start: 20, end: 24 },
    ]);
    for (const step of await runnerSteps(stub)) await runStep(stub, jobId, step);
    expect(await jobStatus(jobId)).toBe("COMPLETED");
  });

  it("tells its target: start, the end once resolved, and the last head read", async () => {
    const { stub } = await deploy({ endBlock: { kind: "latest" } });
    await fireAlarm(stub);
    expect(await stub.target()).toEqual({ startBlock: 0, continuous: false, endBlock: null, head: null, headAt: null });
    await answerProbe(stub, 24);
    expect(await stub.target()).toEqual({ startBlock: 0, continuous: false, endBlock: 24, head: 24, headAt: Date.now() });
  });

  it("tells a continuous job's target: no end, and the last head read", async () => {
    const { stub } = await deploy({ endBlock: { kind: "continuous" }, startBlock: 3 });
    await fireAlarm(stub);
    await answerProbe(stub, 7);
    expect(await stub.target()).toMatchObject({ startBlock: 3, continuous: true, endBlock: null, head: 7 });
  });

  it('resolves "-N" as N blocks below the first head', async () => {
    const { jobId, stub } = await deploy({ endBlock: { kind: "latestMinus", offset: 5 }, parallelism: 5 });
    await startRunning(stub, jobId, 30);
    expect((await runnerState(stub)).end).toBe(25);
    for (const step of await runnerSteps(stub)) await runStep(stub, jobId, step);
    expect(await jobStatus(jobId)).toBe("COMPLETED");
    const ranges = (await events(jobId)).filter((event) => event.kind === "step_completed").map((event) => event.detail.range as BlockRange);
    expect(normalize(ranges)).toEqual([{ start: 0, end: 25 }]);
  });

  it("waits for a chain that has no blocks yet, polling at the head interval", async () => {
    const { jobId, stub } = await deploy({ endBlock: { kind: "latest" } });
    await fireAlarm(stub);
    await answerProbe(stub, null);
    expect((await runnerState(stub)).probe).toBeNull();
    expect(await alarmAt(stub)).toBe(Date.now() + DEFAULT_HEAD_POLL_MS);
    advance(DEFAULT_HEAD_POLL_MS);
    await fireAlarm(stub);
    await answerProbe(stub, 3);
    expect((await runnerState(stub)).end).toBe(3);
    expect(await jobStatus(jobId)).toBe("RUNNING");
  });

  it("fails a job whose end block is below its start block, with the reason", async () => {
    const { jobId, stub } = await deploy({ endBlock: block(40), startBlock: 50 });
    await fireAlarm(stub);
    expect(await jobStatus(jobId)).toBe("FAILED");
    const row = await jobRow(jobId);
    expect(row.failureReason).toBe("end block 40 is below the start block 50");
    expect(await eventKinds(jobId)).toEqual(["scheduled", "failed"]);
    expect((await events(jobId)).at(-1)!.detail).toEqual({ reason: row.failureReason });
    expect(await alarmAt(stub)).toBeNull();
  });

  it('fails a job whose "-N" reaches below block 0', async () => {
    const { jobId, stub } = await deploy({ endBlock: { kind: "latestMinus", offset: 50 } });
    await startRunning(stub, jobId, 30);
    expect(await jobStatus(jobId)).toBe("FAILED");
    expect((await jobRow(jobId)).failureReason).toBe('end block "-50" is below block 0: the chain head is 30');
  });

  it('fails a job whose "latest" resolves below its start block', async () => {
    const { jobId, stub } = await deploy({ endBlock: { kind: "latest" }, startBlock: 50 });
    await fireAlarm(stub);
    await answerProbe(stub, 30);
    expect(await jobStatus(jobId)).toBe("FAILED");
    expect((await jobRow(jobId)).failureReason).toBe('end block "latest" (30) is below the start block 50');
    expect(await eventKinds(jobId)).toEqual(["scheduled", "running", "failed"]);
    expect(await runnerSteps(stub)).toEqual([]);
    expect(await alarmAt(stub)).toBeNull();
  });
});

describe("a job that cannot run", () => {
  it("fails at once when no provider serves its network, with the reason recorded", async () => {
    const { jobId, stub } = await deploy({ endBlock: block(9), provider: false });
    await fireAlarm(stub);
    expect(await jobStatus(jobId)).toBe("FAILED");
    expect((await jobRow(jobId)).failureReason).toBe("no evm-rpc provider is registered for network anvil");
    expect((await events(jobId)).map((event) => [event.kind, event.detail])).toEqual([
      ["scheduled", expect.anything()],
      ["failed", { reason: "no evm-rpc provider is registered for network anvil" }],
    ]);
    // Nothing left to wake up for: it cannot hang.
    expect(await alarmAt(stub)).toBeNull();
    expect(await fireAlarm(stub)).toBe(false);
  });
});

describe("step failures", () => {
  it("retries a retryable failure after a backoff, when the alarm fires", async () => {
    const { jobId, stub } = await deploy({ endBlock: block(19) });
    await startRunning(stub, jobId, 100);
    const [first] = await runnerSteps(stub);
    await claim(stub, first!);
    expect(await stub.failStep(first!.id, first!.lease, { reason: "rate limited", error: "rate_limited", retryable: true })).toBe(true);

    const [waiting] = await runnerSteps(stub);
    expect(waiting).toMatchObject({ id: first!.id, state: "waiting", attempt: 1 });
    expect(waiting!.deadline).toBeGreaterThan(Date.now());
    expect(await alarmAt(stub)).toBe(waiting!.deadline);
    // Its slot stays taken, and the old lease is spent.
    expect(await stub.claimStep(first!.id, first!.lease)).toBeNull();
    await fireAlarm(stub);
    expect((await runnerSteps(stub))[0]!.state).toBe("waiting");

    advance(waiting!.deadline - Date.now());
    await fireAlarm(stub);
    const [retried] = await runnerSteps(stub);
    expect(retried).toMatchObject({ id: first!.id, range: first!.range, state: "leased", attempt: 2 });
    expect(retried!.lease).not.toBe(first!.lease);
    expect((await claim(stub, retried!)).attempt).toBe(2);
    await runStep(stub, jobId, retried!);
    await runStep(stub, jobId, (await runnerSteps(stub))[0]!);
    expect(await jobStatus(jobId)).toBe("COMPLETED");

    const failed = (await events(jobId)).find((event) => event.kind === "step_failed");
    expect(failed!.detail).toEqual({ range: first!.range, reason: "rate limited", error: "rate_limited", attempt: 1, retryable: true });
  });

  it("fails the job on a fatal failure, with its reason in the events", async () => {
    const { jobId, stub } = await deploy({ endBlock: block(29), parallelism: 2 });
    await startRunning(stub, jobId, 100);
    const [first, second] = await runnerSteps(stub);
    await claim(stub, first!);
    await claim(stub, second!);
    expect(await stub.failStep(first!.id, first!.lease, { reason: "method not supported: eth_getBlockReceipts", error: "method_not_supported", retryable: false })).toBe(true);

    expect(await jobStatus(jobId)).toBe("FAILED");
    const reason = "step 0..=9 failed after 1 attempt(s): method not supported: eth_getBlockReceipts";
    expect((await jobRow(jobId)).failureReason).toBe(reason);
    expect((await events(jobId)).slice(-2).map((event) => [event.kind, event.detail])).toEqual([
      ["step_failed", { range: first!.range, reason: "method not supported: eth_getBlockReceipts", error: "method_not_supported", attempt: 1, retryable: false }],
      ["failed", { reason }],
    ]);
    expect(await runnerSteps(stub)).toEqual([]);
    expect(await alarmAt(stub)).toBeNull();

    // The other step's report comes in after the failure: nothing changes.
    const before = await eventKinds(jobId);
    expect(await stub.completeStep(second!.id, second!.lease, { files: [], durationMs: 1 })).toBe(false);
    expect(await eventKinds(jobId)).toEqual(before);
    expect(await jobStatus(jobId)).toBe("FAILED");
  });

  it("fails the job when a step keeps failing", async () => {
    const { jobId, stub } = await deploy({ endBlock: block(9) });
    await startRunning(stub, jobId, 100);
    for (let attempt = 1; ; attempt++) {
      const [step] = await runnerSteps(stub);
      expect(step).toMatchObject({ state: "leased", attempt });
      await claim(stub, step!);
      await stub.failStep(step!.id, step!.lease, { reason: "timeout", error: "timeout", retryable: true });
      if ((await jobStatus(jobId)) === "FAILED") break;
      advance((await runnerSteps(stub))[0]!.deadline - Date.now());
      await fireAlarm(stub);
    }
    expect((await jobRow(jobId)).failureReason).toBe("step 0..=9 failed after 10 attempt(s): timeout");
    expect((await eventKinds(jobId)).filter((kind) => kind === "step_failed")).toHaveLength(10);
  });
});

describe("leases and duplicate reports", () => {
  it("hands a step out again when its lease runs out, and counts a late report of the old lease once", async () => {
    const { jobId, stub, locations } = await deploy({ endBlock: block(9) });
    await startRunning(stub, jobId, 100);
    const [first] = await runnerSteps(stub);
    const oldContext = await claim(stub, first!);
    const claimed = (await runnerSteps(stub))[0]!;
    expect(claimed.deadline).toBe(Date.now() + RUN_LEASE_MS);

    advance(RUN_LEASE_MS);
    await fireAlarm(stub);
    const [again] = await runnerSteps(stub);
    expect(again).toMatchObject({ id: first!.id, range: first!.range, state: "leased", attempt: 2 });
    expect(again!.lease).not.toBe(first!.lease);
    expect(await stub.claimStep(first!.id, first!.lease)).toBeNull();

    // The first consumer was only slow: its report arrives after the step was handed out again.
    // Its files leave none of the step's blocks missing, so it completes the step.
    const files = await writeStepFiles(jobId, oldContext);
    expect(await stub.completeStep(first!.id, first!.lease, { files, durationMs: 1 })).toBe(true);
    // The new lease has nothing left to do, and its report changes nothing.
    expect(await stub.claimStep(again!.id, again!.lease)).toBeNull();
    expect(await stub.completeStep(again!.id, again!.lease, { files, durationMs: 1 })).toBe(false);

    expect(await jobStatus(jobId)).toBe("COMPLETED");
    expect((await eventKinds(jobId)).filter((kind) => kind === "step_completed")).toHaveLength(1);
    for (const location of locations) expect(await progressOf(location.locationId)).toMatchObject({ currentBlock: 9, filesCount: 1 });
  });

  it("does not let a late report of an expired lease complete a step it did not finish", async () => {
    const { jobId, stub } = await deploy({ endBlock: block(9) });
    await startRunning(stub, jobId, 100);
    const [first] = await runnerSteps(stub);
    const oldContext = await claim(stub, first!);
    advance(RUN_LEASE_MS);
    await fireAlarm(stub);
    const [again] = await runnerSteps(stub);

    // The old consumer wrote one table before it lost its lease.
    const partial = [await writeFile(jobId, oldContext.tables[0]!, first!.range)];
    expect(await stub.completeStep(first!.id, first!.lease, { files: partial, durationMs: 1 })).toBe(false);
    expect(await eventKinds(jobId)).not.toContain("step_completed");
    const context = await claim(stub, again!);
    expect(context.tables.map((table) => table.ranges)).toEqual([[], [first!.range], [first!.range]]);
    expect(await stub.completeStep(again!.id, again!.lease, { files: await writeStepFiles(jobId, context), durationMs: 1 })).toBe(true);
    expect(await jobStatus(jobId)).toBe("COMPLETED");
    expect((await eventKinds(jobId)).filter((kind) => kind === "step_completed")).toHaveLength(1);
  });

  it("hands out a step whose message was never claimed again after the queue lease", async () => {
    const { jobId, stub } = await deploy({ endBlock: block(9) });
    await startRunning(stub, jobId, 100);
    const [first] = await runnerSteps(stub);
    expect(await alarmAt(stub)).toBe(first!.deadline);
    expect(first!.deadline).toBe(Date.now() + QUEUE_LEASE_MS);
    advance(QUEUE_LEASE_MS);
    await fireAlarm(stub);
    const [again] = await runnerSteps(stub);
    expect(again!.lease).not.toBe(first!.lease);
    await runStep(stub, jobId, again!);
    expect(await jobStatus(jobId)).toBe("COMPLETED");
  });

  it("takes a duplicate completion of the same step as a no-op", async () => {
    const { jobId, stub, locations } = await deploy({ endBlock: block(19) });
    await startRunning(stub, jobId, 100);
    const [first] = await runnerSteps(stub);
    const files = await runStep(stub, jobId, first!);
    const progress = await progressOf(locations[0]!.locationId);
    const kinds = await eventKinds(jobId);
    const next = await runnerSteps(stub);

    // At-least-once delivery: the same message runs again and reports the same files.
    expect(await stub.claimStep(first!.id, first!.lease)).toBeNull();
    expect(await stub.completeStep(first!.id, first!.lease, { files, durationMs: 1 })).toBe(false);
    expect(await eventKinds(jobId)).toEqual(kinds);
    expect(await progressOf(locations[0]!.locationId)).toEqual(progress);
    expect(await runnerSteps(stub)).toEqual(next);

    await runStep(stub, jobId, next[0]!);
    expect(await jobStatus(jobId)).toBe("COMPLETED");
    expect(await progressOf(locations[0]!.locationId)).toMatchObject({ currentBlock: 19, filesCount: 2 });
  });

  it("lets a redelivered message of a claimed step claim it again (its consumer may have crashed)", async () => {
    const { jobId, stub } = await deploy({ endBlock: block(9) });
    await startRunning(stub, jobId, 100);
    const [first] = await runnerSteps(stub);
    await claim(stub, first!);
    await runStep(stub, jobId, first!);
    expect(await jobStatus(jobId)).toBe("COMPLETED");
  });
});

describe("stop", () => {
  it("stops a SCHEDULED job at once", async () => {
    const { jobId, stub } = await deploy({ endBlock: block(9) });
    expect(await stub.requestStop(jobId)).toBe("requested");
    expect(await jobStatus(jobId)).toBe("STOPPED");
    expect(await eventKinds(jobId)).toEqual(["scheduled", "stop_requested", "stopping", "stopped"]);
    expect(await alarmAt(stub)).toBeNull();
    expect(await fireAlarm(stub)).toBe(false);
    expect(await runnerSteps(stub)).toEqual([]);
    expect(await stub.requestStop(jobId)).toBe("unchanged");
  });

  it("stops a job whose runner never started, and a later start leaves it stopped", async () => {
    const { jobId, stub } = await schedule({ endBlock: block(9) });
    expect(await stub.requestStop(jobId)).toBe("requested");
    expect(await jobStatus(jobId)).toBe("STOPPED");
    await stub.start(jobId, 10);
    await fireAlarm(stub);
    expect(await jobStatus(jobId)).toBe("STOPPED");
    expect(await eventKinds(jobId)).toEqual(["scheduled", "stop_requested", "stopping", "stopped"]);
    expect(await runnerSteps(stub)).toEqual([]);
  });

  it("answers not_found for a job that does not exist", async () => {
    const { stub } = await schedule({ endBlock: block(9) });
    expect(await stub.requestStop(987)).toBe("not_found");
  });

  it("drains a step in flight: STOP_REQUESTED → STOPPING → STOPPED when it reports", async () => {
    const { jobId, stub, locations } = await deploy({ endBlock: block(29), parallelism: 1 });
    await startRunning(stub, jobId, 100);
    const [first] = await runnerSteps(stub);
    const context = await claim(stub, first!);

    expect(await stub.requestStop(jobId)).toBe("requested");
    await expectStatus(stub, jobId, "STOPPING");
    expect((await eventKinds(jobId)).slice(-2)).toEqual(["stop_requested", "stopping"]);
    await fireAlarm(stub);
    expect(await jobStatus(jobId)).toBe("STOPPING");
    expect(await stub.requestStop(jobId)).toBe("unchanged");

    const files = await writeStepFiles(jobId, context);
    expect(await stub.completeStep(first!.id, first!.lease, { files, durationMs: 1 })).toBe(true);
    await expectStatus(stub, jobId, "STOPPED");
    expect((await eventKinds(jobId)).slice(-3)).toEqual(["stopping", "step_completed", "stopped"]);
    // Nothing was handed out after the stop request, and nothing wakes the runner any more.
    expect(await runnerSteps(stub)).toEqual([]);
    expect(await alarmAt(stub)).toBeNull();
    expect((await eventKinds(jobId)).filter((kind) => kind === "step_started")).toHaveLength(1);
    expect(await progressOf(locations[0]!.locationId)).toMatchObject({ currentBlock: 9, filesCount: 1 });
  });

  it("does not retry a step that fails while the job is stopping", async () => {
    const { jobId, stub } = await deploy({ endBlock: block(29) });
    await startRunning(stub, jobId, 100);
    const [first] = await runnerSteps(stub);
    await claim(stub, first!);
    await stub.requestStop(jobId);
    expect(await stub.failStep(first!.id, first!.lease, { reason: "timeout", error: "timeout", retryable: true })).toBe(true);
    await expectStatus(stub, jobId, "STOPPED");
    expect((await eventKinds(jobId)).slice(-3)).toEqual(["stopping", "step_failed", "stopped"]);
    expect(await runnerSteps(stub)).toEqual([]);
  });

  it("does not stay STOPPING when the step in flight never reports", async () => {
    const { jobId, stub, locations } = await deploy({ endBlock: block(29), parallelism: 2 });
    await startRunning(stub, jobId, 100);
    const [first] = await runnerSteps(stub);
    const context = await claim(stub, first!);
    await stub.requestStop(jobId);
    expect(await jobStatus(jobId)).toBe("STOPPING");
    expect(await alarmAt(stub)).toBe(Date.now() + RUN_LEASE_MS);

    advance(RUN_LEASE_MS);
    await fireAlarm(stub);
    expect(await jobStatus(jobId)).toBe("STOPPED");
    expect(await alarmAt(stub)).toBeNull();

    // The consumer turns up after all: its files are refused, and its report changes nothing.
    const progress = await progressOf(locations[0]!.locationId);
    await expect(writeStepFiles(jobId, context)).rejects.toThrow(/refused/);
    expect(await stub.completeStep(first!.id, first!.lease, { files: [], durationMs: 1 })).toBe(false);
    expect(await progressOf(locations[0]!.locationId)).toEqual(progress);
    expect(await jobStatus(jobId)).toBe("STOPPED");
  });

  it("leaves a table's progress to the newer job that took it over while it was stopping", async () => {
    const old = await deploy({ endBlock: block(29) });
    await startRunning(old.stub, old.jobId, 100);
    const [step] = await runnerSteps(old.stub);
    const files = await writeStepFiles(old.jobId, await claim(old.stub, step!));
    await old.stub.requestStop(old.jobId);
    await expectStatus(old.stub, old.jobId, "STOPPING");

    // A new deploy of the same manifest takes the write lock and gets further than the old job ever will.
    const next = await schedule({ endBlock: block(29) });
    expect(next.manifestHash).toBe(old.manifestHash);
    expect(next.locations.map((location) => location.locationId)).toEqual(old.locations.map((location) => location.locationId));
    await next.stub.start(next.jobId, 10);
    await startRunning(next.stub, next.jobId, 100);
    await runStep(next.stub, next.jobId, (await runnerSteps(next.stub))[0]!);
    const progress = await progressOf(next.locations[0]!.locationId);
    expect(progress).toMatchObject({ currentBlock: 19, filesCount: 2 });

    // The old job's step reports late: it stops, and the new writer's figures stay.
    expect(await old.stub.completeStep(step!.id, step!.lease, { files, durationMs: 1 })).toBe(true);
    await expectStatus(old.stub, old.jobId, "STOPPED");
    expect(await progressOf(next.locations[0]!.locationId)).toEqual(progress);
  });

  it("stops at once between steps: a step handed out but not claimed is withdrawn", async () => {
    const { jobId, stub } = await deploy({ endBlock: block(29) });
    await startRunning(stub, jobId, 100);
    await runStep(stub, jobId, (await runnerSteps(stub))[0]!);
    const [next] = await runnerSteps(stub);
    expect(next!.state).toBe("leased");

    expect(await stub.requestStop(jobId)).toBe("requested");
    expect(await jobStatus(jobId)).toBe("STOPPED");
    expect(await runnerSteps(stub)).toEqual([]);
    expect(await stub.claimStep(next!.id, next!.lease)).toBeNull();
    expect(await alarmAt(stub)).toBeNull();
  });

  it("stops a running job that has nothing in flight at once", async () => {
    const { jobId, stub } = await deploy({ endBlock: { kind: "continuous" } });
    await startRunning(stub, jobId, 9);
    await runStep(stub, jobId, (await runnerSteps(stub))[0]!);
    expect(await runnerSteps(stub)).toEqual([]);
    advance(DEFAULT_HEAD_POLL_MS);
    await fireAlarm(stub);
    expect((await runnerState(stub)).probe).not.toBeNull();
    await stub.requestStop(jobId);
    expect(await jobStatus(jobId)).toBe("STOPPED");
    expect(await stub.claimProbe((await runnerState(stub)).probe?.lease ?? "none")).toBeNull();
  });
});

describe("a continuous job", () => {
  it("keeps asking for the head and hands out new steps when it moves", async () => {
    const { jobId, stub, locations } = await deploy({ endBlock: { kind: "continuous" }, parallelism: 2 });
    await startRunning(stub, jobId, 14);
    expect((await runnerSteps(stub)).map((step) => step.range)).toEqual([
      { start: 0, end: 9 },
      { start: 10, end: 14 },
    ]);
    for (const step of await runnerSteps(stub)) await runStep(stub, jobId, step);
    expect(await jobStatus(jobId)).toBe("RUNNING");

    // Before the poll interval nothing is asked.
    await fireAlarm(stub);
    expect((await runnerState(stub)).probe).toBeNull();
    expect(await alarmAt(stub)).toBe(Date.now() + DEFAULT_HEAD_POLL_MS);

    advance(DEFAULT_HEAD_POLL_MS);
    await fireAlarm(stub);
    await answerProbe(stub, 14);
    expect(await runnerSteps(stub)).toEqual([]);

    advance(DEFAULT_HEAD_POLL_MS);
    await fireAlarm(stub);
    await answerProbe(stub, 31);
    expect((await runnerSteps(stub)).map((step) => step.range)).toEqual([
      { start: 15, end: 19 },
      { start: 20, end: 29 },
    ]);
    for (const step of await runnerSteps(stub)) await runStep(stub, jobId, step);
    expect((await runnerSteps(stub)).map((step) => step.range)).toEqual([{ start: 30, end: 31 }]);
    await runStep(stub, jobId, (await runnerSteps(stub))[0]!);
    expect(await jobStatus(jobId)).toBe("RUNNING");
    expect(await progressOf(locations[0]!.locationId)).toMatchObject({ startBlock: 0, currentBlock: 31, filesCount: 5 });
  });

  it("sends a probe again when its answer does not come within its lease", async () => {
    const { jobId, stub } = await deploy({ endBlock: { kind: "continuous" } });
    await fireAlarm(stub);
    const lost = (await runnerState(stub)).probe!;
    expect(await alarmAt(stub)).toBe(lost.deadline);
    advance(PROBE_LEASE_MS);
    await fireAlarm(stub);
    const resent = (await runnerState(stub)).probe!;
    expect(resent.lease).not.toBe(lost.lease);
    expect(await stub.completeProbe(lost.lease, { head: 5, hashes: {} })).toBe(false);
    expect((await runnerState(stub)).head).toBeNull();
    await answerProbe(stub, 5);
    expect((await runnerSteps(stub)).map((step) => step.range)).toEqual([{ start: 0, end: 5 }]);
    expect(await jobStatus(jobId)).toBe("RUNNING");
  });

  it("retries a failed probe after a backoff and fails the job on a fatal one", async () => {
    const { jobId, stub } = await deploy({ endBlock: { kind: "continuous" } });
    await fireAlarm(stub);
    const probe = (await runnerState(stub)).probe!;
    expect(await stub.claimProbe(probe.lease)).not.toBeNull();
    expect(await stub.failProbe(probe.lease, { reason: "connection refused", error: "network", retryable: true })).toBe(true);
    const state = await runnerState(stub);
    expect(state.probe).toBeNull();
    expect(state.probeNotBefore).toBeGreaterThan(Date.now());
    expect(await alarmAt(stub)).toBe(state.probeNotBefore);
    advance(state.probeNotBefore - Date.now());
    await fireAlarm(stub);
    const retried = (await runnerState(stub)).probe!;
    expect(retried.attempt).toBe(2);
    expect(await stub.failProbe(retried.lease, { reason: "invalid provider url", error: "invalid_provider", retryable: false })).toBe(true);
    expect(await jobStatus(jobId)).toBe("FAILED");
    expect((await jobRow(jobId)).failureReason).toBe("reading the chain head failed after 2 attempt(s): invalid provider url");
    expect((await events(jobId)).filter((event) => event.kind === "head_read_failed").map((event) => event.detail)).toEqual([
      { reason: "connection refused", error: "network", attempt: 1, retryable: true },
      { reason: "invalid provider url", error: "invalid_provider", attempt: 2, retryable: false },
    ]);
  });

  it("does not take a node that lags behind its files for a reorg", async () => {
    const { jobId, stub } = await deploy({ endBlock: { kind: "continuous" }, parallelism: 2 });
    await startRunning(stub, jobId, 19);
    for (const step of await runnerSteps(stub)) await runStep(stub, jobId, step);
    advance(DEFAULT_HEAD_POLL_MS);
    await fireAlarm(stub);
    await answerProbe(stub, 17);
    const state = await runnerState(stub);
    expect(state.forced).toEqual([]);
    expect(state.tipBlocks).toEqual([]);
    expect(await runnerSteps(stub)).toEqual([]);
    // Once it has caught up, the files check out and the new blocks are handed out.
    advance(DEFAULT_HEAD_POLL_MS);
    await fireAlarm(stub);
    expect((await answerProbe(stub, 25)).blocks).toEqual([19]);
    expect((await runnerState(stub)).forced).toEqual([]);
    expect((await runnerSteps(stub)).map((step) => step.range)).toEqual([{ start: 20, end: 25 }]);
  });

  it("extracts a range again after a reorg behind its cursor", async () => {
    const { jobId, stub, locations } = await deploy({ endBlock: { kind: "continuous" }, parallelism: 2 });
    await startRunning(stub, jobId, 19);
    for (const step of await runnerSteps(stub)) await runStep(stub, jobId, step);
    expect(await runnerSteps(stub)).toEqual([]);

    // Blocks 15 and up were replaced: the node's hashes of 19 no longer match the files.
    const forked = chain("b", 15, mainChain);
    advance(DEFAULT_HEAD_POLL_MS);
    await fireAlarm(stub);
    const first = await answerProbe(stub, 19, forked);
    expect(first.blocks).toEqual([19]);
    // The runner walks back until the chains agree: block 9 is on both.
    const second = await answerProbe(stub, 19, forked);
    expect(second.blocks).toEqual([9]);
    expect((await runnerState(stub)).forced).toEqual([{ start: 10, end: 19 }]);

    const [redo] = await runnerSteps(stub);
    expect(redo!.range).toEqual({ start: 10, end: 19 });
    const context = await claim(stub, redo!);
    expect(context.tables.map((table) => table.ranges)).toEqual(TABLES.map(() => [{ start: 10, end: 19 }]));
    const files = await writeStepFiles(jobId, context, forked);
    expect(await stub.completeStep(redo!.id, redo!.lease, { files, durationMs: 1 })).toBe(true);
    expect((await runnerState(stub)).forced).toEqual([]);
    expect(await runnerSteps(stub)).toEqual([]);
    for (const location of locations) expect(await progressOf(location.locationId)).toMatchObject({ startBlock: 0, currentBlock: 19, filesCount: 2 });

    // The repaired chain matches the node: the next check finds nothing to do.
    advance(DEFAULT_HEAD_POLL_MS);
    await fireAlarm(stub);
    expect((await answerProbe(stub, 19, forked)).blocks).toEqual([19]);
    expect((await runnerState(stub)).forced).toEqual([]);
    expect(await runnerSteps(stub)).toEqual([]);
  });
});

describe("cron's reconcile", () => {
  it("takes charge of a job whose start never arrived", async () => {
    const { jobId, stub } = await schedule({ endBlock: block(9) });
    await stub.poke(jobId);
    await fireAlarm(stub);
    await expectStatus(stub, jobId, "RUNNING");
  });

  it("gives a running job whose alarm was lost a new one, and leaves an ended job alone", async () => {
    const { jobId, stub } = await deploy({ endBlock: block(9) });
    await startRunning(stub, jobId, 100);
    await runInDurableObject(stub, (_runner, state) => state.storage.deleteAlarm());
    await stub.poke(jobId);
    expect(await alarmAt(stub)).toBe(Date.now());
    await runStep(stub, jobId, (await runnerSteps(stub))[0]!);
    await expectStatus(stub, jobId, "COMPLETED");
    await stub.poke(jobId);
    expect(await alarmAt(stub)).toBeNull();
  });
});

describe("a runner that died between its D1 write and its own storage write", () => {
  // The crash campaign (test/chaos/crash, point runner:status-mirrored) kills a real runner there; this is the state
  // it leaves, made by hand so `npm test` keeps it: the retried alarm finds D1 RUNNING and its own state SCHEDULED.
  it("goes on running a job that D1 already has RUNNING when its alarm runs again", async () => {
    const { jobId, stub } = await deploy({ endBlock: block(9) });
    const written = await transitionJob(db(), jobId, JOB_TRANSITIONS.RUNNING, "RUNNING", { event: { kind: "running" } });
    expect(written.applied).toBe(true);
    expect((await runnerState(stub)).status).toBe("SCHEDULED");

    await fireAlarm(stub);
    await expectStatus(stub, jobId, "RUNNING");
    // It asked for the head and woke itself up for it, instead of waiting for cron's reconcile.
    expect(await alarmAt(stub)).not.toBeNull();
    await answerProbe(stub, 100);
    await runStep(stub, jobId, (await runnerSteps(stub))[0]!);
    await expectStatus(stub, jobId, "COMPLETED");
    expect(await eventKinds(jobId)).toEqual(["scheduled", "running", "step_started", "step_completed", "completed"]);
  });
});

describe("the consistency check at start", () => {
  it("deletes objects that have no file row under the job's locations", async () => {
    const { jobId, stub, locations } = await schedule({ endBlock: block(9) });
    const blocks = locations.find((location) => location.table === "blocks")!;
    const registered = await writeFile(jobId, blocks, { start: 0, end: 9 });
    const orphanKey = `${locationObjectPrefix(blocks.path)}000000010-000000019-deadbeef.parquet`;
    await env.BUCKET.put(orphanKey, "left by a crash between put and register");
    const elsewhere = `${locationObjectPrefix("other/blocks/r1/")}orphan.parquet`;
    await env.BUCKET.put(elsewhere, "not this job's");

    await stub.start(jobId, 10);
    await fireAlarm(stub);
    expect(await jobStatus(jobId)).toBe("RUNNING");
    expect(await env.BUCKET.head(orphanKey)).toBeNull();
    expect(await env.BUCKET.head(`${locationObjectPrefix(blocks.path)}${registered.fileName}`)).not.toBeNull();
    expect(await env.BUCKET.head(elsewhere)).not.toBeNull();
    expect(await progressOf(blocks.locationId)).toMatchObject({ startBlock: 0, currentBlock: 9, filesCount: 1 });
  });

  it("fails the job when a file row's object is missing", async () => {
    const { jobId, stub, locations } = await schedule({ endBlock: block(9) });
    const logs = locations.find((location) => location.table === "logs")!;
    const file = await writeFile(jobId, logs, { start: 0, end: 9 });
    const key = `${locationObjectPrefix(logs.path)}${file.fileName}`;
    await env.BUCKET.delete(key);

    await stub.start(jobId, 10);
    await fireAlarm(stub);
    expect(await jobStatus(jobId)).toBe("FAILED");
    expect((await jobRow(jobId)).failureReason).toBe(`table logs is corrupted: 1 registered file(s) are missing from R2, e.g. ${key}`);
    expect(await runnerSteps(stub)).toEqual([]);
    expect(await alarmAt(stub)).toBeNull();
  });
});
