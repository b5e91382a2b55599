/**
 * Crash recovery end to end (reference §5.7): an object put without its file
 * row (a consumer that died between the R2 put and the D1 insert) is removed
 * when the next job starts and its range is extracted properly; a file row
 * whose object is gone fails the next job with the reason in its events; a
 * deploy that died before starting its runner is picked up by the cron.
 */
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { parquetFileName } from "../../src/domain/parquet-file";
import { harness } from "../support/provided-context";
import { rawRpc } from "../extract/evm-rpc/helpers";
import {
  deploy,
  expectTiled,
  filesOf,
  getJob,
  jobEvents,
  locationPrefix,
  locationsOf,
  objectsOf,
  scheduleWithoutStart,
  setupDataset,
  sleep,
  snapshot,
  verifyLocationFiles,
  waitForJob,
} from "./e2e-support";

const { anvilUrl } = harness();

async function blockHash(block: number): Promise<string> {
  return ((await rawRpc(anvilUrl, "eth_getBlockByNumber", [`0x${block.toString(16)}`, false])) as { hash: string }).hash;
}

describe("crash between the R2 put and the D1 row", () => {
  it("the orphan objects are removed at the next job's start and their range is extracted properly", async () => {
    const dataset = await setupDataset({ providerUrl: anvilUrl });
    const first = await deploy(dataset, { end_block: 9 });
    expect((await waitForJob(first)).status).toBe("COMPLETED");
    const locations = await locationsOf(dataset);

    // What a consumer that died after its puts leaves: objects for 10..=19 under every location, no rows.
    // One carries the very name the re-extraction writes, with bytes that are not Parquet: kept, it
    // would be adopted as the file (an existing object is never written again) and fail to read.
    const sameName = parquetFileName({ start: 10, end: 19 }, await blockHash(19));
    const orphans: string[] = [];
    for (const location of locations) {
      for (const name of [sameName, parquetFileName({ start: 10, end: 14 }, "0xdeadbeefdeadbeef")]) {
        const key = locationPrefix(location) + name;
        await env.BUCKET.put(key, "half a crash, not a Parquet file", { customMetadata: { nozzle_metadata: "{}" } });
        orphans.push(key);
      }
    }

    const second = await deploy(dataset, { end_block: 29 });
    const job = await waitForJob(second);
    expect(job.status, job.failure_reason).toBe("COMPLETED");
    for (const location of await locationsOf(dataset)) {
      const objects = (await objectsOf(location)).map((object) => object.key);
      for (const orphan of orphans.filter((key) => key.startsWith(locationPrefix(location)))) {
        const name = orphan.slice(locationPrefix(location).length);
        // The stray name is gone for good; the real name is back, now with a Parquet file and its row.
        if (name === sameName) expect(objects).toContain(orphan);
        else expect(objects).not.toContain(orphan);
      }
      const { files, blockNums } = await verifyLocationFiles(location);
      expectTiled(files, 0, 29, location.table);
      if (location.table === "blocks") expect(blockNums).toEqual(Array.from({ length: 30 }, (_, i) => BigInt(i)));
    }
    expect((await jobEvents(second)).map((event) => event.kind).filter((kind) => kind === "step_completed")).toHaveLength(2);
  });

  it("a file row whose object is missing fails the next job at once, with the table and the file in its reason", async () => {
    const dataset = await setupDataset({ providerUrl: anvilUrl });
    const first = await deploy(dataset, { end_block: 19 });
    expect((await waitForJob(first)).status).toBe("COMPLETED");
    const logs = (await locationsOf(dataset)).find((location) => location.table === "logs")!;
    const lost = (await filesOf(logs))[1]!;
    await env.BUCKET.delete(locationPrefix(logs) + lost.file_name);
    const before = await snapshot(dataset);

    const second = await deploy(dataset, { end_block: 29 });
    const job = await waitForJob(second, { timeoutMs: 30_000 });
    expect(job.status).toBe("FAILED");
    expect(job.failure_reason).toContain("logs");
    expect(job.failure_reason).toContain("missing");
    expect(job.failure_reason).toContain(lost.file_name);
    const events = await jobEvents(second);
    expect(events.map((event) => event.kind)).toEqual(["scheduled", "failed"]);
    expect(events[1]!.detail).toEqual({ reason: job.failure_reason });
    // Nothing was extracted or removed: the corrupt table is left for an operator to look at.
    await sleep(2_000);
    expect(await snapshot(dataset)).toEqual(before);
    expect((await getJob(second)).status).toBe("FAILED");
  });
});

describe("a deploy that died between its D1 batch and starting the runner", () => {
  it("is started by the cron's reconcile with the configured step size, and completes", async () => {
    const dataset = await setupDataset({ providerUrl: anvilUrl });
    const jobId = await scheduleWithoutStart(dataset, 29);
    await sleep(1_000);
    expect((await getJob(jobId)).status).toBe("SCHEDULED");
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const job = await waitForJob(jobId);
    expect(job.status, job.failure_reason).toBe("COMPLETED");
    // Steps of AMP_STEP_SIZE (10) blocks, not the default 1000.
    const steps = (await jobEvents(jobId)).filter((event) => event.kind === "step_completed").map((event) => (event.detail as { range: unknown }).range);
    expect(steps).toEqual([
      { start: 0, end: 9 },
      { start: 10, end: 19 },
      { start: 20, end: 29 },
    ]);
    for (const location of await locationsOf(dataset)) expectTiled((await verifyLocationFiles(location)).files, 0, 29, location.table);
  });
});
