/**
 * A provider registered without rpc_batch_size and concurrent_request_limit:
 * the client finds its own batch size and requests in flight, against anvil
 * and against the fault proxy playing providers that cap batches or count
 * every call against a rate limit. Explicit settings stay hard limits.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ClassifiedError } from "../../../src/domain/errors";
import { CHUNK_ANSWER_BYTES, FIRST_CHUNK_BLOCKS } from "../../../src/domain/chunk-sizing";
import { DEFAULT_MAX_BATCH_SIZE, MAX_CONNECTIONS } from "../../../src/domain/rpc-tuning";
import { retryOptions } from "../../../src/domain/errors";
import { JsonRpcTransport } from "../../../src/extract/evm-rpc/json-rpc";
import { RequestPacing } from "../../../src/extract/evm-rpc/pacing";
import { EvmRpcClient, type EvmRpcClientOptions, evmRpcSourceOptions } from "../../../src/extract/evm-rpc/client";
import type { TableColumns } from "../../../src/extract/block-source";
import { emptyColumns, type EvmRpcColumns } from "../../../src/extract/evm-rpc/columns";
import { FaultScenario } from "../../support/fault-control";
import { harness } from "../../support/provided-context";
import { drain, expectRejection, extractRange, type Extracted, quantity } from "./helpers";

const { anvilUrl, harnessUrl, chain } = harness();
const FAST_RETRY = { retry: { maxAttempts: 8, baseDelayMs: 1, maxDelayMs: 20 } } satisfies EvmRpcClientOptions;

/** The columns of `start..=end` through `client`. */
async function extractWith(client: EvmRpcClient, start: number, end: number): Promise<EvmRpcColumns> {
  const tables = emptyColumns();
  for await (const chunk of client.blocks(start, end)) {
    for (const name of ["blocks", "transactions", "logs"] as const) {
      const into = tables[name] as unknown as TableColumns;
      const from = chunk.tables[name] as unknown as TableColumns;
      for (const column of Object.keys(into)) into[column]!.push(...from[column]!);
    }
  }
  return tables;
}

describe("evm-rpc without tuning fields", () => {
  let baseline: Extracted;

  beforeAll(async () => {
    baseline = await extractRange({ url: anvilUrl, rpc_batch_size: 0 }, 0, chain.head);
  });

  it("batches its calls, stays within 6 requests in flight and the batch limit, and says what it learned", async () => {
    const scenario = new FaultScenario(harnessUrl);
    // Slow answers make requests overlap whenever the client allows it.
    await scenario.inject({ kind: "delay", ms: 10, times: 1000 });
    const client = new EvmRpcClient({ url: scenario.rpcUrl }, FAST_RETRY);
    expect(await extractWith(client, 0, chain.head)).toEqual(baseline.tables);
    const log = await scenario.log();
    expect(log.requests.some((request) => request.batch && request.methods.length > 1)).toBe(true);
    expect(log.maxInFlight).toBeLessThanOrEqual(MAX_CONNECTIONS);
    expect(Math.max(...log.requests.map((request) => request.methods.length))).toBeLessThanOrEqual(DEFAULT_MAX_BATCH_SIZE);
    const learned = client.learned()!;
    expect(learned.batchSize).toBeGreaterThanOrEqual(1);
    expect(learned.inFlight).toBeLessThanOrEqual(MAX_CONNECTIONS);
    expect(client.hints()).toEqual({ tuning: learned, bytesPerBlock: expect.any(Number) });
    expect(client.requests).toBe(log.requests.length);
  });

  it("a provider that caps batches: refused batches are split, nothing is lost, later batches stay under the cap", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "batch-cap", max: 3, times: 10_000 });
    const client = new EvmRpcClient({ url: scenario.rpcUrl }, FAST_RETRY);
    expect(await extractWith(client, 0, chain.head)).toEqual(baseline.tables);
    const sizes = (await scenario.log()).requests.map((request) => request.methods.length);
    expect(sizes.some((size) => size > 3)).toBe(true);
    // Refusals come while the cap is being found; the later half of the requests all fit.
    expect(sizes.slice(Math.floor(sizes.length / 2)).every((size) => size <= 3)).toBe(true);
    expect(client.learned()!.batchCap).toBeLessThanOrEqual(3);
  });

  it("a provider that takes no batches at all: single calls", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "batch-cap", max: 1, times: 10_000 });
    const client = new EvmRpcClient({ url: scenario.rpcUrl }, FAST_RETRY);
    expect(await extractWith(client, 0, chain.head)).toEqual(baseline.tables);
    expect(client.learned()).toMatchObject({ batchSize: 1, batchCap: 1 });
    const requests = (await scenario.log()).requests;
    expect(requests.at(-1)!.methods).toHaveLength(1);
  });

  it("a provider that counts each call against its rate: answers 429, the client slows down and completes", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "call-rate", calls: 30, perMs: 300, times: 10_000 });
    const client = new EvmRpcClient({ url: scenario.rpcUrl }, { retry: { maxAttempts: 20, baseDelayMs: 20, maxDelayMs: 300 } });
    expect(await extractWith(client, 0, chain.head)).toEqual(baseline.tables);
    const statuses = (await scenario.log()).requests.map((request) => request.status);
    expect(statuses).toContain(429);
    expect(client.learned()!.batchSize).toBeLessThan(30);
  });

  it("a batch takes its calls when it is sent: a tuning found during a long list of calls applies to the rest of it", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "delay", ms: 5, times: 1000 });
    const pacing = new RequestPacing({ batchSize: null, concurrency: null, learned: { batchSize: 10, inFlight: 2, batchCap: null, probing: true } });
    const transport = new JsonRpcTransport({ url: scenario.rpcUrl, pacing, requestBudget: null, rateLimiter: null, retry: retryOptions({}), requestTimeoutMs: 30_000, maxRetryAfterMs: 1000 });
    const results = await transport.callAll(Array.from({ length: 300 }, () => ({ method: "eth_blockNumber", params: [] })));
    expect(results).toEqual(Array.from({ length: 300 }, () => quantity(chain.head)));
    const sizes = (await scenario.log()).requests.map((request) => request.methods.length);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(300);
    // The first window's answers grow the batch (a first window always does); later batches of the same list are
    // bigger. Cut up front, all 30 were batches of 10.
    expect(sizes.slice(0, 4)).toEqual([10, 10, 10, 10]);
    expect(Math.max(...sizes)).toBeGreaterThan(10);
  });

  it("starts from what an earlier step learned", async () => {
    const scenario = new FaultScenario(harnessUrl);
    const client = new EvmRpcClient({ url: scenario.rpcUrl }, { ...FAST_RETRY, learned: { batchSize: 7, inFlight: 1, batchCap: null } });
    await drain(client, 0, 20);
    const [first] = (await scenario.log()).requests;
    expect(first!.methods).toHaveLength(7);
  });

  it("keeps within its subrequest budget by batching more, and fails clearly where explicit settings cannot", async () => {
    const scenario = new FaultScenario(harnessUrl);
    const client = new EvmRpcClient({ url: scenario.rpcUrl }, { ...FAST_RETRY, requestBudget: 8 });
    expect(await drain(client, 0, 24)).toBe(25);
    expect((await scenario.log()).requests.length).toBeLessThanOrEqual(8);

    // Dense blocks would make chunks of a block or two, each a request or two: the budget keeps them large enough.
    const denseScenario = new FaultScenario(harnessUrl);
    const dense = new EvmRpcClient({ url: denseScenario.rpcUrl }, { ...FAST_RETRY, requestBudget: 8, bytesPerBlock: 2 * 1024 * 1024 });
    expect(await drain(dense, 0, 24)).toBe(25);
    expect((await denseScenario.log()).requests.length).toBeLessThanOrEqual(8);

    const fixed = new EvmRpcClient({ url: anvilUrl, rpc_batch_size: 0 }, { ...FAST_RETRY, requestBudget: 8 });
    const error = await expectRejection(drain(fixed, 0, 24));
    expect(error).toBeInstanceOf(ClassifiedError);
    expect((error as ClassifiedError).reason).toBe("subrequest_budget");
    expect((error as ClassifiedError).retryable).toBe(false);
  });
});

describe("explicit settings stay hard limits", () => {
  it("rpc_batch_size is not split when a node refuses it: the error surfaces", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "batch-cap", max: 3, times: 10_000 });
    const error = await expectRejection(drain(new EvmRpcClient({ url: scenario.rpcUrl, rpc_batch_size: 5 }, FAST_RETRY), 0, 10));
    expect((error as ClassifiedError).reason).toBe("rpc_rejected");
    expect((await scenario.log()).requests.every((request) => request.methods.length === 5 || request.methods.length === 1)).toBe(true);
  });

  it("concurrent_request_limit above 6 still holds at most 6 connections", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "delay", ms: 15, times: 1000 });
    await drain(new EvmRpcClient({ url: scenario.rpcUrl, rpc_batch_size: 0, concurrent_request_limit: 50 }, FAST_RETRY), 0, 30);
    expect((await scenario.log()).maxInFlight).toBe(MAX_CONNECTIONS);
  });
});

describe("evm-rpc chunks sized by the bytes of the answers", () => {
  let baseline: Extracted;

  beforeAll(async () => {
    baseline = await extractRange({ url: anvilUrl, rpc_batch_size: 0 }, 0, chain.head);
  });

  /** Bytes of the answers of blocks and (for blocks with transactions) receipts of `first..=last`, one call each. */
  async function answerSizes(first: number, last: number): Promise<number> {
    let bytes = 0;
    for (let n = first; n <= last; n++) {
      const block = await rawText("eth_getBlockByNumber", [quantity(n), true]);
      bytes += block.length;
      if ((JSON.parse(block) as { result: { transactions: unknown[] } }).result.transactions.length > 0) {
        bytes += (await rawText("eth_getBlockReceipts", [quantity(n)])).length;
      }
    }
    return bytes;
  }

  async function rawText(method: string, params: unknown[]): Promise<string> {
    const response = await fetch(anvilUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
    return response.text();
  }

  /** Block counts of the chunks of 0..=head, their answerBytes, and the columns. */
  async function chunksOf(client: EvmRpcClient): Promise<{ sizes: number[]; answerBytes: number[]; tables: EvmRpcColumns }> {
    const sizes: number[] = [];
    const answerBytes: number[] = [];
    const tables = emptyColumns();
    for await (const chunk of client.blocks(0, chain.head)) {
      sizes.push(chunk.blocks.length);
      answerBytes.push(chunk.answerBytes ?? 0);
      for (const name of ["blocks", "transactions", "logs"] as const) {
        const into = tables[name] as unknown as TableColumns;
        const from = chunk.tables[name] as unknown as TableColumns;
        for (const column of Object.keys(into)) into[column]!.push(...from[column]!);
      }
    }
    return { sizes, answerBytes, tables };
  }

  it("a job's first chunk is small; then the measured density sizes the chunks, and the hints carry it", async () => {
    const scenario = new FaultScenario(harnessUrl);
    const client = new EvmRpcClient({ url: scenario.rpcUrl }, FAST_RETRY);
    const { sizes, answerBytes, tables } = await chunksOf(client);
    expect(tables).toEqual(baseline.tables);
    expect(sizes[0]).toBe(FIRST_CHUNK_BLOCKS);
    // The test chain is a few kB per block: the rest fits the next chunk, well above the first.
    expect(sizes.length).toBe(2);
    expect(sizes[1]).toBe(chain.head + 1 - FIRST_CHUNK_BLOCKS);
    expect(answerBytes.every((bytes) => bytes > 0)).toBe(true);
    // The density is what the node sent per block, the second chunk weighing half: against the
    // same answers fetched one call at a time (batches add only brackets, commas and ids).
    const sizes1 = await answerSizes(0, FIRST_CHUNK_BLOCKS - 1);
    const sizes2 = await answerSizes(FIRST_CHUNK_BLOCKS, chain.head);
    const expected = 0.5 * (sizes1 / FIRST_CHUNK_BLOCKS) + 0.5 * (sizes2 / (chain.head + 1 - FIRST_CHUNK_BLOCKS));
    const density = client.hints()!.bytesPerBlock as number;
    expect(Math.abs(density - expected) / expected).toBeLessThan(0.05);
  });

  it("a job's next step starts from the carried density: dense blocks go a few per chunk from the first chunk on", async () => {
    const dense = 2 * 1024 * 1024;
    const options = evmRpcSourceOptions({ hints: { bytesPerBlock: dense }, requestBudget: null, verify: false });
    expect(options.bytesPerBlock).toBe(dense);
    const client = new EvmRpcClient({ url: anvilUrl }, { ...FAST_RETRY, ...options });
    const { sizes, tables } = await chunksOf(client);
    expect(tables).toEqual(baseline.tables);
    expect(sizes[0]).toBe(Math.floor(CHUNK_ANSWER_BYTES / dense));
    // The test chain's real density then grows the chunks again.
    expect(Math.max(...sizes)).toBeGreaterThan(sizes[0]!);
  });

  it("an explicit chunkBlocks stays fixed whatever the density", async () => {
    const client = new EvmRpcClient({ url: anvilUrl }, { ...FAST_RETRY, chunkBlocks: 4, bytesPerBlock: 10 * 1024 * 1024 });
    const { sizes, tables } = await chunksOf(client);
    expect(tables).toEqual(baseline.tables);
    expect(sizes.slice(0, -1).every((size) => size === 4)).toBe(true);
  });
});
