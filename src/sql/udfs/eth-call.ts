/**
 * `<dataset>.eth_call(from, to, input, block)` (derived-datasets.md §3.4,
 * HEAD's arguments): an `eth_call` through a provider of kind evm-rpc on the
 * dataset's network, chosen once per query. Calls keep within the provider's
 * `concurrent_request_limit` and `rate_limit_per_minute`, as extraction does.
 * A revert (JSON-RPC error 3 or -32000) gives `{data: <revert data>, message}`;
 * any other failure, after 3 attempts, `{message: "unexpected rpc error"}`.
 */
import { DEFAULT_CONCURRENT_REQUEST_LIMIT, type EvmRpcConfig } from "../../domain/provider";
import { SqlInputError } from "../sql-errors";
import type { EngineValue } from "../sql-values";
import type { SqlFunction } from "./evm-functions";

const BLOCK_TAGS = new Set(["latest", "pending", "earliest", "safe", "finalized"]);
const ATTEMPTS = 3;

function blockParam(block: EngineValue): string {
  if (typeof block === "bigint" || typeof block === "number") {
    if (Number(block) < 0) throw new SqlInputError("QUERY_ERROR", "block number cannot be negative");
    return `0x${BigInt(block).toString(16)}`;
  }
  if (typeof block === "string") {
    if (BLOCK_TAGS.has(block)) return block;
    if (/^0x[0-9a-fA-F]+$/.test(block)) return block;
    if (/^\d+$/.test(block)) return `0x${BigInt(block).toString(16)}`;
  }
  throw new SqlInputError("QUERY_ERROR", `'block' must be a block number, 0x-hex number or tag, got ${String(block)}`);
}

function address(value: EngineValue, what: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== "string" || !/^0x[0-9a-f]{40}$/i.test(value)) throw new SqlInputError("QUERY_ERROR", `'${what}' address is not a valid address`);
  return value;
}

/** Start times of recent requests, to keep within a per-minute rate. */
class CallLimiter {
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly starts: number[] = [];

  constructor(private readonly config: EvmRpcConfig) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    while (this.inFlight >= (this.config.concurrent_request_limit ?? DEFAULT_CONCURRENT_REQUEST_LIMIT)) await new Promise<void>((resolve) => this.waiting.push(resolve));
    const perMinute = this.config.rate_limit_per_minute;
    if (perMinute !== undefined) {
      for (;;) {
        const now = Date.now();
        while (this.starts.length > 0 && now - this.starts[0]! >= 60_000) this.starts.shift();
        if (this.starts.length < perMinute) break;
        await new Promise((resolve) => setTimeout(resolve, 60_000 - (now - this.starts[0]!)));
      }
      this.starts.push(Date.now());
    }
    this.inFlight++;
    try {
      return await task();
    } finally {
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }
}

export function ethCallFunction(config: EvmRpcConfig): SqlFunction {
  const limiter = new CallLimiter(config);
  const call = async (body: string): Promise<{ result?: string; error?: { code: number; message?: string; data?: unknown } } | null> => {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        const response = await limiter.run(() => fetch(config.url, { method: "POST", headers: { "content-type": "application/json" }, body }));
        if (response.ok) return (await response.json()) as { result?: string; error?: { code: number; message?: string; data?: unknown } };
      } catch {
        // retried below
      }
    }
    return null;
  };
  return {
    minArgs: 4,
    maxArgs: 4,
    resultType() {
      return {
        type: { Struct: [{ name: "data", type: "Binary", nullable: true }, { name: "message", type: "Utf8", nullable: true }] },
        nullable: false,
      };
    },
    async apply(from, to, input, block) {
      if (to === null || to === undefined) throw new SqlInputError("QUERY_ERROR", "'to' must not be NULL");
      if (block === null || block === undefined) throw new SqlInputError("QUERY_ERROR", "'block' must not be NULL");
      const request = { from: address(from, "from"), to: address(to, "to"), data: typeof input === "string" ? input : undefined };
      const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_call", params: [request, blockParam(block)] });
      const answer = await call(body);
      if (answer?.result !== undefined) return { data: answer.result.toLowerCase(), message: null };
      const error = answer?.error;
      if (error && (error.code === 3 || error.code === -32000)) {
        const data = typeof error.data === "string" && /^0x[0-9a-fA-F]*$/.test(error.data) ? error.data.toLowerCase() : null;
        return { data, message: error.message || null };
      }
      return { data: null, message: "unexpected rpc error" };
    },
  };
}
