/**
 * Provider settings through real HTTP: every way of fetching gives the same
 * columns, and the proxy's request log shows batching, per-transaction
 * receipts, the fallback, the concurrency limit and the rate limit at work.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { EvmRpcClient } from "../../../src/extract/evm-rpc/client";
import { FaultScenario } from "../../support/fault-control";
import { harness } from "../../support/provided-context";
import { extractRange, rawRpc, type Extracted } from "./helpers";

const { anvilUrl, harnessUrl, chain } = harness();

describe("evm-rpc fetching modes", () => {
  let baseline: Extracted;

  beforeAll(async () => {
    baseline = await extractRange({ url: anvilUrl }, 0, chain.head);
  });

  it.each([
    ["unbatched, block receipts", { rpc_batch_size: 0 }],
    ["rpc_batch_size 1 is unbatched", { rpc_batch_size: 1 }],
    ["batches of 7", { rpc_batch_size: 7 }],
    ["batches of 100", { rpc_batch_size: 100 }],
    ["unbatched, receipts per transaction", { fetch_receipts_per_tx: true }],
    ["batches of 3, receipts per transaction", { rpc_batch_size: 3, fetch_receipts_per_tx: true }],
    ["one request at a time", { concurrent_request_limit: 1 }],
    ["no tuning fields: the client finds batch size and requests in flight", {}],
  ])("%s gives the same columns and block refs", async (_, settings) => {
    const scenario = new FaultScenario(harnessUrl);
    const result = await extractRange({ url: scenario.rpcUrl, ...settings }, 0, chain.head);
    expect(result.tables).toEqual(baseline.tables);
    expect(result.blocks).toEqual(baseline.blocks);
  });

  it("head: the latest or the finalized block, as the node says", async () => {
    const client = new EvmRpcClient({ url: anvilUrl, rpc_batch_size: 10 });
    expect(await client.head(false)).toBe(chain.head);
    const finalized = await rawRpc(anvilUrl, "eth_getBlockByNumber", ["finalized", false]);
    expect(await client.head(true)).toBe(Number(finalized.number));
  });

  it("unbatched: one call per HTTP request, block receipts only for blocks with transactions", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await extractRange({ url: scenario.rpcUrl, rpc_batch_size: 0 }, 0, chain.head);
    const { requests } = await scenario.log();
    expect(requests.every((request) => !request.batch && request.methods.length === 1)).toBe(true);
    const count = (method: string) => requests.filter((request) => request.methods[0] === method).length;
    expect(count("eth_getBlockByNumber")).toBe(chain.head + 1);
    // Every block but the genesis and the empty ones has transactions.
    expect(count("eth_getBlockReceipts")).toBe(chain.head - chain.blocks.empty.length);
    expect(count("eth_getTransactionReceipt")).toBe(0);
  });

  it("batched: JSON-RPC batches of rpc_batch_size calls", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await extractRange({ url: scenario.rpcUrl, rpc_batch_size: 7 }, 0, chain.head);
    const { requests } = await scenario.log();
    const sizes = requests.map((request) => request.methods.length);
    expect(Math.max(...sizes)).toBe(7);
    expect(requests.filter((request) => request.methods.length > 1).every((request) => request.batch)).toBe(true);
    expect(requests.every((request) => new Set(request.methods).size === 1)).toBe(true);
    const blockCalls = requests.filter((request) => request.methods[0] === "eth_getBlockByNumber");
    expect(blockCalls.reduce((sum, request) => sum + request.methods.length, 0)).toBe(chain.head + 1);
    expect(blockCalls.length).toBeLessThan(chain.head + 1);
  });

  it("fetch_receipts_per_tx: eth_getTransactionReceipt for every transaction, never eth_getBlockReceipts", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await extractRange({ url: scenario.rpcUrl, fetch_receipts_per_tx: true }, 0, chain.head);
    const methods = (await scenario.log()).requests.flatMap((request) => request.methods);
    expect(methods).not.toContain("eth_getBlockReceipts");
    const successful = baseline.tables.transactions._block_num.length;
    const failed = chain.revertedTransactions.length;
    expect(methods.filter((method) => method === "eth_getTransactionReceipt")).toHaveLength(successful + failed);
  });

  it("a node without eth_getBlockReceipts: falls back to per-transaction receipts for good", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({
      kind: "rpc-error",
      method: "eth_getBlockReceipts",
      code: -32601,
      message: "the method eth_getBlockReceipts does not exist/is not available",
      times: 1000,
    });
    const result = await extractRange({ url: scenario.rpcUrl, rpc_batch_size: 5 }, 0, chain.head, { chunkBlocks: 10 });
    expect(result.chunks).toBe(Math.ceil((chain.head + 1) / 10));
    expect(result.tables).toEqual(baseline.tables);
    const methods = (await scenario.log()).requests.flatMap((request) => request.methods);
    // The first chunk with transactions asks once (a batch), then never again.
    const asked = methods.filter((method) => method === "eth_getBlockReceipts").length;
    expect(asked).toBeGreaterThan(0);
    expect(asked).toBeLessThanOrEqual(5);
    expect(methods.filter((method) => method === "eth_getTransactionReceipt").length).toBeGreaterThan(0);
  });

  it("small chunks give the same columns as one big one", async () => {
    const result = await extractRange({ url: anvilUrl, rpc_batch_size: 4 }, 0, chain.head, { chunkBlocks: 3 });
    expect(result.chunks).toBe(Math.ceil((chain.head + 1) / 3));
    expect(result.tables).toEqual(baseline.tables);
  });

  it("a sub-range starts and ends where asked", async () => {
    const { logs, revertedFirst } = chain.blocks;
    const result = await extractRange({ url: anvilUrl, rpc_batch_size: 2 }, logs, revertedFirst);
    expect(result.blocks.map((ref) => ref.number)).toEqual(Array.from({ length: revertedFirst - logs + 1 }, (_, i) => logs + i));
    expect(new Set(result.tables.logs._block_num)).toEqual(
      new Set(baseline.tables.logs._block_num.filter((n) => n >= BigInt(logs) && n <= BigInt(revertedFirst))),
    );
  });

  it.each([
    [1, { rpc_batch_size: 0 }],
    [3, { rpc_batch_size: 0 }],
    [2, { rpc_batch_size: 2 }],
  ])("concurrent_request_limit %i caps the requests in flight", async (limit, settings) => {
    const scenario = new FaultScenario(harnessUrl);
    // Slow answers make requests overlap whenever the client allows it.
    await scenario.inject({ kind: "delay", ms: 15, times: 1000 });
    await extractRange({ url: scenario.rpcUrl, concurrent_request_limit: limit, ...settings }, 0, 24);
    expect((await scenario.log()).maxInFlight).toBe(limit);
  });

  it("rate_limit_per_minute: a burst of the quota, then one request per 60/n seconds", async () => {
    const scenario = new FaultScenario(harnessUrl);
    const client = new EvmRpcClient({ url: scenario.rpcUrl, rate_limit_per_minute: 60 });
    const heads = await Promise.all(Array.from({ length: 63 }, () => client.head(false)));
    expect(new Set(heads)).toEqual(new Set([chain.head]));
    const times = (await scenario.log()).requests.map((request) => request.at).sort((a, b) => a - b);
    expect(times).toHaveLength(63);
    // 60 tokens at once; the 61st, 62nd and 63rd wait for 1, 2 and 3 s of refill. The times are the proxy's, so
    // the first request may arrive late on a loaded machine: half a second of slack, where no limit would give ~0.
    expect(times[62]! - times[0]!).toBeGreaterThanOrEqual(2500);
    expect(times[61]! - times[0]!).toBeGreaterThanOrEqual(1500);
  });
});
