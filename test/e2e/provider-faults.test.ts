/**
 * Providers that misbehave, end to end through the fault proxy. One that
 * answers 429 (with Retry-After) and 500 for a while, or fails a method for a
 * while, still gets the job COMPLETED with every block once, any step
 * failure on the way being retryable; one that never works fails the job
 * with a clear reason once the attempts (AMP_STEP_MAX_ATTEMPTS, 4 in this
 * project) are used up, or at once when it refuses outright.
 */
import { describe, expect, it } from "vitest";
import { FaultScenario } from "../support/fault-control";
import { harness } from "../support/provided-context";
import { type Dataset, deploy, expectTiled, jobEvents, locationsOf, setupDataset, snapshot, verifyLocationFiles, waitForJob } from "./e2e-support";

const { harnessUrl } = harness();

/** AMP_STEP_MAX_ATTEMPTS in vitest.e2e.config.ts. */
const MAX_ATTEMPTS = 4;

async function expectBlocks(dataset: Dataset, end: number): Promise<void> {
  for (const location of await locationsOf(dataset)) {
    const { files, blockNums } = await verifyLocationFiles(location);
    expectTiled(files, 0, end, location.table);
    if (location.table === "blocks") expect(blockNums).toEqual(Array.from({ length: end + 1 }, (_, i) => BigInt(i)));
  }
}

async function expectNothingWritten(dataset: Dataset): Promise<void> {
  for (const table of Object.values(await snapshot(dataset))) expect(table).toEqual({ rows: [], objects: [] });
}

describe("a provider that fails for a while", () => {
  it("with 429 (Retry-After) and 500: the head read is tried again with backoff and the job completes", async () => {
    const scenario = new FaultScenario(harnessUrl);
    // The client tries each request 6 times: the first head read gets six 429s, the second six 500s, the
    // third gets through after two more of each. The runner has tried it 3 of its 4 attempts by then.
    await scenario.inject(
      { kind: "status", status: 429, times: 6, retryAfter: "1" },
      { kind: "status", status: 500, times: 6 },
      { kind: "status", status: 429, times: 2, retryAfter: "1" },
      { kind: "status", status: 500, times: 2 },
    );
    const dataset = await setupDataset({ providerUrl: scenario.rpcUrl });
    const jobId = await deploy(dataset, { end_block: 29, parallelism: 2 });
    const job = await waitForJob(jobId, { timeoutMs: 120_000 });
    expect(job.status, job.failure_reason).toBe("COMPLETED");

    const log = await scenario.log();
    const statuses = log.requests.map((request) => request.status);
    expect(statuses.filter((status) => status === 429)).toHaveLength(8);
    expect(statuses.filter((status) => status === 500)).toHaveLength(8);
    // Retry-After was honoured: the 429s of the first head read are at least a second apart.
    const throttled = log.requests.filter((request) => request.status === 429).slice(0, 6);
    for (let i = 1; i < throttled.length; i++) expect(throttled[i]!.at - throttled[i - 1]!.at).toBeGreaterThanOrEqual(950);
    const events = await jobEvents(jobId);
    for (const failed of events.filter((event) => event.kind === "step_failed")) expect(failed.detail).toMatchObject({ retryable: true });
    expect(events.at(-1)?.kind).toBe("completed");
    await expectBlocks(dataset, 29);
  });

  it("with a JSON-RPC error on every receipts call of a step: step_failed (retryable), retried with backoff, then completed", async () => {
    const scenario = new FaultScenario(harnessUrl);
    // Every receipts call of the first step fails all six of its tries; a few calls of the second try fail too.
    await scenario.inject({ kind: "rpc-error", method: "eth_getBlockReceipts", code: -32000, message: "injected: busy", times: 40 });
    const dataset = await setupDataset({ providerUrl: scenario.rpcUrl });
    const jobId = await deploy(dataset, { end_block: 19, parallelism: 1 });
    const job = await waitForJob(jobId, { timeoutMs: 120_000 });
    expect(job.status, job.failure_reason).toBe("COMPLETED");
    const events = await jobEvents(jobId);
    const failed = events.filter((event) => event.kind === "step_failed").map((event) => event.detail as Record<string, unknown>);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed.length).toBeLessThan(MAX_ATTEMPTS);
    failed.forEach((detail, i) => {
      expect(detail).toMatchObject({ range: { start: 0, end: 9 }, attempt: i + 1, retryable: true });
      expect(detail.reason).toContain("injected: busy");
    });
    // The step was handed out again with the next attempt number, after its failure.
    const firstStep = events.filter((event) => event.kind === "step_started" && (event.detail as { range: { start: number } }).range.start === 0);
    expect(firstStep.map((event) => (event.detail as { attempt: number }).attempt)).toEqual(Array.from({ length: failed.length + 1 }, (_, i) => i + 1));
    await expectBlocks(dataset, 19);
  });
});

describe("a provider that never works", () => {
  it("answering 500 to everything: the job fails after its attempts at the head, with the reason", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "status", status: 500, times: 100_000 });
    const dataset = await setupDataset({ providerUrl: scenario.rpcUrl });
    const jobId = await deploy(dataset, { end_block: 29 });
    const job = await waitForJob(jobId, { timeoutMs: 120_000 });
    expect(job.status).toBe("FAILED");
    expect(job.failure_reason).toMatch(new RegExp(`^reading the chain head failed after ${MAX_ATTEMPTS} attempt\\(s\\): HTTP 500 from 127\\.0\\.0\\.1:\\d+`));
    const events = await jobEvents(jobId);
    expect(events.map((event) => event.kind)).toEqual(["scheduled", "running", ...Array<string>(MAX_ATTEMPTS).fill("head_read_failed"), "failed"]);
    for (const failed of events.filter((event) => event.kind === "head_read_failed")) expect(failed.detail).toMatchObject({ error: "server_error", retryable: true });
    expect(events.at(-1)?.detail).toEqual({ reason: job.failure_reason });
    // Each attempt is the client's 6 tries.
    expect((await scenario.log()).requests.length).toBe(MAX_ATTEMPTS * 6);
    await expectNothingWritten(dataset);
  });

  it("failing every receipts call: the step fails its attempts, each retryable, then the job fails with the step's reason", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "rpc-error", method: "eth_getBlockReceipts", code: -32000, message: "injected: down", times: 100_000 });
    const dataset = await setupDataset({ providerUrl: scenario.rpcUrl });
    const jobId = await deploy(dataset, { end_block: 29 });
    const job = await waitForJob(jobId, { timeoutMs: 120_000 });
    expect(job.status).toBe("FAILED");
    expect(job.failure_reason).toMatch(new RegExp(`^step 0\\.\\.=9 failed after ${MAX_ATTEMPTS} attempt\\(s\\): .*injected: down`));
    const events = await jobEvents(jobId);
    const failed = events.filter((event) => event.kind === "step_failed").map((event) => event.detail);
    expect(failed).toEqual(
      Array.from({ length: MAX_ATTEMPTS }, (_, i) => expect.objectContaining({ range: { start: 0, end: 9 }, attempt: i + 1, retryable: true })),
    );
    expect(events.at(-1)).toMatchObject({ kind: "failed", detail: { reason: job.failure_reason } });
    await expectNothingWritten(dataset);
  });

  it("refusing every request (HTTP 403): the job fails at once with the reason, nothing written", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "status", status: 403, times: 100_000 });
    const dataset = await setupDataset({ providerUrl: scenario.rpcUrl });
    const jobId = await deploy(dataset, { end_block: 29 });
    const job = await waitForJob(jobId, { timeoutMs: 60_000 });
    expect(job.status).toBe("FAILED");
    expect(job.failure_reason).toMatch(/^reading the chain head failed after 1 attempt\(s\): HTTP 403 from 127\.0\.0\.1:\d+/);
    expect((await scenario.log()).requests).toHaveLength(1);
    expect((await jobEvents(jobId)).at(-1)).toMatchObject({ kind: "failed", detail: { reason: job.failure_reason } });
    await expectNothingWritten(dataset);
  });
});
