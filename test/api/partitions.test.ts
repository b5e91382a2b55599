/**
 * Partitions over seeded rows: the listing (statuses, pages), invalidation (what stops counting: canonical
 * files, progress; who, when and why in the row and the writer's timeline; derived tables reading the table;
 * repeated and concurrent requests), rebuild's ranges, and the error and auth cases. Jobs that really extract a
 * rebuild are test/e2e/partitions.test.ts.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { jobRunnerObject } from "../../durable-objects/job-runner";
import type { RunnerJob } from "../../durable-objects/runner-storage";
import { describe, expect, it } from "vitest";
import { recordChainHead } from "../../src/store/chain-heads";
import { db, seedFile, seedJob, seedLocation } from "../support/workerd/seed-rows";
import { api, expectError, postJson, READ, withoutToken } from "./api-client";
import { canonicalOf, registerWithLocation, derivedManifest, rawManifest, register } from "./registry-support";

const BASE = "/datasets/_/d/versions/1.0.0/tables/blocks/partitions";
const hash = (tag: string) => `0x${tag.repeat(64).slice(0, 64)}`;

interface PartitionBody {
  start: number;
  end: number;
  status: string;
  files: number;
  rows: number;
  bytes: number;
  end_hash: string | null;
  invalidation?: { id: number; reason: string; requested_by: string };
}
interface PartitionsBody {
  location_id: number | null;
  target_end: number | null;
  partitions: PartitionBody[];
  next_cursor?: number;
}
interface InvalidateBody {
  invalidations: { id: number; table: string; manifest_hash: string; location_id: number; start: number; end: number; reason: string; requested_by: string; cause_id?: number; taken: { start: number; end: number }[] }[];
}

/** `_/d@1.0.0`: blocks 0..=29 in three linked files, a reorg's losing 10..=19, nothing 30..=39, then 40..=49. */
async function seedTable() {
  const { manifestHash, job, location } = await registerWithLocation("d");
  await seedFile(location, 0, 9, { hash: hash("a") });
  await seedFile(location, 10, 19, { hash: hash("b"), prevHash: hash("a") });
  await seedFile(location, 10, 19, { hash: hash("c"), prevHash: hash("a") });
  await seedFile(location, 20, 29, { hash: hash("d"), prevHash: hash("c") });
  await seedFile(location, 40, 49, { hash: hash("f"), prevHash: hash("e") });
  return { manifestHash, job, location };
}

const shape = (body: PartitionsBody) => body.partitions.map((p) => `${p.status} ${p.start}..${p.end}`);

async function partitions(query = ""): Promise<PartitionsBody> {
  const res = await api(`${BASE}${query}`, { headers: READ });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

async function invalidate(body: unknown, path = BASE): Promise<InvalidateBody> {
  const res = await postJson(`${path}/invalidate`, body);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

/** Waits until a job the test deployed is terminal. */
async function settled(jobId: number): Promise<string> {
  for (let tries = 0; tries < 200; tries++) {
    const { status } = await (await api(`/jobs/${jobId}`)).json<{ status: string }>();
    if (["STOPPED", "FAILED", "COMPLETED"].includes(status)) return status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`job ${jobId} did not settle`);
}

describe("GET .../tables/{table}/partitions", () => {
  it("lists materialized, orphaned and missing partitions in block order", async () => {
    const { location } = await seedTable();
    const body = await partitions();
    expect(body.location_id).toBe(location.id);
    // Its job (end_block "100", no runner state) heads to 100: the blocks after the last file are missing too.
    expect(body.target_end).toBe(100);
    expect(shape(body)).toEqual([
      "materialized 0..9",
      "materialized 10..19",
      "orphaned 10..19",
      "materialized 20..29",
      "missing 30..39",
      "materialized 40..49",
      "missing 50..100",
    ]);
    expect(body.partitions[0]).toEqual({ start: 0, end: 9, status: "materialized", files: 1, rows: 10, bytes: "parquet 0-9".length, end_hash: hash("a") });
    expect(body.partitions[4]).toEqual({ start: 30, end: 39, status: "missing", files: 0, rows: 0, bytes: 0, end_hash: null });
  });

  it("pages by start block, never splitting partitions that start at one block", async () => {
    await seedTable();
    const first = await partitions("?limit=2");
    expect(shape(first)).toEqual(["materialized 0..9"]);
    expect(first.next_cursor).toBe(10);
    const second = await partitions(`?limit=2&from_block=${first.next_cursor}`);
    expect(shape(second)).toEqual(["materialized 10..19", "orphaned 10..19"]);
    const rest = await partitions(`?limit=10&from_block=${second.next_cursor}`);
    expect(shape(rest)).toEqual(["materialized 20..29", "missing 30..39", "materialized 40..49", "missing 50..100"]);
    expect(rest.next_cursor).toBeUndefined();
  });

  it("is empty before the first deploy", async () => {
    await register("_", "d", rawManifest(), "1.0.0");
    expect(await partitions()).toMatchObject({ location_id: null, target_end: null, partitions: [] });
  });

  it("heads where the manifest's chain head was last read when no job of it is known, and ends with the last file when nothing is", async () => {
    const manifest = rawManifest();
    const { hash: manifestHash } = await canonicalOf(manifest);
    await register("_", "d", manifest, "1.0.0");
    // A location no job wrote (its jobs deleted: the writer is null), with one file.
    const location = await seedLocation({ active: true, manifestHash });
    await seedFile(location, 0, 9, { hash: hash("a") });
    expect(await partitions()).toMatchObject({ location_id: location.id, target_end: null });
    expect(shape(await partitions())).toEqual(["materialized 0..9"]);
    await recordChainHead(db(), { manifestHash, network: "anvil", head: 39 });
    const body = await partitions();
    expect(body.target_end).toBe(39);
    expect(shape(body)).toEqual(["materialized 0..9", "missing 10..39"]);
  });

  it("keeps heading where the table's last job was going after a rebuild-only job of a few ranges", async () => {
    await seedTable();
    await invalidate({ start: 12, end: 12, reason: "x" });
    const res = await postJson(`${BASE}/rebuild`, { start: 10, end: 19 });
    expect(res.status).toBe(202);
    const { job_id } = await res.json<{ job_id: number }>();
    // The rebuild job (end_block "19") is the location's writer now; it fails without a provider.
    await settled(job_id);
    const body = await partitions();
    expect(body.target_end).toBe(100);
    expect(shape(body).at(-1)).toBe("missing 50..100");
  });

  it("answers 404 for an unknown dataset, revision or table, 400 for a bad path or page", async () => {
    await seedTable();
    await expectError(await api("/datasets/_/nope/versions/1.0.0/tables/blocks/partitions"), 404, "DATASET_NOT_FOUND");
    await expectError(await api("/datasets/_/d/versions/9.0.0/tables/blocks/partitions"), 404, "DATASET_NOT_FOUND");
    await expectError(await api("/datasets/_/d/versions/1.0.0/tables/nothing/partitions"), 404, "TABLE_NOT_FOUND");
    await expectError(await api("/datasets/_/d/versions/1.0.0/tables/Blocks/partitions"), 400, "INVALID_PATH");
    await expectError(await api(`${BASE}?limit=0`), 400, "LIMIT_INVALID");
    await expectError(await api(`${BASE}?limit=1001`), 400, "LIMIT_TOO_LARGE");
    await expectError(await api(`${BASE}?from_block=-1`), 400, "INVALID_QUERY_PARAMETERS");
    await expectError(await withoutToken(BASE), 401, "UNAUTHORIZED");
  });
});

describe("POST .../partitions/invalidate", () => {
  it("takes the files holding the range out of the chain, progress and file listing, recording who, when and why", async () => {
    const { job, location } = await seedTable();
    const body = await invalidate({ start: 15, end: 15, reason: "provider served a stale branch" });
    expect(body.invalidations).toHaveLength(1);
    expect(body.invalidations[0]).toMatchObject({
      table: "blocks",
      location_id: location.id,
      start: 15,
      end: 15,
      reason: "provider served a stale branch",
      requested_by: "admin",
      taken: [{ start: 10, end: 19 }],
    });
    expect(shape(await partitions())).toEqual([
      "materialized 0..9",
      "invalidated 10..19",
      "materialized 20..29",
      "missing 30..39",
      "materialized 40..49",
      "missing 50..100",
    ]);
    const files = await (await api("/datasets/_/d/versions/1.0.0/tables/blocks/files")).json<{ files: { start_block: number }[] }>();
    expect(files.files.map((f) => f.start_block)).toEqual([0]);
    const progress = await (await api("/datasets/_/d/versions/1.0.0/tables/blocks/progress")).json<{ current_block: number; files_count: number }>();
    expect(progress).toMatchObject({ start_block: 0, current_block: 9, files_count: 1 });
    const events = await (await api(`/jobs/${job.id}/events`)).json<{ events: { kind: string; detail: Record<string, unknown> }[] }>();
    expect(events.events.at(-1)).toMatchObject({
      kind: "partition_invalidated",
      detail: { table: "blocks", location_id: location.id, range: { start: 15, end: 15 }, reason: "provider served a stale branch", requested_by: "admin" },
    });
    // Nothing is deleted.
    expect((await env.DB.prepare("SELECT count(*) AS n FROM files WHERE location_id = ?").bind(location.id).first<{ n: number }>())!.n).toBe(5);
  });

  it("records a repeated or concurrent request once", async () => {
    await seedTable();
    const request = { start: 10, end: 19, reason: "twice" };
    const [a, b] = await Promise.all([invalidate(request), invalidate(request)]);
    expect(a.invalidations.length + b.invalidations.length).toBe(1);
    expect((await invalidate(request)).invalidations).toEqual([]);
    expect((await env.DB.prepare("SELECT count(*) AS n FROM partition_invalidations").first<{ n: number }>())!.n).toBe(1);
  });

  it("invalidates the derived tables reading the table with it, naming the cause", async () => {
    const { manifestHash } = await seedTable();
    const derived = derivedManifest("SELECT block_num FROM eth.blocks", { eth: "_/d@1.0.0" });
    const { hash: derivedHash } = await canonicalOf(derived);
    await register("_", "dd", derived, "1.0.0");
    const out = await seedLocation({ active: true, table: "out", manifestHash: derivedHash });
    await seedFile(out, 0, 19, { hash: hash("c") });
    await seedFile(out, 20, 29, { hash: hash("d"), prevHash: hash("c") });
    const body = await invalidate({ start: 25, end: 25, reason: "bad data" });
    expect(body.invalidations.map((i) => [i.manifest_hash, i.table, i.taken])).toEqual([
      [manifestHash, "blocks", [{ start: 20, end: 29 }]],
      [derivedHash, "out", [{ start: 20, end: 29 }]],
    ]);
    expect(body.invalidations[1]!.cause_id).toBe(body.invalidations[0]!.id);
    expect(body.invalidations[1]!.reason).toMatch(/blocks invalidated: bad data$/);
    const dd = await (await api("/datasets/_/dd/versions/1.0.0/tables/out/partitions")).json<PartitionsBody>();
    expect(shape(dd)).toEqual(["materialized 0..19", "invalidated 20..29"]);
  });

  it("finds derived tables through the manifests their writer job pinned, not the aliases as they resolve now", async () => {
    const { manifestHash: first } = await seedTable();
    // _/d@2.0.0: another manifest of the same network (another start block), with files of its own.
    const second = rawManifest("anvil", 5);
    const { hash: secondHash } = await canonicalOf(second);
    await register("_", "d", second, "2.0.0");
    const secondBlocks = await seedLocation({ active: true, table: "blocks", manifestHash: secondHash });
    await seedFile(secondBlocks, 5, 29, { hash: hash("e") });
    const derived = derivedManifest("SELECT block_num FROM eth.blocks", { eth: "_/d@1.0.0" });
    const { hash: derivedHash } = await canonicalOf(derived);
    await register("_", "dd", derived, "1.0.0");
    const writer = await seedJob("RUNNING", { manifestHash: derivedHash });
    const out = await seedLocation({ active: true, table: "out", manifestHash: derivedHash, writer: writer.id });
    await seedFile(out, 5, 29, { hash: hash("f") });
    // Its job started reading _/d@2.0.0's manifest (as when a tag it follows moved since): that is what its files hold.
    const pinned: Partial<RunnerJob> = { jobId: writer.id, dependencies: { eth: { namespace: "_", name: "d", hash: secondHash } } };
    await runInDurableObject(jobRunnerObject(env.JOB_RUNNER, writer.id), (_runner, state) => state.storage.put("job", pinned));
    const ofFirst = await invalidate({ start: 25, end: 25, reason: "x" });
    expect(ofFirst.invalidations.map((i) => [i.manifest_hash, i.table])).toEqual([[first, "blocks"]]);
    const ofSecond = await invalidate({ start: 25, end: 25, reason: "x" }, "/datasets/_/d/versions/2.0.0/tables/blocks/partitions");
    expect(ofSecond.invalidations.map((i) => [i.manifest_hash, i.table, i.taken])).toEqual([
      [secondHash, "blocks", [{ start: 5, end: 29 }]],
      [derivedHash, "out", [{ start: 5, end: 29 }]],
    ]);
  });

  it("refuses the read token, a bad body and a bad range, and answers 404 for an unknown table", async () => {
    await seedTable();
    await expectError(await postJson(`${BASE}/invalidate`, { start: 0, end: 9, reason: "x" }, READ), 403, "FORBIDDEN");
    await expectError(await withoutToken(`${BASE}/invalidate`, { method: "POST" }), 401, "UNAUTHORIZED");
    await expectError(await postJson(`${BASE}/invalidate`, { start: 0, end: 9 }), 400, "INVALID_BODY");
    await expectError(await postJson(`${BASE}/invalidate`, { start: 0, end: 9, reason: "  " }), 400, "INVALID_BODY");
    await expectError(await postJson(`${BASE}/invalidate`, { start: "0", end: 9, reason: "x" }), 400, "INVALID_BODY");
    await expectError(await api(`${BASE}/invalidate`, { method: "POST", headers: { "content-type": "text/plain" }, body: "0..9" }), 400, "INVALID_BODY");
    await expectError(await postJson(`${BASE}/invalidate`, { start: 10, end: 9, reason: "x" }), 400, "INVALID_BLOCK_RANGE");
    await expectError(await postJson(`${BASE}/invalidate`, { start: -1, end: 9, reason: "x" }), 400, "INVALID_BLOCK_RANGE");
    await expectError(await postJson(`${BASE}/invalidate`, { start: 0.5, end: 9, reason: "x" }), 400, "INVALID_BLOCK_RANGE");
    await expectError(await postJson(`${BASE}/invalidate`, { start: 0, end: 2 ** 53, reason: "x" }), 400, "INVALID_BLOCK_RANGE");
    await expectError(await postJson("/datasets/_/d/versions/1.0.0/tables/nothing/partitions/invalidate", { start: 0, end: 9, reason: "x" }), 404, "TABLE_NOT_FOUND");
    await expectError(await postJson("/datasets/_/nope/versions/1.0.0/tables/blocks/partitions/invalidate", { start: 0, end: 9, reason: "x" }), 404, "DATASET_NOT_FOUND");
    // None of these recorded anything.
    expect((await env.DB.prepare("SELECT count(*) AS n FROM partition_invalidations").first<{ n: number }>())!.n).toBe(0);
  });
});

describe("POST .../partitions/rebuild", () => {
  it("has nothing to rebuild while everything counts, without a job", async () => {
    await seedTable();
    const none = await api(`${BASE}/rebuild`, { method: "POST" });
    expect(none.status).toBe(200);
    expect(await none.json()).toEqual({ ranges: [] });
    const materialized = await postJson(`${BASE}/rebuild`, { start: 0, end: 9 });
    expect(await materialized.json()).toEqual({ ranges: [] });
    expect((await env.DB.prepare("SELECT count(*) AS n FROM jobs").first<{ n: number }>())!.n).toBe(1);
  });

  it("deploys a job for exactly the invalidated ranges (whole files) and the missing blocks asked for", async () => {
    await seedTable();
    await invalidate({ start: 12, end: 12, reason: "x" });
    const res = await postJson(`${BASE}/rebuild`, { start: 0, end: 35 });
    expect(res.status).toBe(202);
    const body = await res.json<{ job_id: number; ranges: unknown }>();
    expect(body.ranges).toEqual([{ start: 10, end: 19 }, { start: 30, end: 35 }]);
    const job = await env.DB.prepare("SELECT descriptor FROM jobs WHERE id = ?").bind(body.job_id).first<{ descriptor: string }>();
    expect(JSON.parse(job!.descriptor).Dump).toMatchObject({ end_block: "35", rebuild: [{ start: 10, end: 19 }, { start: 30, end: 35 }] });
    const events = await (await api(`/jobs/${body.job_id}/events`)).json<{ events: { kind: string; detail: Record<string, unknown> }[] }>();
    expect(events.events.map((e) => e.kind)).toContain("rebuild_requested");
  });

  it("rebuilds the derived tables invalidated with it, handed to their manifest's job, and only where they overlap", async () => {
    const { manifestHash } = await seedTable();
    const derived = derivedManifest("SELECT block_num FROM eth.blocks", { eth: "_/d@1.0.0" });
    const { hash: derivedHash } = await canonicalOf(derived);
    await register("_", "dd", derived, "1.0.0");
    // The derived manifest's job, scheduled and not started (a started one would run on past the test): it takes the ranges for its start.
    const derivedJob = await seedJob("SCHEDULED", { manifestHash: derivedHash });
    const out = await seedLocation({ active: true, table: "out", manifestHash: derivedHash, datasetName: "dd", writer: derivedJob.id });
    await seedFile(out, 0, 19, { hash: hash("c") });
    await seedFile(out, 20, 29, { hash: hash("d"), prevHash: hash("c") });
    await invalidate({ start: 25, end: 25, reason: "x" });
    // An invalidation of the derived table alone, elsewhere: not the raw rebuild's business.
    await invalidate({ start: 3, end: 3, reason: "y" }, "/datasets/_/dd/versions/1.0.0/tables/out/partitions");
    const res = await postJson(`${BASE}/rebuild`, {});
    expect(res.status).toBe(202);
    const body = await res.json<{ job_id: number; ranges: unknown; dependants: unknown[] }>();
    expect(body.ranges).toEqual([{ start: 20, end: 29 }]);
    expect(body.dependants).toEqual([
      { dataset_namespace: "_", dataset_name: "dd", manifest_hash: derivedHash, table: "out", location_id: out.id, job_id: derivedJob.id, ranges: [{ start: 20, end: 29 }] },
    ]);
    const held = await runInDurableObject(jobRunnerObject(env.JOB_RUNNER, derivedJob.id), (_runner, state) => state.storage.get("pendingRebuild"));
    expect(held).toEqual([{ start: 20, end: 29 }]);
    const events = await (await api(`/jobs/${derivedJob.id}/events`)).json<{ events: { kind: string; detail: Record<string, unknown> }[] }>();
    expect(events.events.find((e) => e.kind === "rebuild_requested")?.detail).toMatchObject({ table: "out", after: { manifest_hash: manifestHash, table: "blocks" } });
    // The raw table's own rebuild names no dependant when none was invalidated where it rebuilds.
    const again = await postJson(`${BASE}/rebuild`, { start: 30, end: 35 });
    const second = await again.json<{ job_id: number }>();
    expect(second).toMatchObject({ ranges: [{ start: 30, end: 35 }], dependants: [] });
    // The raw rebuild jobs fail without a provider; their runners must be done before the test's storage is popped.
    for (const jobId of [body.job_id, second.job_id]) await settled(jobId);
  });

  it("refuses the read token, half a range and a bad range", async () => {
    await seedTable();
    await expectError(await postJson(`${BASE}/rebuild`, {}, READ), 403, "FORBIDDEN");
    await expectError(await postJson(`${BASE}/rebuild`, { start: 5 }), 400, "INVALID_BODY");
    await expectError(await postJson(`${BASE}/rebuild`, { start: 9, end: 5 }), 400, "INVALID_BLOCK_RANGE");
    await expectError(await postJson(`${BASE}/rebuild`, { parallelism: 0 }), 400, "INVALID_BODY");
    await expectError(await postJson("/datasets/_/d/versions/1.0.0/tables/nothing/partitions/rebuild", {}), 404, "TABLE_NOT_FOUND");
    expect((await env.DB.prepare("SELECT count(*) AS n FROM jobs").first<{ n: number }>())!.n).toBe(1);
  });
});
