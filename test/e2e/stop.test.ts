/**
 * Stopping jobs end to end: before anything ran, while a step runs (made slow
 * by the fault proxy) and between steps. Each ends STOPPED, never stays in
 * STOPPING, and nothing is written after STOPPED.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { FaultScenario } from "../support/fault-control";
import { harness } from "../support/provided-context";
import {
  api,
  type Dataset,
  deploy,
  expectTiled,
  getJob,
  jobEvents,
  locationsOf,
  runner,
  scheduleWithoutStart,
  setupDataset,
  sleep,
  snapshot,
  STEP_SIZE,
  stop,
  verifyLocationFiles,
  waitForEvent,
  waitForJob,
} from "./e2e-support";

const { anvilUrl, harnessUrl, chain } = harness();

/** Long enough for a queued message to be delivered and a step to run, had anything been left behind. */
const QUIET_MS = 4_000;

/** The job stays STOPPED and its tables change no more: no file row, no object, no event. */
async function expectNothingAfterStopped(dataset: Dataset, jobId: number): Promise<void> {
  const before = await snapshot(dataset);
  const eventsBefore = await jobEvents(jobId);
  expect(eventsBefore.at(-1)?.kind).toBe("stopped");
  await sleep(QUIET_MS);
  expect((await getJob(jobId)).status).toBe("STOPPED");
  expect(await snapshot(dataset)).toEqual(before);
  expect(await jobEvents(jobId)).toEqual(eventsBefore);
}

/** Every file registered belongs to a step that reported it before `stopped`, and rows match objects. */
async function expectFilesOfCompletedSteps(dataset: Dataset, jobId: number): Promise<number> {
  const events = await jobEvents(jobId);
  const completed = events.filter((event) => event.kind === "step_completed").map((event) => (event.detail as { range: { start: number; end: number } }).range);
  let files = 0;
  for (const location of await locationsOf(dataset)) {
    const verified = await verifyLocationFiles(location);
    const ranges = verified.files.map((file) => file.metadata.ranges[0].numbers);
    expect(ranges).toEqual([...completed].sort((a, b) => a.start - b.start));
    files += verified.files.length;
  }
  return files;
}

describe("stop", () => {
  it("at SCHEDULED, before the runner took charge (a deploy that died after its D1 batch): STOPPED, never started later", async () => {
    const dataset = await setupDataset({ providerUrl: anvilUrl });
    const jobId = await scheduleWithoutStart(dataset, 29);
    expect((await getJob(jobId)).status).toBe("SCHEDULED");
    await stop(jobId);
    expect((await getJob(jobId)).status).toBe("STOPPED");
    expect((await jobEvents(jobId)).map((event) => event.kind)).toEqual(["scheduled", "stop_requested", "stopping", "stopped"]);
    // Cron's reconcile, and a late start of the lost deploy, leave a stopped job alone.
    await runner(jobId).poke(jobId);
    await runner(jobId).start(jobId, STEP_SIZE);
    await expectNothingAfterStopped(dataset, jobId);
    expect(await snapshot(dataset)).toEqual({
      blocks: { rows: [], objects: [] },
      logs: { rows: [], objects: [] },
      transactions: { rows: [], objects: [] },
    });
    // A stop is idempotent, and the manifest can be deployed again.
    await stop(jobId);
    const next = await deploy(dataset, { end_block: 29 });
    expect(next).not.toBe(jobId);
    expect((await waitForJob(next)).status).toBe("COMPLETED");
  });

  it("at SCHEDULED, after the runner took charge but before its first alarm: STOPPED without running", async () => {
    const dataset = await setupDataset({ providerUrl: anvilUrl });
    const jobId = await scheduleWithoutStart(dataset, 29);
    // Both calls are queued in the runner before its first alarm can run, so the stop finds the job SCHEDULED.
    const result = await runInDurableObject(runner(jobId), async (instance) => {
      const started = instance.start(jobId, STEP_SIZE);
      const stopped = instance.requestStop(jobId);
      await started;
      return stopped;
    });
    expect(result).toBe("requested");
    const job = await waitForJob(jobId, { timeoutMs: 30_000 });
    expect(job.status).toBe("STOPPED");
    expect((await jobEvents(jobId)).map((event) => event.kind)).toEqual(["scheduled", "stop_requested", "stopping", "stopped"]);
    await expectNothingAfterStopped(dataset, jobId);
    for (const table of Object.values(await snapshot(dataset))) expect(table).toEqual({ rows: [], objects: [] });
  });

  it("during a step: STOPPING until the slow step reports, then STOPPED with that step's files only", async () => {
    const scenario = new FaultScenario(harnessUrl);
    // Every request to the provider takes a while, so the first step is still running when the stop arrives.
    await scenario.inject({ kind: "delay", ms: 3_000, times: 10_000 });
    const dataset = await setupDataset({ providerUrl: scenario.rpcUrl });
    const jobId = await deploy(dataset, { end_block: 39, parallelism: 1 });
    await waitForEvent(jobId, "step_started", 60_000);
    await stop(jobId);
    const stopping = await getJob(jobId);
    expect(stopping.status).toBe("STOPPING");
    const job = await waitForJob(jobId, { timeoutMs: 90_000 });
    expect(job.status).toBe("STOPPED");
    const kinds = (await jobEvents(jobId)).map((event) => event.kind);
    expect(kinds).toEqual(["scheduled", "running", "step_started", "stop_requested", "stopping", "step_completed", "stopped"]);
    expect(await expectFilesOfCompletedSteps(dataset, jobId)).toBe(3);
    await expectNothingAfterStopped(dataset, jobId);
  });

  it("between steps: STOPPED with only completed steps' files; a new deploy resumes and completes with every block once", async () => {
    const end = Math.min(chain.head, 39);
    const scenario = new FaultScenario(harnessUrl);
    // Each step takes a second or more, so the stop lands before the last one, however loaded the machine.
    await scenario.inject({ kind: "delay", ms: 500, times: 100_000 });
    const dataset = await setupDataset({ providerUrl: scenario.rpcUrl });
    const jobId = await deploy(dataset, { end_block: end, parallelism: 1 });
    await waitForEvent(jobId, "step_completed", 60_000);
    await stop(jobId);
    const job = await waitForJob(jobId, { timeoutMs: 60_000 });
    expect(job.status).toBe("STOPPED");
    const kinds = (await jobEvents(jobId)).map((event) => event.kind);
    // After the stop, no step starts; a step already running may report before `stopped`.
    const afterStop = kinds.slice(kinds.indexOf("stop_requested"));
    expect(afterStop.filter((kind) => kind !== "step_completed")).toEqual(["stop_requested", "stopping", "stopped"]);
    expect(afterStop.filter((kind) => kind === "step_completed").length).toBeLessThanOrEqual(1);
    // The stop came after the first step; a step already running then may still finish, nothing else.
    const completedSteps = kinds.filter((kind) => kind === "step_completed").length;
    expect(completedSteps).toBeGreaterThanOrEqual(1);
    expect(completedSteps).toBeLessThan(Math.ceil((end + 1) / STEP_SIZE));
    expect(await expectFilesOfCompletedSteps(dataset, jobId)).toBe(completedSteps * 3);
    await expectNothingAfterStopped(dataset, jobId);

    const resumed = await deploy(dataset, { end_block: end, parallelism: 2 });
    expect((await waitForJob(resumed)).status).toBe("COMPLETED");
    for (const location of await locationsOf(dataset)) {
      const { files, blockNums } = await verifyLocationFiles(location);
      expectTiled(files, 0, end, location.table);
      if (location.table === "blocks") expect(blockNums.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: end + 1 }, (_, i) => i));
    }
  });

  it("is refused for an unknown job and answers 200 for an ended one", async () => {
    const missing = await api("/jobs/999999999/stop", { method: "PUT" });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error_code: string }).error_code).toBe("JOB_NOT_FOUND");
    const dataset = await setupDataset({ providerUrl: anvilUrl });
    const jobId = await deploy(dataset, { end_block: 9 });
    expect((await waitForJob(jobId)).status).toBe("COMPLETED");
    await stop(jobId);
    expect((await getJob(jobId)).status).toBe("COMPLETED");
    expect((await jobEvents(jobId)).map((event) => event.kind)).not.toContain("stop_requested");
  });
});
