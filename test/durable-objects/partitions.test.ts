/**
 * A JobRunner and invalidated partitions, driven by hand: an invalidation stops counting in its progress at
 * once and is not extracted again until a rebuild names it; a rebuild extracts only the table and blocks that
 * need it, in files named after the invalidation; a step already handed out when a range is invalidated does
 * not slip its file past the invalidation; a job scheduled whose runner has not started keeps a rebuild for its
 * start; a job that ended, or left SCHEDULED without starting, does not take one.
 */
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { BlockRange } from "../../src/domain/block-range";
import { listInvalidations, recordInvalidations } from "../../src/store/invalidations";
import { locationProgress } from "../../src/store/schema";
import { DEFAULT_HEAD_POLL_MS } from "../../src/domain/job-settings";
import {
  advance,
  answerProbe,
  claim,
  db,
  deploy,
  type Deployed,
  eventKinds,
  fireAlarm,
  freezeClock,
  jobStatus,
  runnerState,
  runnerSteps,
  runStep,
  schedule,
  startRunning,
  writeStepFiles,
} from "./runner-harness";

beforeEach(() => {
  freezeClock();
  return () => {
    vi.useRealTimers();
  };
});

async function progressOf(locationId: number) {
  const [row] = await db().select().from(locationProgress).where(eq(locationProgress.locationId, locationId));
  return row;
}

/** What POST .../invalidate records for the `blocks` table, and the runner told. */
async function invalidateBlocks(job: Deployed, range: BlockRange, rebuild: BlockRange[] = []): Promise<number> {
  const blocks = job.locations.find((location) => location.table === "blocks")!;
  const [row] = await recordInvalidations(db(), blocks.locationId, [{ locationId: blocks.locationId, range, reason: "test", requestedBy: "admin", dependant: false }]);
  expect(await job.stub.takePartitions(job.jobId, rebuild)).toBe(true);
  return row!.id;
}

/** Runs every step the runner hands out until none is left. */
async function drain(job: Deployed): Promise<BlockRange[]> {
  const ran: BlockRange[] = [];
  for (let steps = await runnerSteps(job.stub); steps.length > 0; steps = await runnerSteps(job.stub)) {
    await runStep(job.stub, job.jobId, steps[0]!);
    ran.push(steps[0]!.range);
  }
  return ran;
}

/** A continuous job with blocks 0..=29 in every table, waiting for the head to move. */
async function runningJob(): Promise<Deployed> {
  const job = await deploy({ endBlock: { kind: "continuous" } });
  await startRunning(job.stub, job.jobId, 29);
  expect(await drain(job)).toHaveLength(3);
  return job;
}

/** The node's head moves to `head`: the next head reads answer it (and the tip check's hashes). */
async function moveHead(job: Deployed, head: number): Promise<void> {
  for (let read = 0; read < 5; read++) {
    if (!(await runnerState(job.stub)).probe) {
      advance(DEFAULT_HEAD_POLL_MS);
      await fireAlarm(job.stub);
    }
    await answerProbe(job.stub, head);
    const state = await runnerState(job.stub);
    if (state.head === head && state.tipBlocks.length === 0) return;
  }
  throw new Error(`the runner did not settle on head ${head}`);
}

const blocksOf = (job: Deployed) => job.locations.find((location) => location.table === "blocks")!.locationId;

describe("invalidated partitions in a running job", () => {
  it("stop counting at once, and are not extracted again until a rebuild names them", async () => {
    const job = await runningJob();
    await invalidateBlocks(job, { start: 15, end: 15 });
    expect(await progressOf(blocksOf(job))).toMatchObject({ startBlock: 0, currentBlock: 9, filesCount: 1 });
    const others = job.locations.filter((location) => location.table !== "blocks");
    for (const location of others) expect(await progressOf(location.locationId)).toMatchObject({ currentBlock: 29, filesCount: 3 });
    // The head moves on: the job extracts the new blocks, not the invalidated ones.
    await moveHead(job, 39);
    expect(await drain(job)).toEqual([{ start: 30, end: 39 }]);
    expect(await progressOf(blocksOf(job))).toMatchObject({ currentBlock: 9 });
  });

  it("rebuild only the table and blocks that need it, in files named after the invalidation", async () => {
    const job = await runningJob();
    const id = await invalidateBlocks(job, { start: 15, end: 15 });
    expect(await job.stub.takePartitions(job.jobId, [{ start: 10, end: 19 }])).toBe(true);
    const [step] = await runnerSteps(job.stub);
    expect(step!.range).toEqual({ start: 10, end: 19 });
    const context = await claim(job.stub, step!);
    expect(context.tables.map((table) => [table.table, table.ranges, table.rebuildOf])).toEqual([
      ["blocks", [{ start: 10, end: 19 }], id],
      ["logs", [], undefined],
      ["transactions", [], undefined],
    ]);
    const files = await writeStepFiles(job.jobId, context);
    expect(files.map((file) => file.fileName)).toEqual([`000000010-000000019-a0000000-r${id}.parquet`]);
    expect(await job.stub.completeStep(step!.id, step!.lease, { files, durationMs: 1 })).toBe(true);
    expect(await progressOf(blocksOf(job))).toMatchObject({ currentBlock: 29, filesCount: 3 });
    expect((await runnerState(job.stub)).rebuild).toEqual([]);
    expect(await runnerSteps(job.stub)).toEqual([]);
  });

  it("invalidates the file of a step handed out before an invalidation of its blocks, and extracts them again", async () => {
    const job = await runningJob();
    await moveHead(job, 39);
    const [step] = await runnerSteps(job.stub);
    expect(step!.range).toEqual({ start: 30, end: 39 });
    const context = await claim(job.stub, step!);
    // While the step runs, 25..=35 is invalidated: it takes out 20..=29; the step's file is not registered yet.
    const id = await invalidateBlocks(job, { start: 25, end: 35 }, [{ start: 20, end: 39 }]);
    const files = await writeStepFiles(job.jobId, context);
    expect(await job.stub.completeStep(step!.id, step!.lease, { files, durationMs: 1 })).toBe(true);
    const invalidations = await listInvalidations(db(), [blocksOf(job)]);
    expect(invalidations.map((i) => [i.requestedBy, i.range])).toEqual([
      ["admin", { start: 25, end: 35 }],
      ["runner", { start: 30, end: 39 }],
    ]);
    expect(invalidations[1]!.reason).toContain(`before invalidation ${id}`);
    expect(await progressOf(blocksOf(job))).toMatchObject({ currentBlock: 19 });
    // The other tables' files of the step count: the invalidation was of blocks only.
    for (const location of job.locations.filter((l) => l.table !== "blocks")) expect(await progressOf(location.locationId)).toMatchObject({ currentBlock: 39 });
    // Both ranges are extracted again, each in files named after the newest invalidation of its blocks.
    const rebuilt = [];
    for (let steps = await runnerSteps(job.stub); steps.length > 0; steps = await runnerSteps(job.stub)) rebuilt.push(...(await runStep(job.stub, job.jobId, steps[0]!)));
    expect(rebuilt.map((file) => [file.range.start, file.fileName.replace(/^.*-(r\d+)\.parquet$/, "$1")])).toEqual([
      [20, `r${id}`],
      [30, `r${invalidations[1]!.id}`],
    ]);
    expect(await progressOf(blocksOf(job))).toMatchObject({ currentBlock: 39, filesCount: 4 });
    expect((await runnerState(job.stub)).rebuild).toEqual([]);
  });
});

describe("a job that ended", () => {
  it("takes no rebuild, so the API deploys a job that will", async () => {
    const done = await deploy({ endBlock: { kind: "absolute", block: 29 } });
    await startRunning(done.stub, done.jobId, 29);
    await drain(done);
    expect(await jobStatus(done.jobId)).toBe("COMPLETED");
    expect(await done.stub.takePartitions(done.jobId, [{ start: 0, end: 9 }])).toBe(false);
  });
});

/** A job of `_/anvil_rpc` that completed blocks 0..=29, with `blocks` 0..=9 and 20..=29 invalidated. */
async function completedWithInvalidations(): Promise<Deployed> {
  const done = await deploy({ endBlock: { kind: "absolute", block: 29 } });
  await startRunning(done.stub, done.jobId, 29);
  await drain(done);
  expect(await jobStatus(done.jobId)).toBe("COMPLETED");
  const blocks = blocksOf(done);
  for (const range of [{ start: 0, end: 9 }, { start: 20, end: 29 }]) {
    await recordInvalidations(db(), blocks, [{ locationId: blocks, range, reason: "test", requestedBy: "admin", dependant: false }]);
  }
  return done;
}

describe("a job scheduled whose runner has not started", () => {
  it("keeps a rebuild handed to it until it starts, then extracts its own ranges and those, each once", async () => {
    await completedWithInvalidations();
    // What a first rebuild's deploy leaves between its D1 batch and JobRunner.start.
    const next = await schedule({ endBlock: { kind: "absolute", block: 9 }, rebuild: [{ start: 0, end: 9 }] });
    expect(await next.stub.takePartitions(next.jobId, [{ start: 20, end: 29 }])).toBe(true);
    expect(await next.stub.takePartitions(next.jobId, [{ start: 20, end: 29 }])).toBe(true);
    await next.stub.start(next.jobId, 10);
    expect((await runnerState(next.stub)).rebuild).toEqual([
      { start: 0, end: 9 },
      { start: 20, end: 29 },
    ]);
    await startRunning(next.stub, next.jobId, 29);
    expect(await drain(next)).toEqual([
      { start: 0, end: 9 },
      { start: 20, end: 29 },
    ]);
    expect(await jobStatus(next.jobId)).toBe("COMPLETED");
    expect(await progressOf(blocksOf(next))).toMatchObject({ currentBlock: 29, filesCount: 3 });
    // A second start (Cron's reconcile) changes nothing: the held ranges were taken once.
    await next.stub.start(next.jobId, 10);
    expect((await runnerState(next.stub)).rebuild).toEqual([]);
  });

  it("takes nothing once it left SCHEDULED without starting (stopped before its runner took charge)", async () => {
    await completedWithInvalidations();
    const next = await schedule({ endBlock: { kind: "absolute", block: 9 }, rebuild: [{ start: 0, end: 9 }] });
    expect(await next.stub.requestStop(next.jobId)).toBe("requested");
    expect(await jobStatus(next.jobId)).toBe("STOPPED");
    expect(await next.stub.takePartitions(next.jobId, [{ start: 20, end: 29 }])).toBe(false);
    expect(await eventKinds(next.jobId)).toEqual(["scheduled", "stop_requested", "stopping", "stopped"]);
  });
});
