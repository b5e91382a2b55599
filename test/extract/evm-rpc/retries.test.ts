/**
 * Failures injected by the fault proxy into real HTTP traffic: what is
 * retried (and how long the client waits), and what surfaces as fatal.
 * Elapsed times are only checked from below: a busy machine can only make
 * them longer.
 */
import { describe, expect, it } from "vitest";
import { ClassifiedError, FatalError, RetryableError } from "../../../src/domain/errors";
import { EvmRpcClient, type EvmRpcClientOptions, type EvmRpcProviderSettings } from "../../../src/extract/evm-rpc/client";
import { MethodNotSupportedError } from "../../../src/extract/evm-rpc/json-rpc";
import { FaultScenario } from "../../support/fault-control";
import { harness } from "../../support/provided-context";
import { drain, expectRejection, extractRange } from "./helpers";

const { anvilUrl, harnessUrl, chain } = harness();
const FAST_RETRY = { retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 } } satisfies EvmRpcClientOptions;

function client(scenario: FaultScenario, settings: Partial<EvmRpcProviderSettings> = {}, options: EvmRpcClientOptions = FAST_RETRY) {
  return new EvmRpcClient({ url: scenario.rpcUrl, ...settings }, options);
}

async function statuses(scenario: FaultScenario): Promise<number[]> {
  return (await scenario.log()).requests.map((request) => request.status);
}

describe("evm-rpc retries", () => {
  it("HTTP 429 with Retry-After in seconds: waits as long as asked, then succeeds", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "status", status: 429, retryAfter: "1", times: 2 });
    const started = Date.now();
    expect(await client(scenario).head(false)).toBe(chain.head);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1950);
    expect(await statuses(scenario)).toEqual([429, 429, 200]);
  });

  it("HTTP 503 with Retry-After as an HTTP date", async () => {
    const scenario = new FaultScenario(harnessUrl);
    // HTTP dates have whole seconds: 2 s ahead is at least 1 s of waiting.
    await scenario.inject({ kind: "status", status: 503, retryAfter: new Date(Date.now() + 2000).toUTCString(), times: 1 });
    const started = Date.now();
    expect(await client(scenario).head(false)).toBe(chain.head);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(await statuses(scenario)).toEqual([503, 200]);
  });

  it("HTTP 429 without Retry-After: full-jitter backoff, growing", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "status", status: 429, times: 3 });
    const result = await client(scenario, {}, { retry: { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 1000 } }).head(false);
    expect(result).toBe(chain.head);
    expect(await statuses(scenario)).toEqual([429, 429, 429, 200]);
  });

  it("HTTP 500 on blocks and receipts in a batched range: retried, same columns", async () => {
    const baseline = await extractRange({ url: anvilUrl }, 0, chain.head);
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "status", status: 500, times: 3 });
    const result = await extractRange({ url: scenario.rpcUrl, rpc_batch_size: 5 }, 0, chain.head, FAST_RETRY);
    expect(result.tables).toEqual(baseline.tables);
    const seen = await statuses(scenario);
    expect(seen.filter((status) => status === 500)).toHaveLength(3);
  });

  it.each([
    ["a body that is not JSON-RPC", { kind: "garbage", times: 2 } as const],
    ["a dropped connection", { kind: "disconnect", times: 2 } as const],
    ["HTTP 502", { kind: "status", status: 502, times: 2 } as const],
    ["HTTP 408", { kind: "status", status: 408, times: 2 } as const],
  ])("%s is retried", async (_, fault) => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject(fault);
    expect(await drain(client(scenario, { rpc_batch_size: 4 }), 0, 10)).toBe(11);
    expect((await scenario.log()).requests.length).toBeGreaterThan(2);
  });

  it("a request slower than requestTimeoutMs is cut and retried", async () => {
    const scenario = new FaultScenario(harnessUrl);
    // A timeout well above a loaded machine's answer time, so only the delayed request is cut.
    await scenario.inject({ kind: "delay", ms: 8000, times: 1 });
    const started = Date.now();
    expect(await client(scenario, {}, { ...FAST_RETRY, requestTimeoutMs: 2000 }).head(false)).toBe(chain.head);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1990);
    expect((await scenario.log()).requests).toHaveLength(2);
  });

  it("a transient JSON-RPC error inside a batch: only the failed call is sent again", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "rpc-error", method: "eth_getBlockByNumber", code: -32000, message: "header not found", times: 1 });
    // One chunk of the ten blocks: one batch of ten calls.
    expect(await drain(client(scenario, { rpc_batch_size: 10 }, { ...FAST_RETRY, chunkBlocks: 10 }), 0, 9)).toBe(10);
    const blockRequests = (await scenario.log()).requests.filter((request) => request.methods[0] === "eth_getBlockByNumber");
    expect(blockRequests.map((request) => request.methods.length)).toEqual([10, 1]);
  });

  it("gives up after maxAttempts with a retryable error that says why", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "status", status: 500, times: 10 });
    const error = await expectRejection(client(scenario).head(false));
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).reason).toBe("server_error");
    expect((error as Error).message).toMatch(/HTTP 500 .* after 4 attempts/);
    expect((error as Error).message).not.toContain("/rpc/");
    expect(await statuses(scenario)).toEqual([500, 500, 500, 500]);
  });

  it("a Retry-After longer than the client waits for goes to the caller at once, with the wait", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "status", status: 429, retryAfter: "120", times: 1 });
    const error = await expectRejection(client(scenario, {}, { ...FAST_RETRY, maxRetryAfterMs: 10_000 }).head(false));
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).reason).toBe("rate_limited");
    expect((error as RetryableError).retryAfterMs).toBe(120_000);
    expect((await scenario.log()).requests).toHaveLength(1);
  });

  it("a block beyond the head is retryable (the node may not have it yet)", async () => {
    const error = await expectRejection(drain(new EvmRpcClient({ url: anvilUrl }, FAST_RETRY), chain.head, chain.head + 2));
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).reason).toBe("block_not_available");
  });

  it("a block that fails validation once is fetched again and comes out right", async () => {
    const baseline = await extractRange({ url: anvilUrl }, chain.blocks.logs, chain.blocks.logs);
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "drop-last", method: "eth_getBlockReceipts", times: 1 });
    const result = await extractRange({ url: scenario.rpcUrl }, chain.blocks.logs, chain.blocks.logs, FAST_RETRY);
    expect(result.tables).toEqual(baseline.tables);
    const methods = (await scenario.log()).requests.map((request) => request.methods[0]);
    expect(methods).toEqual(["eth_getBlockByNumber", "eth_getBlockReceipts", "eth_getBlockByNumber", "eth_getBlockReceipts"]);
  });
});

describe("evm-rpc errors that are not retried", () => {
  it("a block that fails validation twice is fatal", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "drop-last", method: "eth_getBlockReceipts", times: 2 });
    const error = await expectRejection(drain(client(scenario), chain.blocks.logs, chain.blocks.logs));
    expect(error).toBeInstanceOf(FatalError);
    expect((error as FatalError).reason).toBe("block_invalid_twice");
    expect((error as Error).message).toMatch(new RegExp(`block ${chain.blocks.logs}: 6 transactions but 5 receipts`));
  });

  it("an unknown method after the fallback (no receipts at all) is fatal", async () => {
    const scenario = new FaultScenario(harnessUrl);
    const unknown = { code: -32601, message: "Method not found", times: 100 };
    await scenario.inject(
      { kind: "rpc-error", method: "eth_getBlockReceipts", ...unknown },
      { kind: "rpc-error", method: "eth_getTransactionReceipt", ...unknown },
    );
    const error = await expectRejection(drain(client(scenario), 0, chain.blocks.contractCreation));
    expect(error).toBeInstanceOf(MethodNotSupportedError);
    expect(error).toBeInstanceOf(FatalError);
    expect((error as MethodNotSupportedError).method).toBe("eth_getTransactionReceipt");
    expect((error as FatalError).reason).toBe("method_not_supported");
    const methods = (await scenario.log()).requests.map((request) => request.methods[0]);
    expect(methods.filter((method) => method === "eth_getTransactionReceipt")).toHaveLength(1);
  });

  it("eth_getBlockByNumber unknown to the node is fatal at once", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "rpc-error", method: "eth_getBlockByNumber", code: -32601, message: "Method not found", times: 1 });
    const error = await expectRejection(client(scenario).head(true));
    expect(error).toBeInstanceOf(MethodNotSupportedError);
    expect((await scenario.log()).requests).toHaveLength(1);
  });

  it("invalid params is fatal", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "rpc-error", method: "eth_getBlockByNumber", code: -32602, message: "invalid argument 0", times: 1 });
    const error = await expectRejection(drain(client(scenario), 0, 0));
    expect(error).toBeInstanceOf(FatalError);
    expect((error as FatalError).reason).toBe("rpc_rejected");
  });

  it.each([401, 403, 404])("HTTP %i is fatal", async (status) => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "status", status, times: 1 });
    const error = await expectRejection(client(scenario).head(false));
    expect(error).toBeInstanceOf(FatalError);
    expect((error as FatalError).reason).toBe("http_rejected");
    expect((await scenario.log()).requests).toHaveLength(1);
  });

  it.each([
    [{ url: "wss://node.example/ws" }, /http\(s\)/],
    [{ url: "not a url" }, /not a URL/],
    [{ url: "http://127.0.0.1:1", rpc_batch_size: -1 }, /rpc_batch_size/],
    [{ url: "http://127.0.0.1:1", rpc_batch_size: 2.5 }, /rpc_batch_size/],
    [{ url: "http://127.0.0.1:1", concurrent_request_limit: 0 }, /concurrent_request_limit/],
    [{ url: "http://127.0.0.1:1", concurrent_request_limit: 70_000 }, /concurrent_request_limit/],
    [{ url: "http://127.0.0.1:1", rate_limit_per_minute: 0 }, /rate_limit_per_minute/],
  ])("provider settings %j are refused as fatal", (settings, message) => {
    let error: unknown;
    try {
      new EvmRpcClient(settings);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(FatalError);
    expect((error as FatalError).reason).toBe("invalid_provider");
    expect((error as Error).message).toMatch(message);
  });

  it("the provider's URL path (often an API key) never appears in errors", async () => {
    const error = await expectRejection(
      new EvmRpcClient({ url: "http://127.0.0.1:1/v3/secret-key-123" }, { retry: { maxAttempts: 1 } }).head(false),
    );
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as ClassifiedError).reason).toBe("network");
    expect((error as Error).message).not.toContain("secret-key-123");
  });
});
