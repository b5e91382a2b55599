/**
 * Deploy -> COMPLETED through the HTTP API, with the real queue consumer,
 * alarms, D1 and R2, against the shared anvil: every block of the range in
 * every table exactly once (read back from the Parquet files), file rows that
 * match their objects, progress, and the job's timeline.
 */
import { describe, expect, it } from "vitest";
import type { EvmRpcTableName } from "../../src/domain/dataset-kinds/evm-rpc";
import type { TableColumns } from "../../src/extract/block-source";
import { harness } from "../support/provided-context";
import { extractRange } from "../extract/evm-rpc/helpers";
import {
  type Dataset,
  deploy,
  expectTiled,
  getJob,
  getJson,
  jobEvents,
  locationsOf,
  progressOf,
  STEP_SIZE,
  setupDataset,
  TABLES,
  verifyLocationFiles,
  waitForJob,
} from "./e2e-support";

const { anvilUrl, chain } = harness();

type Range = { start: number; end: number };

/** The aligned steps of `start..=end`, as the runner cuts them. */
function stepsOf(start: number, end: number): Range[] {
  const steps: Range[] = [];
  for (let from = start; from <= end; from = (Math.floor(from / STEP_SIZE) + 1) * STEP_SIZE) {
    steps.push({ start: from, end: Math.min(end, (Math.floor(from / STEP_SIZE) + 1) * STEP_SIZE - 1) });
  }
  return steps;
}

const sortBig = (values: bigint[]) => [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** Every table holds exactly the node's rows of `start..=end` (as `_block_num` multisets), in files that tile the range. */
async function expectWholeRange(dataset: Dataset, jobId: number, start: number, end: number): Promise<void> {
  const expected = await extractRange({ url: anvilUrl }, start, end);
  const locations = await locationsOf(dataset);
  expect(locations.map((location) => location.table)).toEqual([...TABLES]);
  const progress = await progressOf(dataset);
  for (const location of locations) {
    expect(location.active).toBe(true);
    const { files, blockNums } = await verifyLocationFiles(location);
    expectTiled(files, start, end, location.table);
    const nodeBlockNums = (expected.tables[location.table as EvmRpcTableName] as unknown as TableColumns)._block_num as bigint[];
    expect(sortBig(blockNums), `${location.table}: _block_num of every row`).toEqual(sortBig(nodeBlockNums));
    if (location.table === "blocks") {
      expect(sortBig(blockNums)).toEqual(Array.from({ length: end - start + 1 }, (_, i) => BigInt(start + i)));
    }
    // Files split at step boundaries only: one file per step on a chain without reorgs.
    expect(files.map((file) => file.metadata.ranges[0].numbers)).toEqual(stepsOf(start, end));
    const last = files.at(-1)!.metadata.ranges[0];
    expect(last.hash).toBe(expected.blocks.at(-1)!.hash);
    expect(files[0]!.metadata.ranges[0].prev_hash).toBe(expected.blocks[0]!.parentHash);
    expect(progress.find((entry) => entry.table_name === location.table)).toEqual({
      table_name: location.table,
      start_block: start,
      current_block: end,
      job_id: jobId,
      job_status: "COMPLETED",
      files_count: files.length,
      total_size_bytes: files.reduce((sum, file) => sum + (file.object_size ?? 0), 0),
    });
  }
}

/** The timeline: scheduled, running, each step started then completed, completed last; every step's range once. */
async function expectCompletedTimeline(jobId: number, start: number, end: number, parallelism: number): Promise<void> {
  const events = await jobEvents(jobId);
  const kinds = events.map((event) => event.kind);
  expect(kinds.slice(0, 2)).toEqual(["scheduled", "running"]);
  expect(kinds.at(-1)).toBe("completed");
  expect(kinds.filter((kind) => !["step_started", "step_completed"].includes(kind))).toEqual(["scheduled", "running", "completed"]);
  expect(events.map((event) => event.id)).toEqual([...events.map((event) => event.id)].sort((a, b) => a - b));
  const started = events.filter((event) => event.kind === "step_started").map((event) => event.detail as { range: Range; attempt: number });
  const completed = events.filter((event) => event.kind === "step_completed").map((event) => event.detail as { range: Range; files: number; rows: number; bytes: number });
  const steps = stepsOf(start, end);
  // Steps of one batch run side by side, so their claims may come in any order.
  expect([...started.map((detail) => detail.range)].sort((a, b) => a.start - b.start)).toEqual(steps);
  expect(started.every((detail) => detail.attempt === 1)).toBe(true);
  expect([...completed.map((detail) => detail.range)].sort((a, b) => a.start - b.start)).toEqual(steps);
  for (const detail of completed) {
    // Each step writes one file per table.
    expect(detail.files).toBe(TABLES.length);
    expect(detail.bytes).toBeGreaterThan(0);
  }
  // A step completes after it started, and no more than `parallelism` run at once.
  let running = 0;
  let mostRunning = 0;
  for (const event of events) {
    if (event.kind === "step_started") running++;
    if (event.kind === "step_completed") running--;
    mostRunning = Math.max(mostRunning, running);
    expect(running).toBeGreaterThanOrEqual(0);
    expect(running).toBeLessThanOrEqual(parallelism);
  }
  // With room for more than one, steps really overlapped (the queue batch's steps run together).
  if (parallelism > 1 && steps.length > 1) expect(mostRunning).toBeGreaterThan(1);
}

describe("deploy -> COMPLETED for a finite range", () => {
  it('end_block as a string, parallelism 1: every block once in every table, rows match objects, progress and events', async () => {
    const end = Math.min(chain.head, 34);
    const dataset = await setupDataset({ providerUrl: anvilUrl });
    const jobId = await deploy(dataset, { end_block: String(end), parallelism: 1 });
    const job = await waitForJob(jobId);
    expect(job.status, job.failure_reason).toBe("COMPLETED");
    expect(job.descriptor).toMatchObject({ Dump: { end_block: String(end), max_writers: 1 } });
    await expectWholeRange(dataset, jobId, 0, end);
    await expectCompletedTimeline(jobId, 0, end, 1);
    // The writer keeps its locations after it completed; a completed job changes nothing more.
    for (const location of await locationsOf(dataset)) expect(location.writer).toBe(jobId);
    // The steps ran in the Worker's real queue consumer, which registered itself, as did the job's runner.
    const workers = (await getJson<{ workers: { node_id: string }[] }>("/workers")).workers.map((worker) => worker.node_id);
    expect(workers).toContain(`jobrunner-${jobId}`);
    expect(workers.some((id) => id.startsWith("consumer-"))).toBe(true);
  });

  it("end_block as an integer, parallelism 3, from a start_block inside a step", async () => {
    const start = 3;
    const end = chain.head;
    const dataset = await setupDataset({ providerUrl: anvilUrl, startBlock: start });
    const jobId = await deploy(dataset, { end_block: end, parallelism: 3 });
    const job = await waitForJob(jobId);
    expect(job.status, job.failure_reason).toBe("COMPLETED");
    expect(job.descriptor).toMatchObject({ Dump: { end_block: String(end), max_writers: 3 } });
    await expectWholeRange(dataset, jobId, start, end);
    await expectCompletedTimeline(jobId, start, end, 3);
  });

  it("a second deploy after COMPLETED reuses the locations, extracts nothing again and completes", async () => {
    const end = 19;
    const dataset = await setupDataset({ providerUrl: anvilUrl });
    const first = await deploy(dataset, { end_block: end });
    expect((await waitForJob(first)).status).toBe("COMPLETED");
    const before = await locationsOf(dataset);
    const second = await deploy(dataset, { end_block: end });
    expect(second).not.toBe(first);
    const job = await waitForJob(second);
    expect(job.status, job.failure_reason).toBe("COMPLETED");
    const after = await locationsOf(dataset);
    expect(after.map((location) => location.id)).toEqual(before.map((location) => location.id));
    expect(after.every((location) => location.writer === second)).toBe(true);
    expect((await jobEvents(second)).map((event) => event.kind)).toEqual(["scheduled", "running", "completed"]);
    await expectWholeRange(dataset, second, 0, end);
    expect((await getJob(first)).status).toBe("COMPLETED");
  });
});
