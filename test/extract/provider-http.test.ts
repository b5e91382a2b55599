/**
 * ProviderHttp's `sent` hook: when a request really goes out. The adaptive
 * client measures the provider from there, so the wait for a permit (its own
 * requests in flight, the isolate's 6 connections) must not count as the
 * provider's time.
 */
import { describe, expect, it } from "vitest";
import { retryOptions } from "../../src/domain/errors";
import { Semaphore } from "../../src/extract/limits";
import { ProviderHttp } from "../../src/extract/provider-http";
import { harness } from "../support/provided-context";

const { anvilUrl } = harness();
const BODY = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] });
const INIT = { method: "POST", headers: { "content-type": "application/json" }, body: BODY };

describe("ProviderHttp sent", () => {
  it("fires when the request goes out, after the wait for its permit, once per request", async () => {
    const http = new ProviderHttp(anvilUrl, { semaphore: new Semaphore(1), rateLimiter: null, retry: retryOptions(), requestTimeoutMs: 10_000, maxRetryAfterMs: 1_000 });
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    /** A request that notes when it went out and when its answer was read, then waits for `until`. */
    const tracked = (name: string, until: Promise<void>) =>
      http.request(
        anvilUrl,
        INIT,
        async (response) => {
          await response.text();
          order.push(`${name} read`);
          await until;
        },
        () => order.push(`${name} sent`),
      );
    const first = tracked("first", held);
    const second = tracked("second", Promise.resolve());
    // The first holds the only permit until released: the second has not gone out, whatever time passes.
    for (let i = 0; i < 20 && !order.includes("first read"); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(order).toEqual(["first sent", "first read"]);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(["first sent", "first read", "second sent", "second read"]);
    expect(http.requests).toBe(2);
  });
});
