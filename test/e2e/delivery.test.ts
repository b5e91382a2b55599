/**
 * At-least-once delivery end to end: the same extract message handled by
 * several consumers at once (the Worker's queue handler called directly while
 * the queue's own delivery runs; the local queue hands batches to one
 * consumer at a time, production Queues do not) and delivered again through
 * the queue after the step completed. One file and one row per table, rows
 * that match their objects.
 */
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { StepMessage } from "../../src/domain/step-protocol";
import { FaultScenario } from "../support/fault-control";
import { harness } from "../support/provided-context";
import {
  deploy,
  expectTiled,
  jobEvents,
  locationsOf,
  runnerSteps,
  setupDataset,
  sleep,
  snapshot,
  verifyLocationFiles,
  waitForEvent,
  waitForJob,
} from "./e2e-support";

const { harnessUrl } = harness();

/** The Worker's queue handler on one message, as the Queue would call it; resolves once it acked. */
async function consume(message: StepMessage, id: string): Promise<void> {
  const batch = createMessageBatch<StepMessage>("amp-edge-steps", [{ id, timestamp: new Date(), attempts: 1, body: message }]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  const result = await getQueueResult(batch, ctx);
  expect(result.explicitAcks).toEqual([id]);
}

describe("duplicate delivery of a step", () => {
  it("three consumers of one step at once, then a redelivery through the queue: one file and one row per table", async () => {
    const scenario = new FaultScenario(harnessUrl);
    // Slow provider answers keep the queue's consumer busy while the duplicates run.
    await scenario.inject({ kind: "delay", ms: 2_000, times: 10_000 });
    const dataset = await setupDataset({ providerUrl: scenario.rpcUrl });
    const jobId = await deploy(dataset, { end_block: 9, parallelism: 1 });
    await waitForEvent(jobId, "step_started", 60_000);
    const [step] = await runnerSteps(jobId);
    if (!step) throw new Error("the runner has no step in flight");
    expect(step.state).toBe("claimed");
    const message: StepMessage = { kind: "extract", jobId, stepId: step.id, lease: step.lease };
    // A redelivered message claims its step again (its first consumer may have died), so all three run it.
    await Promise.all([consume(message, "duplicate-1"), consume(message, "duplicate-2")]);

    const job = await waitForJob(jobId);
    expect(job.status, job.failure_reason).toBe("COMPLETED");
    const events = await jobEvents(jobId);
    expect(events.filter((event) => event.kind === "step_started").length).toBeGreaterThanOrEqual(2);
    expect(events.filter((event) => event.kind === "step_completed")).toHaveLength(1);
    expect(events.filter((event) => event.kind === "step_failed")).toEqual([]);
    for (const location of await locationsOf(dataset)) {
      const { files, blockNums } = await verifyLocationFiles(location);
      expect(files, location.table).toHaveLength(1);
      expectTiled(files, 0, 9, location.table);
      if (location.table === "blocks") expect(blockNums).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i)));
    }

    // Delivered once more after the job completed, by the queue and by hand: dropped, nothing changes.
    const before = await snapshot(dataset);
    await env.STEPS.send(message);
    await consume(message, "late");
    await sleep(3_000);
    expect(await snapshot(dataset)).toEqual(before);
    expect(await jobEvents(jobId)).toEqual(events);
  });
});
