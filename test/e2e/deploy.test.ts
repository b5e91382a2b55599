/**
 * Deploy's rules end to end: one job per manifest while it is SCHEDULED or
 * RUNNING, 404 for an unknown dataset or revision, a job that fails at once
 * (never hangs) when no provider serves its network, and a misconfigured
 * step size or attempt count that schedules nothing.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { workerMetadataFrom } from "../../src/domain/worker";
import worker from "../../src/index";
import { openDb } from "../../src/store/db";
import { registerWorker } from "../../src/store/workers";
import { harness } from "../support/provided-context";
import {
  api,
  deploy,
  getJob,
  getJson,
  jobEvents,
  locationsOf,
  postJson,
  scheduleWithoutStart,
  setupDataset,
  sleep,
  snapshot,
  stop,
  waitForJob,
} from "./e2e-support";

const { anvilUrl } = harness();

async function jobIds(): Promise<number[]> {
  return (await getJson<{ jobs: { id: number }[] }>("/jobs?limit=1000")).jobs.map((job) => job.id);
}

async function expectError(res: Response, status: number, code: string): Promise<string> {
  const body = (await res.json()) as { error_code: string; error_message: string };
  expect({ status: res.status, code: body.error_code }, body.error_message).toEqual({ status, code });
  return body.error_message;
}

describe("deploy", () => {
  it("while a job of the manifest is SCHEDULED answers that job and changes nothing", async () => {
    const dataset = await setupDataset({ providerUrl: anvilUrl });
    const jobId = await scheduleWithoutStart(dataset, 29);
    const before = { jobs: await jobIds(), locations: await locationsOf(dataset), events: await jobEvents(jobId) };
    const res = await postJson(`${dataset.base}/deploy`, { end_block: 5, parallelism: 4 });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ job_id: jobId });
    expect({ jobs: await jobIds(), locations: await locationsOf(dataset), events: await jobEvents(jobId) }).toEqual(before);
    expect((await getJob(jobId)).descriptor).toMatchObject({ Dump: { end_block: "29", max_writers: 1 } });
    await stop(jobId);
    expect((await getJob(jobId)).status).toBe("STOPPED");
  });

  it("while a job of the manifest is RUNNING answers that job; after it ends, a new job takes over the locations", async () => {
    const dataset = await setupDataset({ providerUrl: anvilUrl });
    const jobId = await deploy(dataset, { end_block: null });
    await waitForJob(jobId, { until: (job) => job.status === "RUNNING", what: "RUNNING", timeoutMs: 30_000 });
    const locations = await locationsOf(dataset);
    for (const body of [{ end_block: 9 }, undefined, { end_block: "latest", parallelism: 3 }]) {
      const res = body === undefined ? await api(`${dataset.base}/deploy`, { method: "POST" }) : await postJson(`${dataset.base}/deploy`, body);
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ job_id: jobId });
    }
    // Deploying by the manifest's hash, or by a tag pointing at it, is the same manifest.
    const hash = locations[0]!.manifest_hash;
    for (const revision of [hash, "latest", "dev"]) {
      const res = await postJson(`/datasets/_/${dataset.name}/versions/${revision}/deploy`, { end_block: 3 });
      expect(await res.json()).toEqual({ job_id: jobId });
    }
    expect(await locationsOf(dataset)).toEqual(locations);
    await stop(jobId);
    expect((await waitForJob(jobId, { timeoutMs: 60_000 })).status).toBe("STOPPED");

    const next = await deploy(dataset, { end_block: 9 });
    expect(next).toBeGreaterThan(jobId);
    expect((await waitForJob(next)).status).toBe("COMPLETED");
    const after = await locationsOf(dataset);
    expect(after.map((location) => [location.id, location.writer])).toEqual(locations.map((location) => [location.id, next]));
  });

  it("without a body is a continuous job with parallelism 1", async () => {
    const dataset = await setupDataset({ providerUrl: anvilUrl });
    const res = await api(`${dataset.base}/deploy`, { method: "POST" });
    expect(res.status, await res.clone().text()).toBe(202);
    const { job_id: jobId } = (await res.json()) as { job_id: number };
    const job = await waitForJob(jobId, { until: (row) => row.status === "RUNNING", what: "RUNNING", timeoutMs: 30_000 });
    expect(job.descriptor).toMatchObject({ Dump: { end_block: null, max_writers: 1 } });
    await stop(jobId);
    expect((await waitForJob(jobId, { timeoutMs: 60_000 })).status).toBe("STOPPED");
  });

  it("with worker_id and verify records the live worker chosen and the flag, and runs the job", async () => {
    // From block 1: anvil's genesis carries a zero receiptsRoot, which verification rightly refuses.
    const dataset = await setupDataset({ providerUrl: anvilUrl, startBlock: 1 });
    const nodeId = `consumer-${dataset.network}`;
    await registerWorker(openDb(env.DB), nodeId, workerMetadataFrom({}));
    const exact = await deploy(dataset, { end_block: 9, worker_id: nodeId, verify: true });
    expect((await getJob(exact)).descriptor).toMatchObject({ Dump: { end_block: "9", verify: true, worker_id: nodeId } });
    expect((await waitForJob(exact)).status).toBe("COMPLETED");
    const glob = await deploy(dataset, { end_block: 19, worker_id: `${nodeId.slice(0, -2)}*` });
    expect((await getJob(glob)).descriptor).toMatchObject({ Dump: { end_block: "19", verify: false, worker_id: nodeId } });
    expect((await waitForJob(glob)).status).toBe("COMPLETED");
  });

  it("of an unknown dataset or revision answers 404 DATASET_NOT_FOUND and schedules nothing", async () => {
    const dataset = await setupDataset({ providerUrl: anvilUrl });
    const before = await jobIds();
    await expectError(await postJson("/datasets/_/no_such_dataset_e2e/versions/1.0.0/deploy", { end_block: 9 }), 404, "DATASET_NOT_FOUND");
    await expectError(await postJson(`/datasets/_/${dataset.name}/versions/9.9.9/deploy`, { end_block: 9 }), 404, "DATASET_NOT_FOUND");
    await expectError(await postJson(`/datasets/other_ns/${dataset.name}/versions/1.0.0/deploy`, { end_block: 9 }), 404, "DATASET_NOT_FOUND");
    await expectError(await postJson(`/datasets/_/${dataset.name}/versions/${"ab".repeat(32)}/deploy`, {}), 404, "DATASET_NOT_FOUND");
    expect(await jobIds()).toEqual(before);
    expect(await locationsOf(dataset)).toEqual([]);
  });

  it("of a dataset no provider serves: the job fails at once with the reason, and never hangs", async () => {
    const dataset = await setupDataset({ providerUrl: null });
    const jobId = await deploy(dataset, { end_block: 9 });
    const job = await waitForJob(jobId, { timeoutMs: 30_000 });
    expect(job.status).toBe("FAILED");
    expect(job.failure_reason).toContain(dataset.network);
    expect(job.failure_reason).toContain("evm-rpc");
    const events = await jobEvents(jobId);
    expect(events.map((event) => event.kind)).toEqual(["scheduled", "failed"]);
    expect(events[1]!.detail).toEqual({ reason: job.failure_reason });
    // Nothing was written, and the failed job blocks no later deploy.
    for (const table of Object.values(await snapshot(dataset))) expect(table).toEqual({ rows: [], objects: [] });
    const again = await deploy(dataset, { end_block: 9 });
    expect(again).not.toBe(jobId);
    expect((await waitForJob(again, { timeoutMs: 30_000 })).status).toBe("FAILED");
  });

  it("with an invalid AMP_STEP_SIZE or AMP_STEP_MAX_ATTEMPTS answers 500 SCHEDULER_ERROR and schedules nothing", async () => {
    const dataset = await setupDataset({ providerUrl: anvilUrl });
    const before = await jobIds();
    for (const [name, value] of [
      ["AMP_STEP_SIZE", "0"],
      ["AMP_STEP_SIZE", "ten"],
      ["AMP_STEP_MAX_ATTEMPTS", "0"],
      ["AMP_STEP_MAX_ATTEMPTS", "1000"],
    ] as const) {
      const request = new Request<unknown, IncomingRequestCfProperties>(`https://amp.test${dataset.base}/deploy`, {
        method: "POST",
        headers: { authorization: "Bearer test-admin-token", "content-type": "application/json" },
        body: JSON.stringify({ end_block: 9 }),
      });
      const ctx = createExecutionContext();
      const res = await worker.fetch(request, { ...env, [name]: value }, ctx);
      await waitOnExecutionContext(ctx);
      const message = await expectError(res, 500, "SCHEDULER_ERROR");
      expect(message).toContain(name);
      expect(message).toContain(JSON.stringify(value));
    }
    await sleep(500);
    expect(await jobIds()).toEqual(before);
    expect(await locationsOf(dataset)).toEqual([]);
  });
});
