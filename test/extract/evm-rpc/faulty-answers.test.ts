/**
 * Every shape of faulty answer the campaign's provider gives (the fault
 * mix, test/support/harness-types.ts), one at a time, on block and on
 * receipt requests through the fault proxy: the client retries or leaves a
 * retryable error for the step, and what it finally yields is exactly what a
 * clean node gives. A bad answer is never turned into rows.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { FatalError, RetryableError } from "../../../src/domain/errors";
import { EvmRpcClient, type EvmRpcClientOptions, type EvmRpcProviderSettings } from "../../../src/extract/evm-rpc/client";
import { FaultScenario } from "../../support/fault-control";
import { MIX_FAULTS, type MixFault } from "../../support/harness-types";
import { harness } from "../../support/provided-context";
import { drain, type Extracted, expectRejection, extractRange } from "./helpers";

const { anvilUrl, harnessUrl, chain } = harness();
const OPTIONS = { retry: { maxAttempts: 6, baseDelayMs: 1, maxDelayMs: 5 }, requestTimeoutMs: 5_000 } satisfies EvmRpcClientOptions;
/** How often the step is run again after a retryable error, as the runner would. */
const STEP_ATTEMPTS = 4;

let clean: Extracted;

beforeAll(async () => {
  clean = await extractRange({ url: anvilUrl }, 0, chain.head);
});

/** The range as the runner gets it in the end: a retryable error runs the whole step again. */
async function extractAsSteps(settings: EvmRpcProviderSettings): Promise<{ result: Extracted; retryableErrors: RetryableError[] }> {
  const retryableErrors: RetryableError[] = [];
  for (;;) {
    try {
      return { result: await extractRange(settings, 0, chain.head, OPTIONS), retryableErrors };
    } catch (error) {
      if (!(error instanceof RetryableError) || retryableErrors.length >= STEP_ATTEMPTS) throw error;
      retryableErrors.push(error);
    }
  }
}

describe.each(["eth_getBlockByNumber", "eth_getBlockReceipts"])("a faulty answer to %s", (method) => {
  it.each(MIX_FAULTS.filter((fault) => fault !== "timeout"))("%s: retried, and the rows are the clean node's", async (fault: MixFault) => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "mixed", fault, method, times: 2 });
    const { result } = await extractAsSteps({ url: scenario.rpcUrl, rpc_batch_size: 4 });
    expect((await scenario.log()).mixed[fault]).toBe(2);
    expect(result.blocks).toEqual(clean.blocks);
    expect(result.tables).toEqual(clean.tables);
  });
});

it("an answer past the request timeout: cut, retried, the rows are the clean node's", async () => {
  const scenario = new FaultScenario(harnessUrl);
  await scenario.inject({ kind: "mixed", fault: "timeout", method: "eth_getBlockReceipts", times: 1, timeoutMs: 8_000 });
  const result = await extractRange({ url: scenario.rpcUrl, rpc_batch_size: 4 }, 0, chain.head, { ...OPTIONS, requestTimeoutMs: 3_000 });
  expect((await scenario.log()).mixed.timeout).toBe(1);
  expect(result.tables).toEqual(clean.tables);
});

describe("receipts a lagging node answers null for", () => {
  it("eth_getBlockReceipts null twice in a row: retryable for the step (the node is behind), not a fatal invalid block", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "null-result", method: "eth_getBlockReceipts", times: 2 });
    const error = await expectRejection(drain(new EvmRpcClient({ url: scenario.rpcUrl }, OPTIONS), chain.blocks.logs, chain.blocks.logs));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).not.toBeInstanceOf(FatalError);
    expect((error as RetryableError).reason).toBe("block_not_available");
    expect((error as Error).message).toMatch(new RegExp(`receipts of block ${chain.blocks.logs} are not available`));
  });

  it("eth_getTransactionReceipt null (fetch_receipts_per_tx): retryable, and the next try has every receipt", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "null-result", method: "eth_getTransactionReceipt", times: 3 });
    const { result, retryableErrors } = await extractAsSteps({ url: scenario.rpcUrl, fetch_receipts_per_tx: true, rpc_batch_size: 4 });
    expect(retryableErrors.map((error) => error.reason)).toContain("block_not_available");
    expect(result.tables).toEqual(clean.tables);
  });
});

it("blockHashes refuses another block's hash for the one asked for (a false reorg, a file named after the wrong block)", async () => {
  const scenario = new FaultScenario(harnessUrl);
  await scenario.inject({ kind: "wrong-block", method: "eth_getBlockByNumber", times: 1 });
  const client = new EvmRpcClient({ url: scenario.rpcUrl }, { ...OPTIONS, retry: { maxAttempts: 1 } });
  const error = await expectRejection(client.blockHashes([chain.blocks.logs]));
  expect(error).toBeInstanceOf(RetryableError);
  expect((error as RetryableError).reason).toBe("invalid_response");
  expect((error as Error).message).toMatch(new RegExp(`block ${chain.blocks.logs}: the node returned block`));
  // The next answer is right, and taken.
  expect((await client.blockHashes([chain.blocks.logs])).get(chain.blocks.logs)).toBe(clean.blocks[chain.blocks.logs]!.hash);
});
