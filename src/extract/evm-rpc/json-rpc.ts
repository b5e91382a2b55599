import { FatalError, RetryableError } from "../../domain/errors";
import type { AnswerOutcome } from "../../domain/rpc-tuning";
import { isTimeout, ProviderHttp, type ProviderHttpOptions, transportError } from "../provider-http";
import type { RequestPacing } from "./pacing";

/**
 * JSON-RPC 2.0 over HTTP with `fetch` only. Calls are grouped into batch
 * requests of `batchSize` (one call per request when it is <= 1), sent under
 * the provider's limits and retry rules (provider-http.ts):
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

/** Adds up the bytes of the answers a group of calls got (retries included): how dense the blocks are. */
export interface AnswerTally {
  bytes: number;
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

export interface JsonRpcTransportOptions extends Omit<ProviderHttpOptions, "semaphore"> {
  url: string;
  /** Calls per request and requests in flight: fixed by the provider's settings or found as the answers come. */
  pacing: RequestPacing;
  /** HTTP requests this transport may send at most (the step's share of the invocation's subrequests); null: no limit. */
  requestBudget: number | null;
}

/** The node refused a batch as such (too large, or batches not served): split it and send again. */
class BatchRefusedError extends RetryableError {
  constructor(host: string, detail: string) {
    super("batch_refused", `${host} refused a batch: ${detail}`);
  }
}

const BATCH_REFUSAL = /batch/i;

interface RpcErrorObject {
  code: number;
  message: string;
}

type Outcome = { result: unknown } | { error: RpcErrorObject };

const METHOD_UNSUPPORTED =
  /method.*(not found|not supported|unsupported|does not exist|not available|not exist)|unsupported method|unknown method/i;

export class JsonRpcTransport {
  private nextId = 1;
  private readonly http: ProviderHttp;

  constructor(private readonly options: JsonRpcTransportOptions) {
    this.http = new ProviderHttp(options.url, { ...options, semaphore: options.pacing });
  }

  /** HTTP requests sent so far. */
  get requests(): number {
    return this.http.requests;
  }

  async call(method: string, params: readonly unknown[]): Promise<unknown> {
    const [result] = await this.sendWithRetry([{ method, params }]);
    return result;
  }

  /**
   * The results of `calls`, in order; batches are sent concurrently, within
   * the limits. A batch takes its calls when a lane is free to send it, at the
   * batch size of that moment, so a tuning the pacing finds while a long list
   * is under way applies to the rest of it (cut up front, a chunk's 50
   * batches of 10 went out as 10s after the pacing had grown to 20, and their
   * answers judged the growth). Lanes are as many as the requests the pacing
   * lets out; more join when it lets out more.
   */
  async callAll(calls: readonly RpcCall[], tally?: AnswerTally): Promise<unknown[]> {
    const { pacing } = this.options;
    const results = new Array<unknown>(calls.length);
    let next = 0;
    let lanes = 0;
    let failed = false;
    let failWith: (error: unknown) => void = () => undefined;
    // The first failure is the caller's at once; the other lanes stop taking calls.
    const firstFailure = new Promise<never>((_, reject) => {
      failWith = reject;
    });
    const running: Promise<void>[] = [];
    const lane = async (): Promise<void> => {
      try {
        while (!failed && next < calls.length) {
          const from = next;
          next = Math.min(calls.length, from + pacing.batchSize());
          const groupResults = await this.sendWithRetry(calls.slice(from, next), tally, pacing.generation());
          groupResults.forEach((result, k) => {
            results[from + k] = result;
          });
          addLanes();
        }
      } catch (error) {
        failed = true;
        failWith(error);
      }
    };
    const addLanes = () => {
      while (!failed && lanes < pacing.inFlight() && next < calls.length) {
        lanes++;
        running.push(lane());
      }
    };
    addLanes();
    const allLanes = async () => {
      // Lanes that join while others run are pushed to `running` too: wait until none is left unawaited.
      for (let awaited = 0; awaited < running.length; ) {
        const joined = running.slice(awaited);
        awaited = running.length;
        await Promise.all(joined);
      }
    };
    await Promise.race([allLanes(), firstFailure]);
    return results;
  }

  /** Each attempt sends only the calls that have no result yet; `generation` is the pacing's when they were taken. */
  private sendWithRetry(calls: readonly RpcCall[], tally?: AnswerTally, generation = this.options.pacing.generation()): Promise<unknown[]> {
    const results = new Array<unknown>(calls.length);
    let pending = calls.map((_, index) => index);
    return this.http.retrying(async () => {
      const outcomes = await this.post(pending.map((index) => calls[index]!), tally, generation).catch(async (error: unknown) => {
        if (!(error instanceof BatchRefusedError)) throw error;
        // The pacing took a smaller batch size: the same calls in smaller batches, not a failed attempt.
        const resent = await this.callAll(pending.map((index) => calls[index]!), tally);
        return resent.map((result): Outcome => ({ result }));
      });
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
      pending = failed;
      if (lastError !== undefined) throw lastError;
      return results;
    });
  }

  private post(calls: readonly RpcCall[], tally: AnswerTally | undefined, generation: number): Promise<Outcome[]> {
    const ids = calls.map(() => this.nextId++);
    const requests = calls.map((call, i) => ({ jsonrpc: "2.0", id: ids[i], method: call.method, params: call.params }));
    const body = JSON.stringify(requests.length === 1 ? requests[0] : requests);
    const init = { method: "POST", headers: { "content-type": "application/json", accept: "application/json" }, body };
    const { pacing, requestBudget } = this.options;
    if (requestBudget !== null && this.http.requests >= requestBudget) {
      throw new FatalError(
        "subrequest_budget",
        `the step used its budget of ${requestBudget} HTTP requests to ${this.http.host} (its share of the invocation's subrequests, AMP_SUBREQUEST_LIMIT): set a larger rpc_batch_size or a smaller AMP_STEP_SIZE`,
      );
    }
    // Measured from the request going out, not from the wait for a permit: the pacing measures the provider.
    let sentAt: number | null = null;
    let outcome: AnswerOutcome = "ok";
    return this.http
      .request(this.options.url, init, (response) => this.outcomesOf(response, ids, tally), (at) => (sentAt = at))
      .catch((error: unknown) => {
        outcome = answerOutcome(error);
        throw error;
      })
      .finally(() => {
        const at = Date.now();
        pacing.observe({ outcome, calls: ids.length, latencyMs: sentAt === null ? 0 : at - sentAt, at, generation });
      });
  }

  private async outcomesOf(response: Response, ids: readonly number[], tally?: AnswerTally): Promise<Outcome[]> {
    const { status } = response;
    const host = this.http.host;
    const batch = ids.length > 1 && this.options.pacing.adaptiveBatches;
    if (batch && status === 413) {
      await response.body?.cancel();
      throw new BatchRefusedError(host, `HTTP 413 for ${ids.length} calls`);
    }
    let payload: unknown;
    try {
      // As text first: its length is the answer's size, which sizes the next chunks.
      const text = await response.text();
      if (tally) tally.bytes += text.length;
      payload = JSON.parse(text);
    } catch (error) {
      if (!response.ok) throw new FatalError("http_rejected", `HTTP ${status} from ${host}`);
      if (isTimeout(error)) throw transportError(error, `reading the response of ${host}`);
      throw new RetryableError("invalid_response", `${host} answered with a body that is not JSON`, { cause: error });
    }
    if (batch) {
      const refusal = batchRefusal(payload);
      if (refusal !== null) throw new BatchRefusedError(host, `${refusal} (${ids.length} calls)`);
    }
    // Some nodes answer JSON-RPC errors with an HTTP 4xx: use them when they are readable.
    const outcomes = matchResponses(payload, ids);
    if (outcomes === null) {
      if (!response.ok) throw new FatalError("http_rejected", `HTTP ${status} from ${host}`);
      throw new RetryableError("invalid_response", `${host} answered with something that is not a JSON-RPC response`);
    }
    return outcomes;
  }
}

/**
 * Why a batch answer refuses the batch as a whole, or null: one error object
 * for the whole batch, or errors alone that speak of batches (providers that
 * cap batch sizes answer each call with "batch too large" and the like).
 */
function batchRefusal(payload: unknown): string | null {
  if (!Array.isArray(payload)) {
    const outcome = toOutcome(payload);
    return outcome !== null && "error" in outcome ? outcome.error.message : null;
  }
  const errors = payload.map(toOutcome).filter((outcome): outcome is { error: RpcErrorObject } => outcome !== null && "error" in outcome);
  if (errors.length === 0 || errors.length < payload.length) return null;
  return errors.every((outcome) => BATCH_REFUSAL.test(outcome.error.message)) ? errors[0]!.error.message : null;
}

function answerOutcome(error: unknown): AnswerOutcome {
  if (error instanceof BatchRefusedError) return "batch_refused";
  if (!(error instanceof RetryableError)) return "ok";
  if (error.reason === "rate_limited") return "rate_limited";
  if (error.reason === "timeout") return "timeout";
  if (error.reason === "server_error" || error.reason === "network") return "server_error";
  return "ok";
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
