/**
 * Deploy and stop at the API's edge: validation, 404s, the answer while a
 * job of the manifest is active, and stops that the runner settles without
 * running anything. Whole jobs (deploy -> COMPLETED, stops during steps) are
 * in test/e2e, where alarms and queue deliveries may
 * outlive a test.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../src/api/errors";
import { listJobEvents } from "../../src/store/job-events";
import { getJob } from "../../src/store/jobs";
import { db, seedJob } from "../support/workerd/seed-rows";
import { api, expectError, postJson, READ, withoutToken } from "./api-client";
import { prepareManifest } from "../../src/domain/manifest/parse";
import { registerDatasetWithManifest } from "../../src/store/datasets";
import { canonicalOf, derivedManifest, rawManifest, register } from "./registry-support";

const DEPLOY = "/datasets/_/d/versions/1.0.0/deploy";

/** Every job and location row, to show that a refused deploy scheduled nothing. */
async function scheduled(): Promise<unknown> {
  const rows = async (table: string) => (await env.DB.prepare(`SELECT * FROM ${table} ORDER BY id`).all()).results;
  return { jobs: await rows("jobs"), locations: await rows("locations"), events: await rows("job_events") };
}

describe("POST /datasets/{namespace}/{name}/versions/{revision}/deploy", () => {
  it("answers the SCHEDULED or RUNNING job of the same manifest, whatever the body, and changes nothing", async () => {
    const { hash } = await canonicalOf(rawManifest());
    await register("_", "d", rawManifest(), "1.0.0");
    for (const status of ["SCHEDULED", "RUNNING"] as const) {
      const job = await seedJob(status, { manifestHash: hash });
      const before = await scheduled();
      for (const revision of ["1.0.0", "latest", "dev", hash]) {
        const res = await postJson(`/datasets/_/d/versions/${revision}/deploy`, { end_block: "latest", parallelism: 4 });
        expect(res.status, revision).toBe(202);
        expect(await res.json()).toEqual({ job_id: job.id });
      }
      expect(await scheduled()).toEqual(before);
      await env.DB.prepare("UPDATE jobs SET status = 'COMPLETED' WHERE id = ?").bind(job.id).run();
    }
  });

  describe("refuses a bad body with 400 INVALID_BODY and schedules nothing", () => {
    const bodies: [string, string][] = [
      ["parallelism 0", '{"parallelism": 0}'],
      ["negative parallelism", '{"parallelism": -1}'],
      ["fractional parallelism", '{"parallelism": 1.5}'],
      ["parallelism as a string", '{"parallelism": "2"}'],
      ["parallelism null", '{"parallelism": null}'],
      ["parallelism over 65535", '{"parallelism": 65536}'],
      ["parallelism too large for JSON", '{"parallelism": 1e400}'],
      ["end_block in capitals", '{"end_block": "Latest"}'],
      ["end_block with a leading zero", '{"end_block": "01"}'],
      ["end_block \"-0\"", '{"end_block": "-0"}'],
      ["end_block -0", '{"end_block": -0}'],
      ["end_block with a plus", '{"end_block": "+5"}'],
      ["fractional end_block", '{"end_block": 1.5}'],
      ["end_block above 2^53", '{"end_block": 9007199254740993}'],
      ["end_block too large for JSON", '{"end_block": 1e400}'],
      ["end_block true", '{"end_block": true}'],
      ["end_block as an array", '{"end_block": [5]}'],
      ["end_block as an object", '{"end_block": {"block": 5}}'],
      ["an array body", "[]"],
      ["a string body", '"latest"'],
      ["a null body", "null"],
      ["malformed JSON", '{"end_block":'],
      ["a JSON content type with no bytes", ""],
    ];
    it.each(bodies)("%s", async (_, body) => {
      await register("_", "d", rawManifest(), "1.0.0");
      const before = await scheduled();
      await expectError(await api(DEPLOY, { method: "POST", headers: { "content-type": "application/json" }, body }), 400, "INVALID_BODY");
      expect(await scheduled()).toEqual(before);
    });

    it("a body that is not JSON", async () => {
      await register("_", "d", rawManifest(), "1.0.0");
      await expectError(await api(DEPLOY, { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" }), 400, "INVALID_BODY");
      expect(await scheduled()).toEqual({ jobs: [], locations: [], events: [] });
    });
  });

  it("reads the body whatever the case of its JSON content type (APPLICATION/JSON was a 500)", async () => {
    await register("_", "fh", { ...rawManifest(), kind: "firehose" }, "1.0.0");
    for (const type of ["APPLICATION/JSON", "Application/Json; charset=utf-8"]) {
      const res = await api("/datasets/_/fh/versions/1.0.0/deploy", { method: "POST", headers: { "content-type": type }, body: '{"end_block": 5, "parallelism": 3}' });
      expect(res.status, type).toBe(202);
      const { job_id } = await res.json<{ job_id: number }>();
      const job = await (await api(`/jobs/${job_id}`)).json<{ descriptor: { Dump: { end_block: string; max_writers: number } } }>();
      expect(job.descriptor.Dump, type).toMatchObject({ end_block: "5", max_writers: 3 });
    }
    await expectError(await api(DEPLOY, { method: "POST", headers: { "content-type": "APPLICATION/JSON" }, body: '{"parallelism": 0}' }), 400, "INVALID_BODY");
  });

  it("refuses a derived manifest that cannot run incrementally with 400 NON_INCREMENTAL_QUERY, scheduling nothing", async () => {
    // Registration refuses such a manifest, so it is stored the way one registered before that check would be.
    await register("_", "eth", rawManifest(), "1.0.0");
    const prepared = await prepareManifest(derivedManifest("SELECT block_num FROM eth.blocks ORDER BY block_num", { eth: "_/eth@1.0.0" }));
    if (!prepared.ok) throw new Error(prepared.message);
    await registerDatasetWithManifest(db(), env.BUCKET, prepared, { dataset: { namespace: "_", name: "d" }, version: "1.0.0" });
    const before = await scheduled();
    const res = await postJson(DEPLOY, { end_block: "latest" });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error_code: "NON_INCREMENTAL_QUERY", error_message: "In table 'out': query contains non-incremental operation: Sort" });
    expect(await scheduled()).toEqual(before);
  });

  it("answers 404 DATASET_NOT_FOUND for an unknown dataset or revision", async () => {
    await register("_", "d", rawManifest(), "1.0.0");
    for (const path of ["/datasets/_/nothing/versions/1.0.0/deploy", "/datasets/_/d/versions/2.0.0/deploy", `/datasets/_/d/versions/${"0".repeat(64)}/deploy`]) {
      await expectError(await postJson(path, { end_block: 10 }), 404, "DATASET_NOT_FOUND");
    }
    expect(await scheduled()).toEqual({ jobs: [], locations: [], events: [] });
  });

  it("answers 202 for a kind that cannot be extracted, and the job fails at once with the kind's reason", async () => {
    const firehose = { ...rawManifest(), kind: "firehose" };
    await register("_", "fh", firehose, "1.0.0");
    // A derived dataset runs (test/e2e/derived.test.ts); firehose is the kind left that cannot.
    for (const [name, reason] of [["fh", /^firehose datasets cannot be extracted from a Worker: .*gRPC/]] as const) {
      const res = await postJson(`/datasets/_/${name}/versions/1.0.0/deploy`, {});
      expect(res.status, name).toBe(202);
      const { job_id } = await res.json<{ job_id: number }>();
      const job = await (await api(`/jobs/${job_id}`)).json<{ status: string; failure_reason?: string; provider?: string }>();
      expect(job.status, name).toBe("FAILED");
      expect(job.failure_reason, name).toMatch(reason);
      expect(job.provider, name).toBeUndefined();
      const events = await listJobEvents(db(), job_id, { limit: 10 });
      expect(events.items.map((event) => event.kind)).toEqual(["scheduled", "failed"]);
      expect(events.items[1]!.detail).toEqual({ reason: job.failure_reason });
    }
  });

  it.each<[string, ErrorCode]>([
    ["/datasets/A/d/versions/1.0.0/deploy", "INVALID_PATH"],
    ["/datasets/_/d/versions/v1.0.0/deploy", "INVALID_PATH"],
    ["/datasets/_/d/versions/%ZZ/deploy", "INVALID_PATH"],
  ])("answers %s with 400 %s", async (path, code) => {
    await expectError(await postJson(path, {}), 400, code);
  });

  it("answers 401 without a token and 403 to the read token, and schedules nothing", async () => {
    await register("_", "d", rawManifest(), "1.0.0");
    await expectError(await withoutToken(DEPLOY, { method: "POST" }), 401, "UNAUTHORIZED");
    await expectError(await postJson(DEPLOY, { end_block: 10 }, { authorization: "Bearer wrong" }), 401, "UNAUTHORIZED");
    await expectError(await postJson(DEPLOY, { end_block: 10 }, READ), 403, "FORBIDDEN");
    expect(await scheduled()).toEqual({ jobs: [], locations: [], events: [] });
  });
});

describe("PUT /jobs/{id}/stop", () => {
  const stop = (id: number | string, headers: Record<string, string> = {}) => api(`/jobs/${id}/stop`, { method: "PUT", headers });
  const eventKinds = async (id: number) => (await listJobEvents(db(), id, { limit: 100 })).items.map((event) => event.kind);

  it("stops a SCHEDULED job whose runner never took charge: STOPPED at once, through every stage", async () => {
    const job = await seedJob("SCHEDULED");
    const res = await stop(job.id);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    expect((await getJob(db(), job.id))?.status).toBe("STOPPED");
    expect(await eventKinds(job.id)).toEqual(["stop_requested", "stopping", "stopped"]);
  });

  it.each(["STOP_REQUESTED", "STOPPING", "COMPLETED", "STOPPED", "FAILED"] as const)(
    "answers 200 and changes nothing for a %s job (a stop under way, or an ended job)",
    async (status) => {
      const job = await seedJob(status);
      expect((await stop(job.id)).status).toBe(200);
      expect(await getJob(db(), job.id)).toMatchObject({ status, updatedAt: job.updatedAt });
      expect(await eventKinds(job.id)).toEqual([]);
    },
  );

  it("answers 500 UNEXPECTED_STATE_CONFLICT for a job in a status a stop cannot handle", async () => {
    const job = await seedJob("UNKNOWN");
    await expectError(await stop(job.id), 500, "UNEXPECTED_STATE_CONFLICT");
    expect((await getJob(db(), job.id))?.status).toBe("UNKNOWN");
  });

  it("answers 404 JOB_NOT_FOUND for an absent job and 400 INVALID_JOB_ID for a bad id", async () => {
    await expectError(await stop(4242), 404, "JOB_NOT_FOUND");
    for (const id of ["0", "-1", "abc", "1.5", "9007199254740992"]) await expectError(await stop(id), 400, "INVALID_JOB_ID");
  });

  it("answers 401 without a token and 403 to the read token, and changes nothing", async () => {
    const job = await seedJob("SCHEDULED");
    await expectError(await withoutToken(`/jobs/${job.id}/stop`, { method: "PUT" }), 401, "UNAUTHORIZED");
    await expectError(await stop(job.id, { authorization: "Bearer wrong" }), 401, "UNAUTHORIZED");
    await expectError(await stop(job.id, READ), 403, "FORBIDDEN");
    expect((await getJob(db(), job.id))?.status).toBe("SCHEDULED");
  });
});
