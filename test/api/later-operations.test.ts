/**
 * The read operations Amp added after the seed spec (amp-later B.3, B.5, B.2): GET /manifests, a job's
 * progress and one of its events, a dataset revision's jobs, the sync-progress alias, and deploy's
 * `worker_id` and `verify` at the API's edge.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../src/api/errors";
import { appendJobEvent } from "../../src/store/job-events";
import { saveLocationProgress } from "../../src/store/location-progress";
import { registerWorker } from "../../src/store/workers";
import { db, seedJob, seedLocation } from "../support/workerd/seed-rows";
import { api, expectError, postJson, READ, withoutToken } from "./api-client";
import { canonicalOf, derivedManifest, rawManifest, register } from "./registry-support";

const INFO = { version: "v1", commit_sha: "unknown", commit_timestamp: "unknown", build_date: "unknown" };

describe("GET /manifests", () => {
  it("lists every manifest by hash with its kind and how many datasets link it", async () => {
    const raw = await canonicalOf(rawManifest());
    const derived = await canonicalOf(derivedManifest("SELECT block_num FROM eth.blocks", { eth: "_/eth@1.0.0" }));
    await register("_", "eth", rawManifest(), "1.0.0");
    await register("_", "eth2", rawManifest(), "1.0.0");
    await register("_", "d", derivedManifest("SELECT block_num FROM eth.blocks", { eth: "_/eth@1.0.0" }), "1.0.0");
    const unlinked = await postJson("/manifests", rawManifest("other"));
    const { hash: unlinkedHash } = await unlinked.json<{ hash: string }>();
    const res = await api("/manifests");
    expect(res.status).toBe(200);
    const expected = [
      { hash: raw.hash, kind: "evm-rpc", dataset_count: 2 },
      { hash: derived.hash, kind: "manifest", dataset_count: 1 },
      { hash: unlinkedHash, kind: "evm-rpc", dataset_count: 0 },
    ].sort((a, b) => a.hash.localeCompare(b.hash));
    expect(await res.json()).toEqual({ manifests: expected });
  });

  it("answers an empty list, to the read token too, and 401 without a token", async () => {
    expect(await (await api("/manifests", { headers: READ })).json()).toEqual({ manifests: [] });
    await expectError(await withoutToken("/manifests"), 401, "UNAUTHORIZED");
  });
});

describe("GET /jobs/{id}/progress of a FAILED job", () => {
  it("carries the detail of the job's latest failed event, as the original's ERROR detail", async () => {
    const job = await seedJob("FAILED", { failureReason: "boom" });
    await appendJobEvent(db(), job.id, { kind: "failed", detail: { reason: "first" } });
    await appendJobEvent(db(), job.id, { kind: "failed", detail: { reason: "boom" } });
    expect(await (await api(`/jobs/${job.id}/progress`, { headers: READ })).json()).toMatchObject({
      job_id: job.id,
      job_status: "FAILED",
      tables: {},
      detail: { reason: "boom" },
    });
    const running = await seedJob("RUNNING");
    expect(await (await api(`/jobs/${running.id}/progress`)).json()).not.toHaveProperty("detail");
  });
});

describe("GET /jobs/{id}/events/{event_id}", () => {
  it("answers one event with the original's field names; detail absent when empty", async () => {
    const job = await seedJob("RUNNING");
    const running = await appendJobEvent(db(), job.id, { kind: "running" });
    const step = await appendJobEvent(db(), job.id, { kind: "step_started", detail: { range: { start: 0, end: 9 }, attempt: 1 } });
    const body = await (await api(`/jobs/${job.id}/events/${step}`)).json<Record<string, unknown>>();
    expect(body).toMatchObject({
      id: step,
      job_id: job.id,
      node_id: `jobrunner-${job.id}`,
      event_type: "STEP_STARTED",
      detail: { range: { start: 0, end: 9 }, attempt: 1 },
    });
    expect(typeof body.created_at).toBe("string");
    const plain = await (await api(`/jobs/${job.id}/events/${running}`, { headers: READ })).json();
    expect(plain).not.toHaveProperty("detail");
    expect(plain).toMatchObject({ id: running, event_type: "RUNNING" });
  });

  it("answers 404 EVENT_NOT_FOUND for another job's event, JOB_NOT_FOUND, INVALID_JOB_ID for either id, and 401", async () => {
    const job = await seedJob("RUNNING");
    const other = await seedJob("RUNNING");
    const foreign = await appendJobEvent(db(), other.id, { kind: "running" });
    await expectError(await api(`/jobs/${job.id}/events/${foreign}`), 404, "EVENT_NOT_FOUND");
    await expectError(await api(`/jobs/${job.id}/events/999999`), 404, "EVENT_NOT_FOUND");
    await expectError(await api(`/jobs/31337/events/${foreign}`), 404, "JOB_NOT_FOUND");
    for (const path of [`/jobs/x/events/1`, `/jobs/${job.id}/events/0`, `/jobs/${job.id}/events/abc`]) {
      await expectError(await api(path), 400, "INVALID_JOB_ID");
    }
    await expectError(await withoutToken(`/jobs/${job.id}/events/${foreign}`), 401, "UNAUTHORIZED");
  });
});

describe("GET /datasets/{namespace}/{name}/versions/{revision}/jobs", () => {
  it("lists the jobs of this dataset and manifest, oldest first, and no others", async () => {
    const { hash } = await canonicalOf(rawManifest());
    await register("_", "d", rawManifest(), "1.0.0");
    const first = await seedJob("COMPLETED", { manifestHash: hash });
    const second = await seedJob("RUNNING", { manifestHash: hash });
    await seedJob("RUNNING");
    // seedJob's descriptor names _/eth_rpc: a job of the same manifest for another dataset name is not listed.
    await env.DB.prepare(`UPDATE jobs SET descriptor = json_set(descriptor, '$.Dump.dataset_name', 'd') WHERE id IN (?, ?)`).bind(first.id, second.id).run();
    await seedJob("COMPLETED", { manifestHash: hash });
    for (const revision of ["1.0.0", "latest", hash]) {
      const body = await (await api(`/datasets/_/d/versions/${revision}/jobs`, { headers: READ })).json<{ jobs: { id: number; status: string }[] }>();
      expect(body.jobs.map((job) => [job.id, job.status]), revision).toEqual([
        [first.id, "COMPLETED"],
        [second.id, "RUNNING"],
      ]);
    }
  });

  it("answers 404 DATASET_NOT_FOUND, 400 INVALID_PATH and 401", async () => {
    await register("_", "d", rawManifest(), "1.0.0");
    await expectError(await api("/datasets/_/d/versions/2.0.0/jobs"), 404, "DATASET_NOT_FOUND");
    await expectError(await api("/datasets/_/D/versions/1.0.0/jobs"), 400, "INVALID_PATH");
    await expectError(await withoutToken("/datasets/_/d/versions/1.0.0/jobs"), 401, "UNAUTHORIZED");
  });
});

describe("GET /datasets/{namespace}/{name}/versions/{revision}/sync-progress", () => {
  it("answers the progress figures, leaving out the fields that /progress answers as null", async () => {
    const { hash } = await canonicalOf(rawManifest());
    await register("_", "d", rawManifest(), "1.0.0");
    const job = await seedJob("RUNNING", { manifestHash: hash });
    const blocks = await seedLocation({ active: true, writer: job.id, table: "blocks", manifestHash: hash });
    await seedLocation({ active: true, writer: job.id, table: "logs", manifestHash: hash });
    await saveLocationProgress(db(), job.id, blocks.id, { startBlock: 0, currentBlock: 99, filesCount: 2, totalSizeBytes: 4096 });
    const progress = await (await api("/datasets/_/d/versions/1.0.0/progress")).json<{ tables: Record<string, unknown>[] }>();
    const res = await api("/datasets/_/d/versions/1.0.0/sync-progress", { headers: READ });
    expect(res.status).toBe(200);
    const alias = await res.json<{ tables: Record<string, unknown>[] }>();
    expect(alias).toEqual({
      dataset_namespace: "_",
      dataset_name: "d",
      revision: "1.0.0",
      manifest_hash: hash,
      tables: [
        { table_name: "blocks", start_block: 0, current_block: 99, job_id: job.id, job_status: "RUNNING", files_count: 2, total_size_bytes: 4096 },
        { table_name: "logs", job_id: job.id, job_status: "RUNNING", files_count: 0, total_size_bytes: 0 },
        { table_name: "transactions", files_count: 0, total_size_bytes: 0 },
      ],
    });
    // The same figures as /progress once its nulls are dropped.
    const withoutNulls = progress.tables.map((table) => Object.fromEntries(Object.entries(table).filter(([, value]) => value !== null)));
    expect(alias.tables).toEqual(withoutNulls);
  });

  it("answers 404 DATASET_NOT_FOUND, 400 INVALID_PATH and 401 like /progress", async () => {
    await expectError(await api("/datasets/_/d/versions/1.0.0/sync-progress"), 404, "DATASET_NOT_FOUND");
    await expectError(await api("/datasets/_/d/versions/v1/sync-progress"), 400, "INVALID_PATH");
    await expectError(await withoutToken("/datasets/_/d/versions/1.0.0/sync-progress"), 401, "UNAUTHORIZED");
  });
});

describe("deploy's worker_id and verify", () => {
  const DEPLOY = "/datasets/_/d/versions/1.0.0/deploy";
  const jobCount = async () => (await env.DB.prepare("SELECT count(*) AS n FROM jobs").first<{ n: number }>())!.n;

  it.each<[string, unknown, number, ErrorCode]>([
    ["a malformed selector", { worker_id: "a*b*" }, 400, "INVALID_BODY"],
    ["a selector that is no node id", { worker_id: "1abc" }, 400, "INVALID_BODY"],
    ["a worker_id that is not a string", { worker_id: 5 }, 400, "INVALID_BODY"],
    ["verify that is not a boolean", { verify: "yes" }, 400, "INVALID_BODY"],
    ["an exact id of a worker that is not live", { worker_id: "consumer-stale" }, 400, "WORKER_NOT_AVAILABLE"],
    ["an exact id nobody registered", { worker_id: "consumer-nobody" }, 400, "WORKER_NOT_AVAILABLE"],
    ["a glob no live worker matches (the original: 500 SCHEDULER_ERROR)", { worker_id: "queue-*" }, 400, "WORKER_NOT_AVAILABLE"],
  ])("refuses %s and schedules nothing", async (_, body, status, code) => {
    await register("_", "d", rawManifest(), "1.0.0");
    await registerWorker(db(), "consumer-stale", INFO);
    await env.DB.prepare("UPDATE workers SET heartbeat_at = '2020-01-01T00:00:00.000Z' WHERE node_id = 'consumer-stale'").run();
    await registerWorker(db(), "consumer-live", INFO);
    await expectError(await postJson(DEPLOY, body), status, code);
    expect(await jobCount()).toBe(0);
  });

  it("refuses the read token with 403", async () => {
    await register("_", "d", rawManifest(), "1.0.0");
    await expectError(await postJson(DEPLOY, { worker_id: "consumer-*", verify: true }, READ), 403, "FORBIDDEN");
    expect(await jobCount()).toBe(0);
  });
});
