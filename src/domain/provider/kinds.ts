/**
 * Kind-specific provider fields (reference-behaviour §5.8). The same schemas
 * check a configuration twice: at creation, where `${VAR}` placeholders are
 * still in it, and when a job resolves it, where every value is concrete.
 * Unknown fields pass through: they are configuration for later versions.
 */

import { z } from "zod";
import { fillPlaceholders, isPlaceholderOnly } from "./placeholders";

/** `stored`: placeholders allowed and checked as far as they can be; `resolved`: every value is final. */
export type CheckMode = "stored" | "resolved";

/** A zod error message that tells a missing field from one of the wrong type. */
export function expected(what: string) {
  return (issue: { input: unknown }) => (issue.input === undefined ? "is required" : `must be ${what}`);
}

const U16_MAX = 65_535;
/** The original's `concurrent_request_limit` where nothing finds it by itself (eth-beacon, eth_call in SQL). */
export const DEFAULT_CONCURRENT_REQUEST_LIMIT = 1024;
const U32_MAX = 4_294_967_295;

function intInRange(min: number, max: number) {
  const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
  const message = `must be ${range}`;
  return z.number({ error: expected(range) }).int({ error: message }).min(min, { error: message }).max(max, { error: message });
}

/** Why `value` is not a URL a Worker can fetch, or undefined when it is. */
function httpUrlProblem(value: string, mode: CheckMode): string | undefined {
  if (value !== value.trim()) return "must not start or end with whitespace";
  let concrete = value;
  if (mode === "stored") {
    // A whole-value placeholder says nothing about the URL yet; it is checked when resolved.
    if (isPlaceholderOnly(value)) return undefined;
    const filled = fillPlaceholders(value, "placeholder");
    if (!filled.ok) return `has a malformed placeholder: ${filled.error.kind === "syntax" ? filled.error.message : "reserved variable"}`;
    concrete = filled.value;
  }
  let url: URL;
  try {
    url = new URL(concrete);
  } catch {
    return "is not a valid absolute URL";
  }
  switch (url.protocol) {
    case "http:":
    case "https:":
      return undefined;
    case "ws:":
    case "wss:":
      return "must be http:// or https://: WebSocket endpoints are not supported, a Worker calls providers over HTTP(S); use the provider's https:// endpoint";
    case "ipc:":
      return "must be http:// or https://: an ipc:// socket is local to one machine and cannot be reached from a Worker";
    default:
      return `must be http:// or https://, not ${url.protocol}//`;
  }
}

function httpUrl(mode: CheckMode) {
  return z.string({ error: expected("a string") }).superRefine((value, ctx) => {
    const problem = httpUrlProblem(value, mode);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
}

const nonEmptyString = z.string({ error: expected("a string") }).min(1, { error: "must not be empty" });

function evmRpcSchema(mode: CheckMode) {
  return z.looseObject({
    url: httpUrl(mode),
    /**
     * Requests in flight at once, a hard limit. No default: when absent the
     * client finds it (src/domain/rpc-tuning.ts), which a default would prevent.
     */
    concurrent_request_limit: intInRange(1, U16_MAX).optional(),
    /** <= 1: one request per call; > 1: JSON-RPC batches of exactly this many calls. Absent: found by the client. */
    rpc_batch_size: intInRange(0, Number.MAX_SAFE_INTEGER).optional(),
    rate_limit_per_minute: intInRange(1, U32_MAX).optional(),
    /** false: eth_getBlockReceipts; true: eth_getTransactionReceipt per transaction. */
    fetch_receipts_per_tx: z.boolean({ error: expected("true or false") }).default(false),
  });
}

function firehoseSchema() {
  return z.looseObject({
    url: nonEmptyString,
    token: z.string({ error: expected("a string") }).optional(),
  });
}

function ethBeaconSchema(mode: CheckMode) {
  return z.looseObject({
    url: httpUrl(mode),
    concurrent_request_limit: intInRange(1, U16_MAX).default(DEFAULT_CONCURRENT_REQUEST_LIMIT),
    rate_limit_per_minute: intInRange(1, U32_MAX).optional(),
  });
}

export function kindSchemas(mode: CheckMode) {
  return {
    "evm-rpc": evmRpcSchema(mode),
    firehose: firehoseSchema(),
    "eth-beacon": ethBeaconSchema(mode),
  } as const;
}

/** Configurations as a job uses them: placeholders resolved, defaults filled in, extra fields kept. */
export type EvmRpcConfig = z.output<ReturnType<typeof evmRpcSchema>>;
export type FirehoseConfig = z.output<ReturnType<typeof firehoseSchema>>;
export type EthBeaconConfig = z.output<ReturnType<typeof ethBeaconSchema>>;
