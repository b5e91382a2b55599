/**
 * eth-beacon jobs end to end through the HTTP API, with the real Worker,
 * queue consumer and JobRunner, against a real beacon node (Lodestar 1.5.1
 * in dev mode, started by the harness): the fixture manifest registers and
 * deploys; a range of slots completes with one row per slot in Parquet
 * (read back with DuckDB), skipped slots as nulls; a continuous job follows
 * new slots until it is stopped.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { ETH_BEACON_BLOCKS } from "../../src/domain/dataset-kinds/eth-beacon";
import { SKIPPED_SLOT_HASH } from "../../src/extract/eth-beacon/slot-rows";
import { type BeaconChain, beaconChain, rawHead } from "../support/beacon-chain";
import { duckDbQuery } from "../support/fault-control";
import { harness } from "../support/provided-context";
import {
  type Dataset,
  deploy,
  expectTiled,
  getJob,
  getJson,
  jobEvents,
  locationPrefix,
  locationsOf,
  postJson,
  progressOf,
  STEP_SIZE,
  stop,
  uniqueName,
  verifyLocationFiles,
  waitFor,
  waitForEvent,
  waitForJob,
} from "./e2e-support";

const { harnessUrl } = harness();
const fixtures = env.TEST_SHARED;

let chain: BeaconChain;
beforeAll(async () => {
  chain = await beaconChain(harnessUrl, 2 * STEP_SIZE + 5);
}, 150_000);

async function registerProvider(network: string): Promise<void> {
  const res = await postJson("/providers", { name: `beacon_${network}`.replaceAll("-", "_"), kind: "eth-beacon", network, url: chain.url, concurrent_request_limit: 8 });
  expect(res.status, await res.clone().text()).toBe(201);
}

async function registerDataset(manifest: Record<string, unknown>): Promise<{ dataset: Dataset; hash: string }> {
  const name = uniqueName("beacon");
  const res = await postJson("/datasets", { namespace: "_", name, version: "1.0.0", manifest });
  expect(res.status, await res.clone().text()).toBe(201);
  const base = `/datasets/_/${name}/versions/1.0.0`;
  const { manifest_hash: hash } = await getJson<{ manifest_hash: string }>(base);
  const dataset = { namespace: "_", name, revision: "1.0.0", network: String(manifest.network), startBlock: Number(manifest.start_block), base };
  return { dataset, hash };
}

/** An eth-beacon manifest as the original's tests write one: its table without `_block_num`. */
function beaconManifest(network: string, startBlock: number): Record<string, unknown> {
  return {
    kind: "eth-beacon",
    network,
    start_block: startBlock,
    finalized_blocks_only: false,
    tables: { blocks: { schema: { arrow: { fields: ETH_BEACON_BLOCKS } }, network } },
  };
}

/** The job's files of `blocks`, one per step, each read back with DuckDB: a row per slot, nulls for skipped slots. */
async function expectSlots(dataset: Dataset, jobId: number, start: number, end: number): Promise<void> {
  const [location] = await locationsOf(dataset);
  expect(location?.table).toBe("blocks");
  const { files, blockNums } = await verifyLocationFiles(location!);
  expectTiled(files, start, end, "blocks");
  expect(blockNums).toEqual(Array.from({ length: end - start + 1 }, (_, i) => BigInt(start + i)));
  for (const file of files) {
    const range = file.metadata.ranges[0];
    const last = chain.slots[range.numbers.end]!;
    expect(range.hash, file.file_name).toBe(last.block ? last.block.data.message.state_root : SKIPPED_SLOT_HASH);
    expect(range.prev_hash, file.file_name).toBeNull();
    const object = await env.BUCKET.get(locationPrefix(location!) + file.file_name);
    const bytes = await object!.arrayBuffer();
    const schema = await duckDbQuery(harnessUrl, bytes, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet({file}))");
    expect(schema.map((column) => `${column.column_name} ${column.column_type}`)).toEqual([
      "_block_num UBIGINT",
      "block_num UBIGINT",
      "version VARCHAR",
      "signature BLOB",
      "proposer_index UBIGINT",
      "parent_root BLOB",
      "state_root BLOB",
      "randao_reveal BLOB",
      "eth1_data_deposit_root BLOB",
      "eth1_data_deposit_count UBIGINT",
      "eth1_data_block_hash BLOB",
      "graffiti BLOB",
    ]);
    const rows = await duckDbQuery(
      harnessUrl,
      bytes,
      `SELECT _block_num::VARCHAR AS slot, block_num::VARCHAR AS block_num, version, proposer_index::VARCHAR AS proposer_index,
         '0x' || lower(hex(state_root)) AS state_root, '0x' || lower(hex(parent_root)) AS parent_root,
         '0x' || lower(hex(signature)) AS signature, '0x' || lower(hex(graffiti)) AS graffiti,
         eth1_data_deposit_count::VARCHAR AS deposit_count, octet_length(randao_reveal)::INTEGER AS randao_length,
         ${ETH_BEACON_BLOCKS.slice(1).map((field) => `(${field.name} IS NOT NULL)::INTEGER`).join(" + ")} AS filled
       FROM read_parquet({file}) ORDER BY _block_num`,
    );
    const expected = chain.slots.slice(range.numbers.start, range.numbers.end + 1).map(({ slot, block }) => {
      if (block === null) {
        return { slot: String(slot), block_num: String(slot), version: null, proposer_index: null, state_root: null, parent_root: null, signature: null, graffiti: null, deposit_count: null, randao_length: null, filled: 0 };
      }
      const { message, signature } = block.data;
      return {
        slot: String(slot),
        block_num: String(slot),
        version: block.version,
        proposer_index: message.proposer_index,
        state_root: message.state_root,
        parent_root: message.parent_root,
        signature,
        graffiti: message.body.graffiti,
        deposit_count: message.body.eth1_data.deposit_count,
        randao_length: 96,
        filled: 10,
      };
    });
    expect(rows, file.file_name).toEqual(expected);
  }
  const [progress] = await progressOf(dataset);
  expect(progress).toEqual({
    table_name: "blocks",
    start_block: start,
    current_block: end,
    job_id: jobId,
    job_status: "COMPLETED",
    files_count: files.length,
    total_size_bytes: files.reduce((sum, file) => sum + (file.object_size ?? 0), 0),
  });
}

describe("eth-beacon jobs", () => {
  it.skipIf(!fixtures)("the fixture eth_beacon.json registers under its hash and deploys; waiting for slot 12,000,000, it stops", async () => {
    const fixture = fixtures!.manifests["eth_beacon.json"] as Record<string, unknown>;
    const hashes = fixtures!.manifests["hashes.json"] as Record<string, { sha256: string }>;
    await registerProvider("mainnet-beacon");
    const { dataset, hash } = await registerDataset(fixture);
    expect(hash).toBe(hashes["eth_beacon.json"]!.sha256);
    const jobId = await deploy(dataset, { end_block: null });
    const running = await waitForJob(jobId, { until: (job) => job.status === "RUNNING", what: "RUNNING" });
    expect(running).toMatchObject({ provider: "beacon_mainnet_beacon" });
    const events = await waitForEvent(jobId, "running");
    expect(events.find((event) => event.kind === "running")?.detail).toEqual({ provider: "beacon_mainnet_beacon" });
    // The local chain is far below the fixture's start: nothing to extract yet, and nothing fails.
    expect((await locationsOf(dataset)).map((location) => location.table)).toEqual(["blocks"]);
    await stop(jobId);
    const stopped = await waitForJob(jobId);
    expect(stopped.status).toBe("STOPPED");
    expect((await jobEvents(jobId)).some((event) => event.kind === "step_started")).toBe(false);

    // The same fixture from a slot the local chain has: the job completes.
    const fromLocal = await registerDataset({ ...fixture, start_block: 3 });
    const end = 2 * STEP_SIZE + 4;
    const completedId = await deploy(fromLocal.dataset, { end_block: end, parallelism: 2 });
    const job = await waitForJob(completedId);
    expect(job.status, job.failure_reason).toBe("COMPLETED");
    expect(job).toMatchObject({ provider: "beacon_mainnet_beacon" });
    await expectSlots(fromLocal.dataset, completedId, 3, end);
    const kinds = (await jobEvents(completedId)).map((event) => event.kind);
    expect(kinds.filter((kind) => !kind.startsWith("step_"))).toEqual(["scheduled", "running", "completed"]);
    expect(kinds.filter((kind) => kind === "step_completed")).toHaveLength(3);
  });

  it("a finite range from slot 0: every slot once, skipped slots as rows of nulls", async () => {
    const network = uniqueName("bnet");
    await registerProvider(network);
    const { dataset } = await registerDataset(beaconManifest(network, 0));
    const jobId = await deploy(dataset, { end_block: STEP_SIZE * 2 - 1 });
    const job = await waitForJob(jobId);
    expect(job.status, job.failure_reason).toBe("COMPLETED");
    await expectSlots(dataset, jobId, 0, STEP_SIZE * 2 - 1);
    expect(chain.slots.slice(0, STEP_SIZE * 2).some((slot) => slot.block === null)).toBe(true);
  });

  it("a continuous job follows new slots as the node makes them, until it is stopped", async () => {
    const network = uniqueName("bnet");
    await registerProvider(network);
    const start = await rawHead(chain.url);
    const { dataset } = await registerDataset(beaconManifest(network, start));
    const jobId = await deploy(dataset, { end_block: null });
    // Slots that did not exist when the job started arrive in its files.
    const target = start + STEP_SIZE + 5;
    await waitFor(
      `progress past slot ${target}`,
      async () => {
        const [progress] = await progressOf(dataset);
        return progress && progress.current_block !== null && progress.current_block >= target ? progress : undefined;
      },
      120_000,
    );
    expect((await getJob(jobId)).status).toBe("RUNNING");
    await stop(jobId);
    expect((await waitForJob(jobId)).status).toBe("STOPPED");
    const [location] = await locationsOf(dataset);
    const { files, blockNums } = await verifyLocationFiles(location!);
    expect(blockNums[0]).toBe(BigInt(start));
    expect(blockNums).toEqual(Array.from({ length: blockNums.length }, (_, i) => BigInt(start + i)));
    expect(blockNums.length).toBeGreaterThan(STEP_SIZE + 5);
    for (const file of files) expect(file.metadata.ranges[0].prev_hash).toBeNull();
  });
});
