/**
 * Deploy's `verify: true` end to end: the flag travels from the request through the job's descriptor and its
 * runner to every step, whose evm-rpc client checks each block before writing it. A provider that alters one
 * field of one block fails the job with the block and the field named, and nothing is written for that range.
 * Datasets start at block 1: anvil's own genesis block does not verify (its receiptsRoot is zero).
 */
import { describe, expect, it } from "vitest";
import { FaultScenario } from "../support/fault-control";
import { harness } from "../support/provided-context";
import { deploy, filesOf, jobEvents, locationsOf, setupDataset, verifyLocationFiles, waitForJob } from "./e2e-support";

const { anvilUrl, harnessUrl, chain } = harness();
const END = 29;

describe("deploy with verify: true", () => {
  it("verifies every block and completes with every block once, the descriptor saying verify", async () => {
    const dataset = await setupDataset({ providerUrl: anvilUrl, startBlock: 1 });
    const jobId = await deploy(dataset, { end_block: END, parallelism: 2, verify: true });
    const job = await waitForJob(jobId, { timeoutMs: 120_000 });
    expect(job.status, job.failure_reason).toBe("COMPLETED");
    expect(job.descriptor).toMatchObject({ Dump: { verify: true } });
    for (const location of await locationsOf(dataset)) {
      const { blockNums } = await verifyLocationFiles(location);
      if (location.table === "blocks") expect(blockNums).toEqual(Array.from({ length: END }, (_, i) => BigInt(i + 1)));
    }
  });

  it("a provider that alters one field of one block: FAILED, naming the block and the field; nothing written for that step's range", async () => {
    // The EIP-7702 transaction's authorization nonce: its envelope, and so its hash and the block's transactions root.
    const altered = chain.blocks.setCode;
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "alter", method: "eth_getBlockByNumber", params: [`0x${altered.toString(16)}`, true], path: "transactions.0.authorizationList.0.nonce", value: "0x63", times: 1000 });
    const dataset = await setupDataset({ providerUrl: scenario.rpcUrl, startBlock: 1 });
    const jobId = await deploy(dataset, { end_block: END, parallelism: 1, verify: true });
    const job = await waitForJob(jobId, { timeoutMs: 120_000 });
    expect(job.status).toBe("FAILED");
    expect(job.failure_reason).toMatch(new RegExp(`block ${altered}: verification failed \\(prague header\\): transactions\\[0\\]\\.hash computed 0x[0-9a-f]{64} from its fields, the node sent 0x[0-9a-f]{64}; transactionsRoot computed`));
    expect(job.failure_reason).toContain("(again after fetching it a second time)");

    const events = await jobEvents(jobId);
    // Failed at the first attempt, not retried: a verification failure is fatal.
    const failures = events.filter((event) => event.kind === "step_failed");
    expect(failures).toHaveLength(1);
    expect(failures[0]!.detail).toMatchObject({ retryable: false, error: "verification_failed", attempt: 1 });
    const range = (failures[0]!.detail as { range: { start: number; end: number } }).range;
    expect(range.start).toBeLessThanOrEqual(altered);
    expect(range.end).toBeGreaterThanOrEqual(altered);
    expect(events.at(-1)).toMatchObject({ kind: "failed", detail: { reason: job.failure_reason } });

    // The steps before it wrote their files; none of any table reaches into the failed step's range.
    for (const location of await locationsOf(dataset)) {
      const files = await filesOf(location);
      expect(files.length, location.table).toBeGreaterThan(0);
      for (const file of files) {
        const numbers = file.metadata.ranges[0].numbers;
        expect(numbers.end < range.start || numbers.start > range.end, `${location.table} ${file.file_name}`).toBe(true);
      }
    }
  });
});
