/**
 * Garbage collection: the dry run, POST /gc's background run and its status, what is collected (a reorg's
 * losing branch, replaced ranges, pruned files, objects without rows, deleted revisions' objects) and what never
 * is (any file of a canonical chain, files a running job may still link, anything younger than the grace period).
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { chains } from "../../src/domain/canonical-chain";
import { listFileSegments } from "../../src/store/files";
import { dailyGcHour, runScheduledGc } from "../../src/store/gc-runs";
import { fileObjectKey, locationObjectPrefix } from "../../src/store/r2-layout";
import { db, fileMetadata, seedJob, seedLocation } from "../support/workerd/seed-rows";
import { api, del, expectError, postJson, READ, withoutToken } from "./api-client";
import { rawManifest, register } from "./registry-support";

const OLD = "2025-11-06T12:00:02.000Z";

const h = (block: number, branch: number): string => `0x${block.toString(16).padStart(8, "0")}${branch.toString(16).padStart(56, "0")}`;

interface FileSpec {
  branch?: number;
  parent?: number;
  createdAt?: string;
}

/** A file row of blocks start..=end on `branch` (its start's parent on `parent`), with its object. */
async function file(location: { id: number; path: string }, start: number, end: number, spec: FileSpec = {}): Promise<{ id: number; key: string }> {
  const branch = spec.branch ?? 0;
  const fileName = `${String(start).padStart(9, "0")}-${String(end).padStart(9, "0")}-${h(end, branch).slice(2, 10)}${branch}.parquet`;
  const key = fileObjectKey(location.path, fileName);
  const object = (await env.BUCKET.put(key, `blocks ${start}-${end} on ${branch}`))!;
  const row = await env.DB.prepare(
    `INSERT INTO files (location_id, file_name, range_start, range_end, end_hash, prev_hash, row_count, object_size, metadata, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
  )
    .bind(location.id, fileName, start, end, h(end, branch), start === 0 ? null : h(start - 1, spec.parent ?? branch), end - start + 1, object.size, JSON.stringify(fileMetadata(fileName, start, end)), spec.createdAt ?? OLD)
    .first<{ id: number }>();
  return { id: row!.id, key };
}

async function keys(path: string): Promise<string[]> {
  return (await env.BUCKET.list({ prefix: locationObjectPrefix(path) })).objects.map((o) => o.key).sort();
}

async function canonicalIds(locationId: number): Promise<number[]> {
  return chains(await listFileSegments(db(), locationId))?.canonical.map((s) => s.fileId) ?? [];
}

interface Plan {
  older_than_secs: number;
  cutoff: string;
  file_rows: { count: number; bytes: number };
  objects: { count: number; bytes: number };
  by_reason: Record<string, { count: number; bytes: number }>;
  items: { reason: string; key: string; bytes: number; file_id?: number; location_id?: number }[];
}

interface Run {
  id: number;
  status: string;
  trigger: string;
  files_removed: number;
  objects_removed: number;
  bytes_removed: number;
}

async function collect(query = ""): Promise<Run> {
  const res = await api(`/gc${query}`, { method: "POST" });
  expect(res.status, await res.clone().text()).toBe(202);
  const started = await res.json<Run>();
  expect(res.headers.get("location")).toBe(`/gc/${started.id}`);
  // fetchWorker waits for the request's waitUntil work, so the run has ended by now.
  return (await api(`/gc/${started.id}`, { headers: READ })).json<Run>();
}

/**
 * A RUNNING job's active location in the middle of everything at once: a reorg at block 10 repaired by file
 * `winner` (its losing branch `loser` is garbage), a range extracted again in a longer file (`replaced`), a fresh file of the
 * repair not yet on the chain, a file beyond a gap, and a fork ending above the chain.
 */
async function busyLocation() {
  const job = await seedJob("RUNNING");
  const location = await seedLocation({ active: true, writer: job.id });
  const replaced = await file(location, 0, 4);
  const first = await file(location, 0, 9);
  const loser = await file(location, 10, 19, { branch: 1, parent: 0 });
  const winner = await file(location, 10, 19, { branch: 2, parent: 0 });
  const tip = await file(location, 20, 29, { branch: 2 });
  const fresh = await file(location, 10, 19, { branch: 3, parent: 0, createdAt: new Date().toISOString() });
  const beyondGap = await file(location, 40, 49, { branch: 2 });
  const fork = await file(location, 20, 39, { branch: 4, parent: 4 });
  return { job, location, replaced, first, loser, winner, tip, fresh, beyondGap, fork };
}

describe("GET /gc (dry run)", () => {
  it("lists what no canonical chain needs, older than the grace period, and changes nothing", async () => {
    const busy = await busyLocation();
    const chain = await canonicalIds(busy.location.id);
    expect(chain).toEqual([busy.first.id, busy.winner.id, busy.tip.id]);
    const before = await keys(busy.location.path);
    const plan = await (await api("/gc", { headers: READ })).json<Plan>();
    expect(plan.older_than_secs).toBe(86_400);
    // The replaced range and the reorg's losing branch; not the chain, not the repair's fresh file, not what lies beyond the chain's end.
    expect(plan.items.map((item) => [item.reason, item.file_id, item.key])).toEqual([
      ["superseded", busy.replaced.id, busy.replaced.key],
      ["superseded", busy.loser.id, busy.loser.key],
    ]);
    expect(plan.file_rows).toEqual({ count: 2, bytes: plan.items[0]!.bytes + plan.items[1]!.bytes });
    expect(plan.by_reason).toEqual({ superseded: plan.file_rows });
    expect(await keys(busy.location.path)).toEqual(before);
    expect(await canonicalIds(busy.location.id)).toEqual(chain);
  });

  it("takes objects without rows only once they are older than older_than", async () => {
    const location = await seedLocation();
    await file(location, 0, 9);
    const stray = fileObjectKey(location.path, "000000010-000000019-deadbeef.parquet");
    await env.BUCKET.put(stray, "a put whose row never came");
    expect((await (await api("/gc")).json<Plan>()).items).toEqual([]);
    const now = await (await api("/gc?older_than=0")).json<Plan>();
    expect(now.items).toEqual([{ reason: "unregistered", key: stray, bytes: 26, location_id: location.id }]);
    expect(now.by_reason).toEqual({ unregistered: { count: 1, bytes: 26 } });
  });

  it("answers 400 for a bad older_than, and 401 without a token", async () => {
    for (const value of ["-1", "1.5h", "soon", "24H"]) await expectError(await api(`/gc?older_than=${value}`), 400, "INVALID_QUERY_PARAMETERS");
    await expectError(await withoutToken("/gc"), 401, "UNAUTHORIZED");
  });
});

describe("POST /gc and GET /gc/{id}", () => {
  it("removes the garbage, row before object, keeps every canonical file while a job runs, and a second run removes nothing", async () => {
    const busy = await busyLocation();
    const chain = await canonicalIds(busy.location.id);
    const plan = await (await api("/gc")).json<Plan>();
    const run = await collect();
    expect(run).toMatchObject({ status: "completed", trigger: "request", files_removed: plan.file_rows.count, objects_removed: plan.objects.count });
    expect(run.bytes_removed).toBe(plan.objects.bytes);
    const left = (await listFileSegments(db(), busy.location.id)).map((s) => s.fileId);
    for (const id of [...chain, busy.fresh.id, busy.beyondGap.id, busy.fork.id]) expect(left).toContain(id);
    for (const item of plan.items) expect(await env.BUCKET.head(item.key)).toBeNull();
    expect(await canonicalIds(busy.location.id)).toEqual(chain);
    // Every remaining row still has its object.
    const rows = (await env.DB.prepare("SELECT file_name FROM files WHERE location_id = ?").bind(busy.location.id).all<{ file_name: string }>()).results;
    for (const row of rows) expect(await env.BUCKET.head(fileObjectKey(busy.location.path, row.file_name))).not.toBeNull();
    expect(await collect()).toMatchObject({ status: "completed", files_removed: 0, objects_removed: 0, bytes_removed: 0 });
  });

  it("removes the objects of a revision DELETE /revisions/{id} left, unless its path is registered again", async () => {
    const gone = await seedLocation();
    await file(gone, 0, 9);
    await file(gone, 10, 19);
    const back = await seedLocation();
    await file(back, 0, 9);
    for (const location of [gone, back]) expect((await del(`/revisions/${location.id}`)).status).toBe(204);
    expect(await keys(gone.path)).toHaveLength(2);
    await register("_", "eth_rpc", rawManifest(), "1.0.0");
    expect((await postJson("/revisions", { dataset: "_/eth_rpc@1.0.0", table_name: "blocks", path: back.path })).status).toBe(200);
    expect((await (await api("/gc?older_than=0")).json<Plan>()).by_reason).toMatchObject({ deleted_location: { count: 2 } });
    expect(await collect("?older_than=0")).toMatchObject({ status: "completed", files_removed: 0, objects_removed: 2 });
    expect(await keys(gone.path)).toEqual([]);
    expect(await keys(back.path)).toHaveLength(1);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM gc_deleted_locations").first("n")).toBe(1);
  });

  it("removes files a prune handed over once expired, only while the location's writer is done", async () => {
    const job = await seedJob("COMPLETED");
    const location = await seedLocation({ writer: job.id });
    const chain = [await file(location, 0, 9), await file(location, 10, 19)];
    // A fork ending above the chain: kept by the rules (it may become canonical), but a prune may hand it over.
    const fork = await file(location, 10, 29, { branch: 5, parent: 5 });
    const canonical = await canonicalIds(location.id);
    expect(canonical).toEqual(chain.map((f) => f.id));
    const offChain = [fork];
    expect((await (await api("/gc")).json<Plan>()).items).toEqual([]);
    expect(await (await del(`/revisions/${location.id}/prune?gc_delay_secs=0`)).json()).toEqual({ files_scheduled: offChain.length, gc_delay_secs: 0 });
    await env.DB.prepare("UPDATE jobs SET status = 'RUNNING' WHERE id = ?").bind(job.id).run();
    expect((await (await api("/gc")).json<Plan>()).by_reason.pruned).toBeUndefined();
    await env.DB.prepare("UPDATE jobs SET status = 'COMPLETED' WHERE id = ?").bind(job.id).run();
    const run = await collect();
    expect(run.files_removed).toBe(offChain.length);
    expect(await canonicalIds(location.id)).toEqual(canonical);
    for (const f of offChain) expect(await env.BUCKET.head(f.key)).toBeNull();
  });

  it("answers the running run instead of starting a second one", async () => {
    const now = new Date().toISOString();
    const running = await env.DB.prepare(
      `INSERT INTO gc_runs (status, trigger, older_than_secs, cutoff, files_removed, objects_removed, bytes_removed, created_at, updated_at)
       VALUES ('running', 'request', 60, ?, 0, 0, 0, ?, ?) RETURNING id`,
    )
      .bind(now, now, now)
      .first<{ id: number }>();
    const res = await api("/gc", { method: "POST" });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ id: running!.id, status: "running" });
    expect(await env.DB.prepare("SELECT count(*) AS n FROM gc_runs").first("n")).toBe(1);
  });

  it("answers 404 GC_RUN_NOT_FOUND, 400 for a bad id or older_than, 403 for the read token", async () => {
    await expectError(await api("/gc/31337"), 404, "GC_RUN_NOT_FOUND");
    await expectError(await api("/gc/x"), 400, "INVALID_PATH");
    await expectError(await api("/gc?older_than=x", { method: "POST" }), 400, "INVALID_QUERY_PARAMETERS");
    await expectError(await api("/gc", { method: "POST", headers: READ }), 403, "FORBIDDEN");
    expect(await env.DB.prepare("SELECT count(*) AS n FROM gc_runs").first("n")).toBe(0);
  });
});

describe("the Cron trigger's garbage collection", () => {
  it("starts the day's run once from the configured hour, and none without the var", async () => {
    const location = await seedLocation();
    const replaced = await file(location, 0, 9);
    await file(location, 0, 9, { branch: 1 });
    await runScheduledGc(db(), env.BUCKET, null, new Date());
    expect(await env.DB.prepare("SELECT count(*) AS n FROM gc_runs").first("n")).toBe(0);
    const morning = new Date(Date.UTC(2026, 0, 5, 2, 59));
    await runScheduledGc(db(), env.BUCKET, 3, morning);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM gc_runs").first("n")).toBe(0);
    for (const minute of [0, 1, 30]) await runScheduledGc(db(), env.BUCKET, 3, new Date(Date.UTC(2026, 0, 5, 3, minute)));
    const runs = (await env.DB.prepare("SELECT trigger, status, scheduled_for, files_removed FROM gc_runs").all()).results;
    expect(runs).toEqual([{ trigger: "cron", status: "completed", scheduled_for: "2026-01-05", files_removed: 1 }]);
    expect(await env.BUCKET.head(replaced.key)).toBeNull();
  });

  it("runs again a run a dead Worker left running", async () => {
    const stale = await env.DB.prepare(
      `INSERT INTO gc_runs (status, trigger, older_than_secs, cutoff, files_removed, objects_removed, bytes_removed, created_at, updated_at)
       VALUES ('running', 'request', 0, ?, 0, 0, 0, ?, ?) RETURNING id`,
    )
      .bind(new Date().toISOString(), OLD, OLD)
      .first<{ id: number }>();
    await runScheduledGc(db(), env.BUCKET, null, new Date());
    expect(await (await api(`/gc/${stale!.id}`)).json()).toMatchObject({ status: "completed" });
  });

  it("reads AMP_GC_DAILY_HOUR_UTC as an hour 0..23", () => {
    expect([undefined, "", "24", "-1", "3h", "03"].map(dailyGcHour)).toEqual([null, null, null, null, null, 3]);
    expect(dailyGcHour("0")).toBe(0);
  });
});
