import {
  backoffDelay,
  FatalError,
  parseRetryAfter,
  RetryableError,
  type RetryOptions,
} from "../../domain/errors";
import { sleep, type RateLimiter, type Semaphore, type Sleep } from "../limits";

/**
 * JSON-RPC 2.0 over HTTP with `fetch` only. Calls are grouped into batch
 * requests of `batchSize` (one call per request when it is <= 1); every HTTP
 * request holds a permit of the semaphore and a token of the rate limiter.
 * Failures are retried with full-jitter backoff, at least as long as a
 * Retry-After header asks, for a bounded number of attempts:
 * - the whole request on network errors, timeouts, HTTP 429, 408 and 5xx,
 *   and bodies that are not valid JSON-RPC responses;
 * - only the failed calls of a batch on transient JSON-RPC errors.
 * A method the node does not know, invalid params and other HTTP 4xx are not
 * retried.
 */

export interface RpcCall {
  method: string;
  params: readonly unknown[];
}

/** The node does not implement `method` (JSON-RPC -32601 and its variants). */
export class MethodNotSupportedError extends FatalError {
  constructor(
    readonly method: string,
    message: string,
  ) {
    super("method_not_supported", message);
  }
}

export interface JsonRpcTransportOptions {
  url: string;
  batchSize: number;
  semaphore: Semaphore;
  rateLimiter: RateLimiter | null;
  retry: RetryOptions;
  /** Per HTTP request, body included. */
  requestTimeoutMs: number;
  /** A Retry-After longer than this is not waited out here: the error goes to the caller to reschedule. */
  maxRetryAfterMs: number;
  random?: () => number;
  wait?: Sleep;
}

interface RpcErrorObject {
  code: number;
  message: string;
}

type Outcome = { result: unknown } | { error: RpcErrorObject };

const METHOD_UNSUPPORTED =
  /method.*(not found|not supported|unsupported|does not exist|not available|not exist)|unsupported method|unknown method/i;

export class JsonRpcTransport {
  private nextId = 1;
  private readonly host: string;
  private readonly random: () => number;
  private readonly wait: Sleep;

  constructor(private readonly options: JsonRpcTransportOptions) {
    // Only the host goes into error messages: paths and queries often hold API keys.
    this.host = new URL(options.url).host;
    this.random = options.random ?? Math.random;
    this.wait = options.wait ?? sleep;
  }

  async call(method: string, params: readonly unknown[]): Promise<unknown> {
    const [result] = await this.sendWithRetry([{ method, params }]);
    return result;
  }

  /** The results of `calls`, in order; batches are sent concurrently, within the limits. */
  async callAll(calls: readonly RpcCall[]): Promise<unknown[]> {
    const size = Math.max(1, this.options.batchSize);
    const groups: RpcCall[][] = [];
    for (let i = 0; i < calls.length; i += size) groups.push(calls.slice(i, i + size));
    const groupResults = await Promise.all(groups.map((group) => this.sendWithRetry(group)));
    return groupResults.flat();
  }

  private async sendWithRetry(calls: readonly RpcCall[]): Promise<unknown[]> {
    const results = new Array<unknown>(calls.length);
    let pending = calls.map((_, index) => index);
    for (let attempt = 1; ; attempt++) {
      let failure: RetryableError;
      try {
        const outcomes = await this.post(pending.map((index) => calls[index]!));
        const failed: number[] = [];
        let lastError: RetryableError | undefined;
        outcomes.forEach((outcome, k) => {
          const index = pending[k]!;
          if ("result" in outcome) {
            results[index] = outcome.result;
            return;
          }
          const error = classifyRpcError(calls[index]!.method, outcome.error);
          if (!(error instanceof RetryableError)) throw error;
          failed.push(index);
          lastError = error;
        });
        if (lastError === undefined) return results;
        pending = failed;
        failure = lastError;
      } catch (error) {
        if (!(error instanceof RetryableError)) throw error;
        failure = error;
      }
      if (attempt >= this.options.retry.maxAttempts) {
        throw new RetryableError(failure.reason, `${failure.message} (gave up after ${attempt} attempts)`, {
          cause: failure,
          retryAfterMs: failure.retryAfterMs,
        });
      }
      await this.pause(failure, attempt);
    }
  }

  private async pause(failure: RetryableError, attempt: number): Promise<void> {
    const { baseDelayMs, maxDelayMs } = this.options.retry;
    const backoff = backoffDelay(attempt, { baseMs: baseDelayMs, maxMs: maxDelayMs }, this.random);
    const retryAfter = failure.retryAfterMs;
    if (retryAfter !== undefined && retryAfter > this.options.maxRetryAfterMs) throw failure;
    await this.wait(Math.max(backoff, retryAfter ?? 0));
  }

  private post(calls: readonly RpcCall[]): Promise<Outcome[]> {
    const ids = calls.map(() => this.nextId++);
    const requests = calls.map((call, i) => ({ jsonrpc: "2.0", id: ids[i], method: call.method, params: call.params }));
    const body = JSON.stringify(requests.length === 1 ? requests[0] : requests);
    return this.options.semaphore.run(async () => {
      await this.options.rateLimiter?.acquire();
      return this.postOnce(body, ids);
    });
  }

  private async postOnce(body: string, ids: readonly number[]): Promise<Outcome[]> {
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body,
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
    } catch (error) {
      throw transportError(error, `request to ${this.host}`);
    }
    const status = response.status;
    if (status === 429 || status === 408 || status >= 500) {
      await response.body?.cancel();
      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), Date.now());
      const reason = status === 429 ? "rate_limited" : status === 408 ? "timeout" : "server_error";
      throw new RetryableError(reason, `HTTP ${status} from ${this.host}`, { retryAfterMs });
    }
    let payload: unknown;
    try {
      payload = await response.json();
    } catch (error) {
      if (!response.ok) throw new FatalError("http_rejected", `HTTP ${status} from ${this.host}`);
      if (isTimeout(error)) throw transportError(error, `reading the response of ${this.host}`);
      throw new RetryableError("invalid_response", `${this.host} answered with a body that is not JSON`, { cause: error });
    }
    // Some nodes answer JSON-RPC errors with an HTTP 4xx: use them when they are readable.
    const outcomes = matchResponses(payload, ids);
    if (outcomes === null) {
      if (!response.ok) throw new FatalError("http_rejected", `HTTP ${status} from ${this.host}`);
      throw new RetryableError("invalid_response", `${this.host} answered with something that is not a JSON-RPC response`);
    }
    return outcomes;
  }
}

/** Outcomes in the order of `ids`, or null when the payload does not answer exactly those requests. */
function matchResponses(payload: unknown, ids: readonly number[]): Outcome[] | null {
  if (Array.isArray(payload)) {
    const byId = new Map<unknown, Outcome>();
    for (const entry of payload) {
      const outcome = toOutcome(entry);
      if (outcome === null) return null;
      byId.set((entry as { id: unknown }).id, outcome);
    }
    const outcomes: Outcome[] = [];
    for (const id of ids) {
      const outcome = byId.get(id);
      if (outcome === undefined) return null;
      outcomes.push(outcome);
    }
    return outcomes;
  }
  const outcome = toOutcome(payload);
  if (outcome === null) return null;
  const id = (payload as { id: unknown }).id;
  if (ids.length === 1 && id === ids[0]) return [outcome];
  // A single error without our id answers a whole batch: the server refused all of it.
  if ("error" in outcome && (id === null || id === undefined)) return ids.map(() => outcome);
  return null;
}

function toOutcome(entry: unknown): Outcome | null {
  if (typeof entry !== "object" || entry === null) return null;
  const record = entry as Record<string, unknown>;
  if ("error" in record && record.error !== null && record.error !== undefined) {
    const error = record.error as Record<string, unknown>;
    if (typeof error !== "object") return null;
    return {
      error: {
        code: typeof error.code === "number" ? error.code : Number.NaN,
        message: typeof error.message === "string" ? error.message : JSON.stringify(error),
      },
    };
  }
  return "result" in record ? { result: record.result } : null;
}

function classifyRpcError(method: string, error: RpcErrorObject): Error {
  const text = `${method}: JSON-RPC error ${error.code}: ${error.message}`;
  if (error.code === -32601 || error.code === -32004 || METHOD_UNSUPPORTED.test(error.message)) {
    return new MethodNotSupportedError(method, text);
  }
  if (error.code === -32600 || error.code === -32602 || error.code === -32700) return new FatalError("rpc_rejected", text);
  return new RetryableError("rpc_error", text);
}

function isTimeout(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === "TimeoutError" || name === "AbortError";
}

function transportError(error: unknown, what: string): RetryableError {
  const detail = error instanceof Error ? error.message : String(error);
  return isTimeout(error)
    ? new RetryableError("timeout", `${what} timed out`, { cause: error })
    : new RetryableError("network", `${what} failed: ${detail}`, { cause: error });
}
