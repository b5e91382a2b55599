import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  classifyError,
  DEFAULT_RETRY_OPTIONS,
  FatalError,
  parseRetryAfter,
  RetryableError,
  retryOptions,
} from "../../src/domain/errors";

describe("error classes", () => {
  it("RetryableError and FatalError carry their class, reason and cause", () => {
    const cause = new Error("socket hang up");
    const retryable = new RetryableError("rate_limited", "HTTP 429", { cause, retryAfterMs: 1500 });
    expect(retryable.retryable).toBe(true);
    expect(retryable.reason).toBe("rate_limited");
    expect(retryable.retryAfterMs).toBe(1500);
    expect(retryable.cause).toBe(cause);
    expect(retryable.name).toBe("RetryableError");
    expect(retryable).toBeInstanceOf(Error);

    const fatal = new FatalError("method_not_supported", "no eth_getBlockReceipts");
    expect(fatal.retryable).toBe(false);
    expect(fatal.name).toBe("FatalError");
    expect(fatal.message).toBe("no eth_getBlockReceipts");
  });

  it("subclasses keep their own name", () => {
    class BlockGone extends RetryableError {}
    expect(new BlockGone("block_not_available", "gone").name).toBe("BlockGone");
  });

  it("classifies: classified errors as they are, anything else as retryable 'unexpected'", () => {
    const fatal = new FatalError("http_rejected", "HTTP 401");
    expect(classifyError(fatal)).toBe(fatal);
    const unknown = classifyError(new TypeError("boom"));
    expect(unknown).toBeInstanceOf(RetryableError);
    expect(unknown.reason).toBe("unexpected");
    expect(unknown.message).toBe("boom");
    expect(classifyError("a string").message).toBe("a string");
    expect(classifyError(fatal).retryable).toBe(false);
    expect(classifyError(new RetryableError("network", "reset")).retryable).toBe(true);
    expect(classifyError(new Error("?")).retryable).toBe(true);
  });
});

describe("retryOptions", () => {
  it("fills defaults and keeps given values", () => {
    expect(retryOptions()).toEqual(DEFAULT_RETRY_OPTIONS);
    expect(retryOptions({ maxAttempts: 2 })).toEqual({ ...DEFAULT_RETRY_OPTIONS, maxAttempts: 2 });
    expect(retryOptions({ maxAttempts: undefined, baseDelayMs: 0, maxDelayMs: 0 })).toEqual({
      maxAttempts: DEFAULT_RETRY_OPTIONS.maxAttempts,
      baseDelayMs: 0,
      maxDelayMs: 0,
    });
  });

  it.each([
    [{ maxAttempts: 0 }, /maxAttempts/],
    [{ maxAttempts: 1.5 }, /maxAttempts/],
    [{ maxAttempts: Number.NaN }, /maxAttempts/],
    [{ baseDelayMs: -1 }, /baseDelayMs/],
    [{ baseDelayMs: Number.POSITIVE_INFINITY }, /baseDelayMs/],
    [{ baseDelayMs: 100, maxDelayMs: 50 }, /maxDelayMs/],
    [{ maxDelayMs: Number.POSITIVE_INFINITY }, /maxDelayMs/],
  ])("rejects %j", (options, message) => {
    expect(() => retryOptions(options)).toThrow(RangeError);
    expect(() => retryOptions(options)).toThrow(message);
  });
});

describe("backoffDelay (full jitter)", () => {
  const limits = { baseMs: 100, maxMs: 5000 };

  it("is random * min(max, base * 2^(attempt-1)), floored", () => {
    expect(backoffDelay(1, limits, () => 0.5)).toBe(50);
    expect(backoffDelay(2, limits, () => 0.5)).toBe(100);
    expect(backoffDelay(3, limits, () => 0.999)).toBe(399);
    expect(backoffDelay(7, limits, () => 0.5)).toBe(2500);
  });

  it("spans the whole interval from 0", () => {
    expect(backoffDelay(4, limits, () => 0)).toBe(0);
    expect(backoffDelay(4, limits, () => 0.9999999)).toBe(799);
  });

  it("is capped at maxMs, even for huge attempt numbers", () => {
    expect(backoffDelay(30, limits, () => 0.9999999)).toBe(4999);
    expect(backoffDelay(10_000, limits, () => 0.5)).toBe(2500);
    expect(backoffDelay(10_000, { baseMs: 0, maxMs: 0 }, () => 0.5)).toBe(0);
  });

  it("uses Math.random by default and stays in range", () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      const delay = backoffDelay(attempt, limits);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(5000, 100 * 2 ** (attempt - 1)));
      expect(Number.isInteger(delay)).toBe(true);
    }
  });

  it.each([0, -1, 1.5, Number.NaN])("rejects attempt %s", (attempt) => {
    expect(() => backoffDelay(attempt, limits)).toThrow(RangeError);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");

  it("reads delta-seconds", () => {
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter(" 120 ", now)).toBe(120_000);
  });

  it("reads an HTTP date relative to now, a past date as 0", () => {
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("Tue, 31 Dec 2024 23:59:00 GMT", now)).toBe(0);
  });

  it("is undefined when absent or unreadable", () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter("", now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-5", now)).toBeUndefined();
    expect(parseRetryAfter("1.5", now)).toBeUndefined();
  });
});
