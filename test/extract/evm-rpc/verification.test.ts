/**
 * Deploy's `verify` in the evm-rpc client: every block checked against its hash and roots before its rows are
 * handed out, over real HTTP from anvil, with the fault proxy altering one field of one block's answers.
 */
import { describe, expect, it } from "vitest";
import { FatalError } from "../../../src/domain/errors";
import { EvmRpcClient, type EvmRpcClientOptions } from "../../../src/extract/evm-rpc/client";
import { FaultScenario } from "../../support/fault-control";
import { harness } from "../../support/provided-context";
import { drain, expectRejection, extractRange, quantity, rowsOf } from "./helpers";

const { anvilUrl, harnessUrl, chain } = harness();
const VERIFY = { verify: true, retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 } } satisfies EvmRpcClientOptions;
/** Six transactions with LOG0..LOG4 and one with all five. */
const block = chain.blocks.logs;

/** eth_getBlockByNumber calls the proxy saw (the client reads nothing else with it here), counted per call. */
async function fullFetches(scenario: FaultScenario): Promise<number> {
  return (await scenario.log()).requests.flatMap((request) => request.methods).filter((method) => method === "eth_getBlockByNumber").length;
}

describe("evm-rpc verification", () => {
  it("passes every block of the test chain after genesis, batched or not, with the rows of an unverified run", async () => {
    const plain = await extractRange({ url: anvilUrl }, 1, chain.head);
    for (const settings of [{ url: anvilUrl }, { url: anvilUrl, rpc_batch_size: 1 }, { url: anvilUrl, fetch_receipts_per_tx: true }]) {
      const verified = await extractRange(settings, 1, chain.head, VERIFY);
      expect(verified.tables).toEqual(plain.tables);
      expect(verified.blocks).toEqual(plain.blocks);
    }
  });

  it("fails on anvil's genesis, whose receiptsRoot is 32 zero bytes instead of the empty trie's root", async () => {
    const error = await expectRejection(drain(new EvmRpcClient({ url: anvilUrl }, VERIFY), 0, 3));
    expect(error).toBeInstanceOf(FatalError);
    expect((error as FatalError).reason).toBe("verification_failed");
    expect((error as FatalError).message).toMatch(/^block 0: verification failed \(prague header\): receiptsRoot computed 0x56e81f17\w+ from 0 receipts, the node sent 0x0{64} \(again after fetching it a second time\)$/);
  });

  const alterations = [
    ["a log's data", { method: "eth_getBlockReceipts", params: [quantity(block)], path: "5.logs.2.data", value: "0x00" }, /receiptsRoot computed/],
    ["a transaction's value", { method: "eth_getBlockByNumber", params: [quantity(block), true], path: "transactions.3.value", value: "0x1" }, /transactions\[3\]\.hash computed .*; transactionsRoot computed/],
    ["the header's gas used", { method: "eth_getBlockByNumber", params: [quantity(block), true], path: "gasUsed", value: "0x1" }, /: hash computed 0x\w+ from the prague header, the node sent/],
    ["a log's topic", { method: "eth_getBlockReceipts", params: [quantity(block)], path: "2.logs.0.topics.1", value: `0x${"77".repeat(32)}` }, /receiptsRoot computed .*; logsBloom computed/],
  ] as const;

  it.each(alterations)("%s altered in every answer: fatal verification_failed naming the block and the field, after one refetch", async (_, fault, named) => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "alter", times: 100, ...fault, params: [...fault.params] });
    const error = await expectRejection(drain(new EvmRpcClient({ url: scenario.rpcUrl, rpc_batch_size: 1 }, VERIFY), block - 1, block + 1));
    expect(error).toBeInstanceOf(FatalError);
    expect((error as FatalError).reason).toBe("verification_failed");
    expect((error as FatalError).message).toMatch(new RegExp(`^block ${block}: verification failed \\(prague header\\): `));
    expect((error as FatalError).message).toMatch(named);
    // Blocks block-1..block+1 once each, then the failed one again.
    expect(await fullFetches(scenario)).toBe(4);
  });

  it("an alteration in one answer only: the refetch gets the node's block, and the rows are the node's", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "alter", times: 1, method: "eth_getBlockReceipts", params: [quantity(block)], path: "5.logs.2.data", value: "0x00" });
    const verified = await extractRange({ url: scenario.rpcUrl, rpc_batch_size: 1 }, block - 1, block + 1, VERIFY);
    const plain = await extractRange({ url: anvilUrl }, block - 1, block + 1);
    expect(verified.tables).toEqual(plain.tables);
    expect(await fullFetches(scenario)).toBe(4);
  });

  it("without verify, the altered value goes into the rows: the check is what catches it", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "alter", times: 100, method: "eth_getBlockReceipts", params: [quantity(block)], path: "5.logs.2.data", value: "0x00" });
    const unverified = await extractRange({ url: scenario.rpcUrl, rpc_batch_size: 1 }, block, block);
    const logs = rowsOf(unverified.tables, "logs", block);
    expect(logs.map((log) => log.data)).toContainEqual(Uint8Array.of(0));
  });
});
