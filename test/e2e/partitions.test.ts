/**
 * Partitions with real jobs (queue consumer, alarms, anvil), through the HTTP API: invalidate → rebuild → the
 * canonical chain and progress (the rebuilt range's files are the `-r<id>` ones, read back with DuckDB, every block
 * once, progress counting the range again only once it is rebuilt); rebuilds at once, each requested range
 * rebuilt exactly once, also when one finds a job another has just scheduled and not started; a rebuild of blocks a
 * running continuous job is writing at the same time; `target_end` after a job stopped half-way, a rebuild-only
 * job and the jobs' deletion; a derived table over `blocks` rebuilt with it (its rebuild-only job derives the
 * range once the raw range is back: every block once in both chains, the derived rows as before); a derived rebuild
 * asked first, which waits at the head where the raw chain stops until the raw rebuild puts the range back.
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { duckDbQuery, startFreshNode } from "../support/fault-control";
import { harness } from "../support/provided-context";
import { rawRpc } from "../extract/evm-rpc/helpers";
import {
  api,
  type Dataset,
  deploy,
  type FileInfo,
  getJob,
  getJson,
  jobEvents,
  type Location,
  locationPrefix,
  locationsOf,
  postJson,
  progressOf,
  registerDerived,
  runner,
  scheduleWithoutStart,
  setupDataset,
  stop,
  verifyLocationFiles,
  waitFor,
  waitForJob,
} from "./e2e-support";

const { anvilUrl, harnessUrl } = harness();
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Range = { start: number; end: number };

interface PartitionsBody {
  target_end: number | null;
  partitions: { start: number; end: number; status: string; files: number; invalidation?: { id: number } }[];
}
interface InvalidateBody {
  invalidations: { id: number; table: string; taken: Range[] }[];
}
interface RebuildBody {
  job_id?: number;
  ranges: Range[];
  dependants?: { table: string; location_id: number; job_id: number; ranges: Range[] }[];
}

const partitionsPath = (dataset: Dataset, table: string) => `${dataset.base}/tables/${table}/partitions`;

async function partitionsOf(dataset: Dataset, table: string): Promise<PartitionsBody> {
  return getJson<PartitionsBody>(`${partitionsPath(dataset, table)}?limit=1000`);
}

const shape = (body: PartitionsBody) => body.partitions.map((p) => `${p.status} ${p.start}..${p.end}`);

async function invalidate(dataset: Dataset, table: string, range: Range, reason = "e2e"): Promise<InvalidateBody> {
  const res = await postJson(`${partitionsPath(dataset, table)}/invalidate`, { ...range, reason });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

async function rebuild(dataset: Dataset, table: string, body: unknown): Promise<{ status: number; body: RebuildBody }> {
  const res = await postJson(`${partitionsPath(dataset, table)}/rebuild`, body);
  const text = await res.text();
  expect([200, 202], `rebuild ${JSON.stringify(body)}: ${res.status} ${text}`).toContain(res.status);
  return { status: res.status, body: JSON.parse(text) as RebuildBody };
}

/** The canonical chain as readers get it (`GET .../tables/{table}/files`). */
async function canonicalFiles(dataset: Dataset, table: string): Promise<{ id: number; file_name: string; start_block: number; end_block: number }[]> {
  return (await getJson<{ files: { id: number; file_name: string; start_block: number; end_block: number }[] }>(`${dataset.base}/tables/${table}/files`)).files;
}

function locationOf(locations: readonly Location[], table: string): Location {
  const location = locations.find((l) => l.table === table);
  if (!location) throw new Error(`no location of ${table}`);
  return location;
}

/** The blocks of a file holding `block_num` and `hash` (raw `blocks`, or a derived table of them) read back with DuckDB: `_block_num`, `block_num` and `hash` of every row. */
async function duckBlocks(location: Location, file: FileInfo): Promise<{ block: number; hash: string }[]> {
  const object = await env.BUCKET.get(locationPrefix(location) + file.file_name);
  if (!object) throw new Error(`no object for ${file.file_name}`);
  const rows = await duckDbQuery(
    harnessUrl,
    await object.arrayBuffer(),
    "SELECT _block_num::VARCHAR AS b, block_num::VARCHAR AS n, '0x' || lower(hex(hash)) AS hash FROM read_parquet({file}) ORDER BY _block_num",
  );
  for (const row of rows) expect(row.n, file.file_name).toBe(row.b);
  return rows.map((row) => ({ block: Number(row.b), hash: String(row.hash) }));
}

async function nodeHash(url: string, block: number): Promise<string> {
  return ((await rawRpc(url, "eth_getBlockByNumber", [`0x${block.toString(16)}`, false])) as { hash: string }).hash;
}

/** The rows of a table's canonical chain (`block_num` and `hash`: raw `blocks` or a derived table selecting them), read with DuckDB, in block order. */
async function canonicalRows(dataset: Dataset, table: string): Promise<{ rows: { block: number; hash: string }[]; canonical: FileInfo[] }> {
  const location = locationOf(await locationsOf(dataset), table);
  const { files } = await verifyLocationFiles(location);
  const rows: { block: number; hash: string }[] = [];
  const canonical: FileInfo[] = [];
  for (const entry of await canonicalFiles(dataset, table)) {
    const file = files.find((f) => f.id === entry.id)!;
    canonical.push(file);
    rows.push(...(await duckBlocks(location, file)));
  }
  return { rows, canonical };
}

/** Every block of `start..=end` exactly once in the canonical chain of `blocks`, each with the node's hash (read with DuckDB). */
async function expectCanonicalBlocks(dataset: Dataset, url: string, start: number, end: number): Promise<FileInfo[]> {
  const { rows, canonical } = await canonicalRows(dataset, "blocks");
  for (const row of rows) expect(row.hash, `block ${row.block}`).toBe(await nodeHash(url, row.block));
  expect(rows.map((row) => row.block)).toEqual(Array.from({ length: end - start + 1 }, (_, i) => start + i));
  return canonical;
}

const rebuiltName = (range: Range, id: number) => new RegExp(`^${String(range.start).padStart(9, "0")}-${String(range.end).padStart(9, "0")}-[0-9a-f]{8}-r${id}\\.parquet$`);

/** The ranges of the step_completed events of some jobs, sorted. */
async function completedSteps(jobIds: readonly number[]): Promise<Range[]> {
  const ranges: Range[] = [];
  for (const jobId of jobIds) {
    for (const event of await jobEvents(jobId)) if (event.kind === "step_completed") ranges.push((event.detail as { range: Range }).range);
  }
  return ranges.sort((a, b) => a.start - b.start);
}

/** A dataset of its own on the shared anvil, extracted 0..=`end` by a job that completed. */
async function completedDataset(end: number): Promise<{ dataset: Dataset; jobId: number }> {
  const dataset = await setupDataset({ providerUrl: anvilUrl });
  const jobId = await deploy(dataset, { end_block: end, parallelism: 2 });
  const job = await waitForJob(jobId);
  expect(job.status, job.failure_reason).toBe("COMPLETED");
  return { dataset, jobId };
}

/** A dataset of its own on a fresh anvil mined to block 20, mining only when the test says (the node stops after the test). */
async function freshChainAt20(): Promise<{ node: { url: string }; dataset: Dataset }> {
  const node = await startFreshNode(harnessUrl, { seed: false });
  cleanups.push(node.stop);
  await rawRpc(node.url, "evm_setAutomine", [false]);
  await rawRpc(node.url, "anvil_mine", ["0x14"]);
  return { node, dataset: await setupDataset({ providerUrl: node.url }) };
}

describe("invalidate -> rebuild with a real job", () => {
  it("takes the range out of the chain and progress until the rebuild's -r<id> file puts every block back once", async () => {
    const { dataset, jobId } = await completedDataset(29);
    expect(shape(await partitionsOf(dataset, "blocks"))).toEqual(["materialized 0..9", "materialized 10..19", "materialized 20..29"]);

    const invalidated = await invalidate(dataset, "blocks", { start: 12, end: 14 }, "stale branch");
    expect(invalidated.invalidations.map((i) => [i.table, i.taken])).toEqual([["blocks", [{ start: 10, end: 19 }]]]);
    const id = invalidated.invalidations[0]!.id;
    expect(shape(await partitionsOf(dataset, "blocks"))).toEqual(["materialized 0..9", "invalidated 10..19", "materialized 20..29"]);
    // Progress stops before the range at once; the other tables keep theirs.
    const before = await progressOf(dataset);
    expect(before.map((t) => [t.table_name, t.current_block, t.files_count])).toEqual([
      ["blocks", 9, 1],
      ["logs", 29, 3],
      ["transactions", 29, 3],
    ]);
    expect((await canonicalFiles(dataset, "blocks")).map((f) => [f.start_block, f.end_block])).toEqual([[0, 9]]);
    expect((await jobEvents(jobId)).filter((e) => e.kind === "partition_invalidated").map((e) => e.detail)).toMatchObject([{ invalidation_id: id, reason: "stale branch" }]);

    // Nothing extracts it again by itself: a new deploy of the same range completes without touching it.
    const redeploy = await deploy(dataset, { end_block: 29 });
    expect((await waitForJob(redeploy)).status).toBe("COMPLETED");
    expect((await progressOf(dataset)).find((t) => t.table_name === "blocks")?.current_block).toBe(9);

    const asked = await rebuild(dataset, "blocks", {});
    expect(asked.status).toBe(202);
    expect(asked.body.ranges).toEqual([{ start: 10, end: 19 }]);
    const rebuildJob = asked.body.job_id!;
    const job = await waitForJob(rebuildJob);
    expect(job.status, job.failure_reason).toBe("COMPLETED");
    expect(job.descriptor).toMatchObject({ Dump: { rebuild: [{ start: 10, end: 19 }] } });
    // The rebuild job extracted that range and nothing else, in the blocks table only.
    expect(await completedSteps([rebuildJob])).toEqual([{ start: 10, end: 19 }]);
    const locations = await locationsOf(dataset);
    expect((await verifyLocationFiles(locationOf(locations, "logs"))).files).toHaveLength(3);
    expect((await verifyLocationFiles(locationOf(locations, "transactions"))).files).toHaveLength(3);

    const canonical = await expectCanonicalBlocks(dataset, anvilUrl, 0, 29);
    expect(canonical.map((f) => f.metadata.ranges[0].numbers)).toEqual([
      { start: 0, end: 9 },
      { start: 10, end: 19 },
      { start: 20, end: 29 },
    ]);
    expect(canonical[1]!.file_name).toMatch(rebuiltName({ start: 10, end: 19 }, id));
    expect(canonical[0]!.file_name).not.toMatch(/-r\d+\.parquet$/);
    // The old file is still there (nothing deleted), shown as invalidated beside the rebuilt partition.
    expect((await verifyLocationFiles(locationOf(locations, "blocks"))).files).toHaveLength(4);
    expect(shape(await partitionsOf(dataset, "blocks"))).toEqual(["materialized 0..9", "materialized 10..19", "invalidated 10..19", "materialized 20..29"]);
    const after = await progressOf(dataset);
    expect(after.find((t) => t.table_name === "blocks")).toMatchObject({ current_block: 29, files_count: 3 });

    // Repeating the rebuild has nothing left to do.
    expect(await rebuild(dataset, "blocks", {})).toEqual({ status: 200, body: { ranges: [] } });
  });
});

describe("rebuilds at once", () => {
  it("two concurrent rebuilds of different ranges end with each range rebuilt exactly once, no request failing", async () => {
    const { dataset } = await completedDataset(29);
    const first = await invalidate(dataset, "blocks", { start: 5, end: 5 });
    const second = await invalidate(dataset, "blocks", { start: 25, end: 25 });
    const answers = await Promise.all([
      rebuild(dataset, "blocks", { start: 0, end: 9 }),
      rebuild(dataset, "blocks", { start: 20, end: 29 }),
      rebuild(dataset, "blocks", { start: 0, end: 9 }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(answers.map((a) => a.body.ranges)).toEqual([[{ start: 0, end: 9 }], [{ start: 20, end: 29 }], [{ start: 0, end: 9 }]]);
    const jobIds = [...new Set(answers.map((a) => a.body.job_id!))];
    for (const jobId of jobIds) {
      const job = await waitForJob(jobId);
      expect(job.status, job.failure_reason).toBe("COMPLETED");
    }
    expect(await completedSteps(jobIds)).toEqual([
      { start: 0, end: 9 },
      { start: 20, end: 29 },
    ]);
    const canonical = await expectCanonicalBlocks(dataset, anvilUrl, 0, 29);
    expect(canonical.map((f) => f.file_name.match(/-r(\d+)\.parquet$/)?.[1] ?? null)).toEqual([String(first.invalidations[0]!.id), null, String(second.invalidations[0]!.id)]);
    // Exactly one rebuilt file per range.
    const files = (await verifyLocationFiles(locationOf(await locationsOf(dataset), "blocks"))).files;
    expect(files.filter((f) => /-r\d+\.parquet$/.test(f.file_name)).map((f) => f.metadata.ranges[0].numbers)).toEqual([
      { start: 0, end: 9 },
      { start: 20, end: 29 },
    ]);
  });

  it("a rebuild that finds a job scheduled but not started hands its ranges over to it (202, that job), which extracts them once it starts", async () => {
    const { dataset } = await completedDataset(29);
    const { invalidations } = await invalidate(dataset, "blocks", { start: 21, end: 21 });
    // The state a concurrent deploy leaves between its D1 batch and JobRunner.start.
    const scheduled = await scheduleWithoutStart(dataset, 29);
    const asked = await rebuild(dataset, "blocks", { start: 20, end: 29 });
    expect(asked).toEqual({ status: 202, body: { job_id: scheduled, ranges: [{ start: 20, end: 29 }], dependants: [] } });
    expect((await getJob(scheduled)).status).toBe("SCHEDULED");
    // Its start comes (the deploy's own, or Cron's reconcile): it takes the range it was handed.
    await runner(scheduled).poke(scheduled, 10, 4);
    const job = await waitForJob(scheduled);
    expect(job.status, job.failure_reason).toBe("COMPLETED");
    expect(await completedSteps([scheduled])).toEqual([{ start: 20, end: 29 }]);
    const canonical = await expectCanonicalBlocks(dataset, anvilUrl, 0, 29);
    expect(canonical[2]!.file_name).toMatch(rebuiltName({ start: 20, end: 29 }, invalidations[0]!.id));
    expect((await jobEvents(scheduled)).map((e) => e.kind)).toContain("rebuild_requested");
  });
});

describe("a rebuild while a continuous job runs", () => {
  it("is handed to the running job, which extracts the invalidated range and the blocks it is writing each once", async () => {
    const { node, dataset } = await freshChainAt20();
    const jobId = await deploy(dataset, { end_block: null, parallelism: 2 });
    cleanups.push(async () => {
      if (!["STOPPED", "FAILED", "COMPLETED"].includes((await getJob(jobId)).status)) await stop(jobId);
    });
    await waitFor("every table at block 20", async () => ((await progressOf(dataset)).every((t) => t.current_block === 20) ? true : undefined), 90_000);

    const { invalidations } = await invalidate(dataset, "blocks", { start: 15, end: 15 });
    expect(invalidations[0]!.taken).toEqual([{ start: 10, end: 19 }]);
    // New blocks: the job is writing 21..=29 when the rebuild of 10..=29 (invalidated and missing) arrives.
    await rawRpc(node.url, "anvil_mine", ["0x9"]);
    const asked = await rebuild(dataset, "blocks", { start: 10, end: 29 });
    expect(asked.status).toBe(202);
    expect(asked.body.job_id).toBe(jobId);
    expect(asked.body.ranges[0]).toEqual({ start: 10, end: 19 });
    expect((await getJob(jobId)).status).toBe("RUNNING");
    await waitFor("every table at block 29", async () => ((await progressOf(dataset)).every((t) => t.current_block === 29) ? true : undefined), 90_000);
    await stop(jobId);
    expect((await waitForJob(jobId, { timeoutMs: 60_000 })).status).toBe("STOPPED");

    const canonical = await expectCanonicalBlocks(dataset, node.url, 0, 29);
    expect(canonical.find((f) => f.metadata.ranges[0].numbers.start === 10)!.file_name).toMatch(rebuiltName({ start: 10, end: 19 }, invalidations[0]!.id));
    // Each range once in the job's steps, 10..=19 twice in all: extracted, then rebuilt.
    const steps = await completedSteps([jobId]);
    expect(steps.filter((r) => r.start === 10)).toHaveLength(2);
    for (const range of steps.filter((r) => r.start !== 10)) expect(steps.filter((r) => r.start === range.start && r.end === range.end)).toHaveLength(1);
    // The other tables were not rebuilt: each block once, no -r file.
    for (const table of ["logs", "transactions"] as const) {
      const files = (await verifyLocationFiles(locationOf(await locationsOf(dataset), table))).files;
      expect(files.some((f) => /-r\d+\.parquet$/.test(f.file_name)), table).toBe(false);
    }
  });
});

describe("target_end without a running writer", () => {
  it("a job stopped half-way leaves the blocks it did not reach missing up to its end, also after a rebuild; with its jobs deleted, up to the chain head read last", async () => {
    const { node, dataset } = await freshChainAt20();
    // Heading to 39 on a chain at 20: it extracts 0..=20 and waits for more blocks.
    const jobId = await deploy(dataset, { end_block: 39, parallelism: 2 });
    await waitFor("every table at block 20", async () => ((await progressOf(dataset)).every((t) => t.current_block === 20) ? true : undefined), 90_000);
    await stop(jobId);
    expect((await waitForJob(jobId, { timeoutMs: 60_000 })).status).toBe("STOPPED");
    const stopped = await partitionsOf(dataset, "blocks");
    expect(stopped.target_end).toBe(39);
    expect(shape(stopped).at(-1)).toBe("missing 21..39");

    // The chain moves on to 30; a rebuild-only job of 10..=19 (end 19) reads that head and becomes the writer.
    await rawRpc(node.url, "anvil_mine", ["0xa"]);
    await invalidate(dataset, "blocks", { start: 15, end: 15 });
    const asked = await rebuild(dataset, "blocks", {});
    expect(asked.body.ranges).toEqual([{ start: 10, end: 19 }]);
    const rebuildJob = asked.body.job_id!;
    expect((await waitForJob(rebuildJob)).status).toBe("COMPLETED");
    const rebuilt = await partitionsOf(dataset, "blocks");
    expect(rebuilt.target_end).toBe(39);
    expect(shape(rebuilt).at(-1)).toBe("missing 21..39");

    // No job left to say where the table heads: the chain head its jobs read last.
    for (const id of [rebuildJob, jobId]) expect((await api(`/jobs/${id}`, { method: "DELETE" })).status).toBe(204);
    const headless = await partitionsOf(dataset, "blocks");
    expect(headless.target_end).toBe(30);
    expect(shape(headless).at(-1)).toBe("missing 21..30");
  });
});

/** A raw dataset extracted 0..=29 and a derived one over its `blocks` (`block_hashes`), both by jobs that completed; the derived rows are the node's blocks. */
async function derivedOverBlocks(): Promise<{ raw: Dataset; derived: Dataset; derivedJob: number; before: { block: number; hash: string }[] }> {
  const { dataset: raw } = await completedDataset(29);
  const derived = await registerDerived(raw, { block_hashes: "SELECT block_num, hash FROM eth.blocks" });
  const derivedJob = await deploy(derived, { end_block: 29, parallelism: 2 });
  const first = await waitForJob(derivedJob);
  expect(first.status, first.failure_reason).toBe("COMPLETED");
  const { rows: before } = await canonicalRows(derived, "block_hashes");
  const nodeRows = [];
  for (let block = 0; block <= 29; block++) nodeRows.push({ block, hash: await nodeHash(anvilUrl, block) });
  expect(before).toEqual(nodeRows);
  return { raw, derived, derivedJob, before };
}

describe("a derived table rebuilt with its dependency", () => {
  it("a raw rebuild rebuilds the derived table invalidated with it, after the raw range is back: every block once in both chains, the same rows", async () => {
    const { raw, derived, derivedJob, before } = await derivedOverBlocks();

    const { invalidations } = await invalidate(raw, "blocks", { start: 12, end: 14 });
    expect(invalidations.map((i) => [i.table, i.taken])).toEqual([
      ["blocks", [{ start: 10, end: 19 }]],
      ["block_hashes", [{ start: 10, end: 19 }]],
    ]);
    const derivedInvalidation = invalidations[1]!.id;
    expect(shape(await partitionsOf(derived, "block_hashes"))).toEqual(["materialized 0..9", "invalidated 10..19", "materialized 20..29"]);
    expect((await progressOf(derived)).map((t) => [t.table_name, t.current_block])).toEqual([["block_hashes", 9]]);

    const asked = await rebuild(raw, "blocks", {});
    expect(asked.status).toBe(202);
    expect(asked.body.ranges).toEqual([{ start: 10, end: 19 }]);
    const location = locationOf(await locationsOf(derived), "block_hashes");
    expect(asked.body.dependants).toEqual([
      expect.objectContaining({ table: "block_hashes", location_id: location.id, ranges: [{ start: 10, end: 19 }] }),
    ]);
    const rawRebuild = asked.body.job_id!;
    const derivedRebuild = asked.body.dependants![0]!.job_id;
    // The derived job completed: a rebuild-only job of the derived manifest takes the range.
    expect(derivedRebuild).not.toBe(derivedJob);
    for (const jobId of [rawRebuild, derivedRebuild]) {
      const job = await waitForJob(jobId);
      expect(job.status, job.failure_reason).toBe("COMPLETED");
    }
    expect(await completedSteps([rawRebuild])).toEqual([{ start: 10, end: 19 }]);
    expect(await completedSteps([derivedRebuild])).toEqual([{ start: 10, end: 19 }]);
    // It derived the range from the rebuilt raw file: its step started once the raw step had completed.
    const rawDone = (await jobEvents(rawRebuild)).find((e) => e.kind === "step_completed")!;
    const derivedStarted = (await jobEvents(derivedRebuild)).find((e) => e.kind === "step_started")!;
    expect(Date.parse(derivedStarted.created_at)).toBeGreaterThanOrEqual(Date.parse(rawDone.created_at));

    await expectCanonicalBlocks(raw, anvilUrl, 0, 29);
    expect((await canonicalRows(derived, "block_hashes")).rows).toEqual(before);
    const chain = await canonicalFiles(derived, "block_hashes");
    expect(chain.map((f) => [f.start_block, f.end_block])).toEqual([[0, 9], [10, 19], [20, 29]]);
    expect(chain[1]!.file_name).toMatch(rebuiltName({ start: 10, end: 19 }, derivedInvalidation));
    expect(shape(await partitionsOf(derived, "block_hashes"))).toEqual(["materialized 0..9", "materialized 10..19", "invalidated 10..19", "materialized 20..29"]);
    expect((await progressOf(derived)).map((t) => [t.table_name, t.current_block])).toEqual([["block_hashes", 29]]);
    expect((await progressOf(raw)).map((t) => t.current_block)).toEqual([29, 29, 29]);
  });

  it("a derived rebuild asked first waits while its dependency's range is invalidated, and derives it once the raw rebuild puts it back", async () => {
    const { raw, derived, before } = await derivedOverBlocks();
    await invalidate(raw, "blocks", { start: 12, end: 14 });
    const own = await rebuild(derived, "block_hashes", {});
    expect(own.status).toBe(202);
    expect(own.body).toMatchObject({ ranges: [{ start: 10, end: 19 }], dependants: [] });
    const derivedRebuild = own.body.job_id!;
    // Its head is where the raw canonical chain stops (9): it reads it again and again, and derives nothing.
    type Progress = { job_status: string; chain_head: number | null; chain_head_at: string | null };
    const firstRead = await waitFor("the derived rebuild's first head", async () => {
      const progress = await getJson<Progress>(`/jobs/${derivedRebuild}/progress`);
      return progress.chain_head === null ? undefined : progress;
    });
    expect(firstRead).toMatchObject({ job_status: "RUNNING", chain_head: 9 });
    await waitFor("a second head read", async () => {
      const progress = await getJson<Progress>(`/jobs/${derivedRebuild}/progress`);
      return progress.chain_head_at !== firstRead.chain_head_at ? progress : undefined;
    });
    expect((await jobEvents(derivedRebuild)).map((e) => e.kind)).not.toContain("step_started");
    expect((await getJob(derivedRebuild)).status).toBe("RUNNING");

    // The raw rebuild hands the derived range to that running job again: it is derived once.
    const asked = await rebuild(raw, "blocks", {});
    expect(asked.body.dependants?.map((d) => [d.job_id, d.ranges])).toEqual([[derivedRebuild, [{ start: 10, end: 19 }]]]);
    for (const jobId of [asked.body.job_id!, derivedRebuild]) {
      const job = await waitForJob(jobId);
      expect(job.status, job.failure_reason).toBe("COMPLETED");
    }
    expect(await completedSteps([derivedRebuild])).toEqual([{ start: 10, end: 19 }]);
    await expectCanonicalBlocks(raw, anvilUrl, 0, 29);
    expect((await canonicalRows(derived, "block_hashes")).rows).toEqual(before);
    expect((await progressOf(derived)).map((t) => [t.table_name, t.current_block])).toEqual([["block_hashes", 29]]);
  });
});

describe("partitions' answers to errors", () => {
  it("a rebuild's request errors change nothing", async () => {
    const { dataset } = await completedDataset(9);
    const res = await api(`${partitionsPath(dataset, "blocks")}/rebuild`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"start": 5}' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error_code: "INVALID_BODY" });
    expect(await rebuild(dataset, "blocks", { start: 0, end: 9 })).toEqual({ status: 200, body: { ranges: [] } });
  });
});
