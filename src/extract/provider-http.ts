/**
 * HTTP requests to a provider under its limits and the retry rules every
 * provider kind shares: each request holds a permit of the semaphore and a
 * token of the rate limiter, and is cut after `requestTimeoutMs` (body
 * included). Network errors, timeouts, HTTP 429, 408 and 5xx are retryable;
 * a retry waits a full-jitter backoff, at least as long as a Retry-After
 * asks, for a bounded number of attempts. What a kind makes of any other
 * answer is its own business (`read`).
 */
import { backoffDelay, FatalError, parseRetryAfter, RetryableError, type RetryOptions } from "../domain/errors";
import { DEFAULT_CONCURRENT_REQUEST_LIMIT } from "../domain/provider";
import { invocationConnections, RateLimiter, Semaphore, sleep, type Sleep } from "./limits";

/** What bounds the requests in flight: a fixed semaphore, or the evm-rpc client's adaptive pacing. */
export interface RequestLimit {
  run<T>(task: () => Promise<T>): Promise<T>;
}

export interface ProviderHttpOptions {
  semaphore: RequestLimit;
  /** The invocation's outgoing connections (invocationConnections), shared by its steps; default: six of this client's own. */
  connections?: RequestLimit;
  rateLimiter: RateLimiter | null;
  retry: RetryOptions;
  /** Per HTTP request, body included. */
  requestTimeoutMs: number;
  /** A Retry-After longer than this is not waited out here: the error goes to the caller to reschedule. */
  maxRetryAfterMs: number;
  random?: () => number;
  wait?: Sleep;
}

export class ProviderHttp {
  /** Only the host goes into error messages: paths and queries often hold API keys. */
  readonly host: string;
  private readonly random: () => number;
  private readonly wait: Sleep;
  private readonly connections: RequestLimit;
  /** HTTP requests sent so far (each attempt counts: they are the invocation's subrequests). */
  requests = 0;

  constructor(
    url: string,
    private readonly options: ProviderHttpOptions,
  ) {
    this.host = new URL(url).host;
    this.random = options.random ?? Math.random;
    this.wait = options.wait ?? sleep;
    this.connections = options.connections ?? invocationConnections();
  }

  /**
   * Runs `attempt` until it returns or throws something other than a
   * RetryableError, pausing between attempts; after the last attempt the
   * RetryableError goes to the caller, which may reschedule the work.
   */
  async retrying<T>(attempt: () => Promise<T>): Promise<T> {
    for (let count = 1; ; count++) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof RetryableError)) throw error;
        if (count >= this.options.retry.maxAttempts) {
          throw new RetryableError(error.reason, `${error.message} (gave up after ${count} attempts)`, {
            cause: error,
            retryAfterMs: error.retryAfterMs,
          });
        }
        await this.pause(error, count);
      }
    }
  }

  /**
   * One HTTP request within the limits. Transient failures throw a
   * RetryableError; any other response goes to `read`, still inside the
   * permit and the timeout, so reading a slow body counts against both.
   * `sent` hears when the request goes out, after the waits for its permits
   * and its rate token (the adaptive client measures the provider from there).
   */
  request<T>(url: string, init: RequestInit, read: (response: Response) => Promise<T>, sent?: (at: number) => void): Promise<T> {
    return this.options.semaphore.run(async () => {
      await this.options.rateLimiter?.acquire();
      this.requests++;
      // The body is read inside: its connection is open until then.
      return this.connections.run(async () => {
        let response: Response;
        sent?.(Date.now());
        try {
          response = await fetch(url, { ...init, signal: AbortSignal.timeout(this.options.requestTimeoutMs) });
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
        return read(response);
      });
    });
  }

  private async pause(failure: RetryableError, attempt: number): Promise<void> {
    const { baseDelayMs, maxDelayMs } = this.options.retry;
    const backoff = backoffDelay(attempt, { baseMs: baseDelayMs, maxMs: maxDelayMs }, this.random);
    const retryAfter = failure.retryAfterMs;
    if (retryAfter !== undefined && retryAfter > this.options.maxRetryAfterMs) throw failure;
    await this.wait(Math.max(backoff, retryAfter ?? 0));
  }
}

export function isTimeout(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === "TimeoutError" || name === "AbortError";
}

/** A failed or cut request (or body read) as the retryable error it is. */
export function transportError(error: unknown, what: string): RetryableError {
  const detail = error instanceof Error ? error.message : String(error);
  return isTimeout(error)
    ? new RetryableError("timeout", `${what} timed out`, { cause: error })
    : new RetryableError("network", `${what} failed: ${detail}`, { cause: error });
}

/** The limit fields every provider kind has (reference §5.8). */
export interface ProviderLimitSettings {
  url: string;
  /** HTTP requests in flight at once (never more than the 6 connections of a Worker). Default 1024; evm-rpc: found by the client. */
  concurrent_request_limit?: number;
  /** HTTP requests started per minute. Default: no limit. */
  rate_limit_per_minute?: number;
}

/** The provider's URL and limits; settings outside their domain are a fatal configuration error, not something to retry. */
export function providerLimits(provider: ProviderLimitSettings): { url: string; semaphore: Semaphore; rateLimiter: RateLimiter | null } {
  let url: URL;
  try {
    url = new URL(provider.url);
  } catch {
    throw new FatalError("invalid_provider", "the provider url is not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new FatalError("invalid_provider", `only http(s) providers can be used from a Worker, not ${url.protocol}`);
  }
  const concurrency = provider.concurrent_request_limit ?? DEFAULT_CONCURRENT_REQUEST_LIMIT;
  const ratePerMinute = provider.rate_limit_per_minute ?? null;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 65_535) {
    throw new FatalError("invalid_provider", "concurrent_request_limit must be an integer in 1..=65535");
  }
  if (ratePerMinute !== null && (!Number.isInteger(ratePerMinute) || ratePerMinute < 1)) {
    throw new FatalError("invalid_provider", "rate_limit_per_minute must be an integer >= 1");
  }
  return {
    url: provider.url,
    semaphore: new Semaphore(concurrency),
    rateLimiter: ratePerMinute === null ? null : new RateLimiter(ratePerMinute),
  };
}
