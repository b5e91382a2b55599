/**
 * A continuous job (end_block null) on a node of the test's own follows the
 * chain head: blocks mined while it runs show up in the progress and in the
 * files, each block once; a stop ends it.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { TableProgress } from "../../src/api/progress";
import { startFreshNode } from "../support/fault-control";
import { harness } from "../support/provided-context";
import { rawRpc } from "../extract/evm-rpc/helpers";
import {
  deploy,
  expectTiled,
  getJob,
  jobEvents,
  locationsOf,
  progressOf,
  setupDataset,
  stop,
  TABLES,
  verifyLocationFiles,
  waitFor,
  waitForJob,
} from "./e2e-support";

const { harnessUrl } = harness();
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Waits until every table's progress reaches `block` (head polls are 10 s apart, so this takes a while). */
function progressReaches(dataset: Parameters<typeof progressOf>[0], block: number): Promise<TableProgress[]> {
  return waitFor(
    `progress of every table to reach block ${block}`,
    async () => {
      const tables = await progressOf(dataset);
      return tables.every((table) => table.current_block === block) ? tables : undefined;
    },
    90_000,
  );
}

describe("a continuous job", () => {
  it("picks up newly mined blocks, block by block once, and stops on request", async () => {
    const node = await startFreshNode(harnessUrl, { seed: false });
    cleanups.push(node.stop);
    // Blocks come only when the test mines them.
    await rawRpc(node.url, "evm_setAutomine", [false]);
    await rawRpc(node.url, "anvil_mine", ["0x4"]);
    const dataset = await setupDataset({ providerUrl: node.url });
    const jobId = await deploy(dataset, { end_block: null, parallelism: 2 });
    cleanups.push(async () => {
      // Never leave a job following a node that is about to go away.
      if (!["STOPPED", "FAILED", "COMPLETED"].includes((await getJob(jobId)).status)) await stop(jobId);
    });

    let progress = await progressReaches(dataset, 4);
    expect(progress.map((table) => [table.table_name, table.start_block, table.job_status])).toEqual(TABLES.map((table) => [table, 0, "RUNNING"]));

    await rawRpc(node.url, "anvil_mine", ["0xc"]);
    progress = await progressReaches(dataset, 16);
    // Value transfers in new blocks reach the transactions table too.
    const txHash = (await rawRpc(node.url, "eth_sendTransaction", [
      { from: "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", to: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", value: "0x1" },
    ])) as string;
    // The pending transaction goes into the first of the mined blocks.
    await rawRpc(node.url, "anvil_mine", ["0x4"]);
    const txBlock = Number(((await rawRpc(node.url, "eth_getTransactionReceipt", [txHash])) as { blockNumber: string }).blockNumber);
    expect(txBlock).toBe(17);
    progress = await progressReaches(dataset, 20);
    expect((await getJob(jobId)).status).toBe("RUNNING");

    await stop(jobId);
    expect((await waitForJob(jobId, { timeoutMs: 60_000 })).status).toBe("STOPPED");
    const head = Number(await rawRpc(node.url, "eth_blockNumber", []));
    for (const location of await locationsOf(dataset)) {
      const { files, blockNums } = await verifyLocationFiles(location);
      const end = files.at(-1)!.metadata.ranges[0].numbers.end;
      expect(end).toBeGreaterThanOrEqual(20);
      expect(end).toBeLessThanOrEqual(head);
      expectTiled(files, 0, end, location.table);
      if (location.table === "blocks") expect(blockNums).toEqual(Array.from({ length: end + 1 }, (_, i) => BigInt(i)));
      if (location.table === "transactions") expect(blockNums).toEqual([BigInt(txBlock)]);
    }
    const kinds = (await jobEvents(jobId)).map((event) => event.kind);
    expect(kinds.slice(0, 2)).toEqual(["scheduled", "running"]);
    expect(kinds.filter((kind) => !kind.startsWith("step_")).slice(2)).toEqual(["stop_requested", "stopping", "stopped"]);
    expect(kinds).not.toContain("completed");
  });
});
