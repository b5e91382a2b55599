/**
 * Partitions with real jobs (queue consumer, alarms, anvil), through the HTTP API: invalidate → rebuild → the
 * canonical chain and progress (the rebuilt range's files are the `-r<id>` ones, read back with DuckDB, every block
 * once, progress counting the range again only once it is rebuilt); rebuilds at once, each requested range
 * rebuilt exactly once, also when one finds a job another has just scheduled and not started; a rebuild of blocks a
 * running continuous job is writing at the same time.
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
  runner,
  scheduleWithoutStart,
  setupDataset,
  stop,
  type TableName,
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
}

const partitionsPath = (dataset: Dataset, table: TableName) => `${dataset.base}/tables/${table}/partitions`;

async function partitionsOf(dataset: Dataset, table: TableName): Promise<PartitionsBody> {
  return getJson<PartitionsBody>(`${partitionsPath(dataset, table)}?limit=1000`);
}

const shape = (body: PartitionsBody) => body.partitions.map((p) => `${p.status} ${p.start}..${p.end}`);

async function invalidate(dataset: Dataset, table: TableName, range: Range, reason = "e2e"): Promise<InvalidateBody> {
  const res = await postJson(`${partitionsPath(dataset, table)}/invalidate`, { ...range, reason });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

async function rebuild(dataset: Dataset, table: TableName, body: unknown): Promise<{ status: number; body: RebuildBody }> {
  const res = await postJson(`${partitionsPath(dataset, table)}/rebuild`, body);
  const text = await res.text();
  expect([200, 202], `rebuild ${JSON.stringify(body)}: ${res.status} ${text}`).toContain(res.status);
  return { status: res.status, body: JSON.parse(text) as RebuildBody };
}

/** The canonical chain as readers get it (`GET .../tables/{table}/files`). */
async function canonicalFiles(dataset: Dataset, table: TableName): Promise<{ id: number; file_name: string; start_block: number; end_block: number }[]> {
  return (await getJson<{ files: { id: number; file_name: string; start_block: number; end_block: number }[] }>(`${dataset.base}/tables/${table}/files`)).files;
}

function locationOf(locations: readonly Location[], table: TableName): Location {
  const location = locations.find((l) => l.table === table);
  if (!location) throw new Error(`no location of ${table}`);
  return location;
}

/** The blocks of a `blocks` file read back with DuckDB: `_block_num`, `block_num` and `hash` of every row. */
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

/** Every block of `start..=end` exactly once in the canonical chain of `blocks`, each with the node's hash (read with DuckDB). */
async function expectCanonicalBlocks(dataset: Dataset, url: string, start: number, end: number): Promise<FileInfo[]> {
  const location = locationOf(await locationsOf(dataset), "blocks");
  const { files } = await verifyLocationFiles(location);
  const chain = await canonicalFiles(dataset, "blocks");
  const seen: number[] = [];
  const canonical: FileInfo[] = [];
  for (const entry of chain) {
    const file = files.find((f) => f.id === entry.id)!;
    canonical.push(file);
    for (const row of await duckBlocks(location, file)) {
      expect(row.hash, `block ${row.block} of ${file.file_name}`).toBe(await nodeHash(url, row.block));
      seen.push(row.block);
    }
  }
  expect(seen).toEqual(Array.from({ length: end - start + 1 }, (_, i) => start + i));
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
    const node = await startFreshNode(harnessUrl, { seed: false });
    cleanups.push(node.stop);
    await rawRpc(node.url, "evm_setAutomine", [false]);
    await rawRpc(node.url, "anvil_mine", ["0x14"]);
    const dataset = await setupDataset({ providerUrl: node.url });
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

describe("partitions' answers to errors", () => {
  it("a rebuild's request errors change nothing", async () => {
    const { dataset } = await completedDataset(9);
    const res = await api(`${partitionsPath(dataset, "blocks")}/rebuild`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"start": 5}' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error_code: "INVALID_BODY" });
    expect(await rebuild(dataset, "blocks", { start: 0, end: 9 })).toEqual({ status: 200, body: { ranges: [] } });
  });
});
