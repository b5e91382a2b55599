/**
 * Smoke test of the Worker under `wrangler dev`, started as a user starts it
 * (`node scripts/dev.mjs`): it must boot (a Worker that throws at startup,
 * e.g. randomness at global scope, never answers /healthz), apply the D1
 * migrations, run with auth off, answer JSON errors, run its cron handler,
 * and stop without leaving a process or its persist directory behind.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, liveGroupMembers, startDevServer } from "../support/dev-server";

describe("wrangler dev (scripts/dev.mjs)", () => {
  let server: DevServer;

  beforeAll(async () => {
    server = await startDevServer({ startTimeoutMs: 60_000 });
  }, 70_000);

  afterAll(async () => {
    await server?.stop();
  }, 15_000);

  it("answers /healthz", async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
  });

  it("has the migrated D1 tables and auth off: lists without a token", async () => {
    expect(await server.request("GET", "/providers")).toEqual({ status: 200, body: { providers: [] } });
    expect(await server.request("GET", "/jobs")).toEqual({ status: 200, body: { jobs: [] } });
  });

  it("answers an unknown route with a JSON error", async () => {
    const answer = await server.request("GET", "/no-such-route");
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ error_code: "NOT_FOUND", error_message: expect.any(String) });
  });

  it("answers a bad body with its error code, not a 500", async () => {
    const answer = await server.request("POST", "/providers", { kind: "evm-rpc" });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error_code: expect.stringMatching(/^[A-Z_]+$/) });
  });

  it("runs the cron handler", async () => {
    const response = await fetch(`${server.url}/__scheduled`);
    expect(response.status).toBe(200);
    await response.body?.cancel();
  });

  it("stops every process it started and removes its persist directory", async () => {
    const { pid, persistDir } = server;
    expect(liveGroupMembers(pid)).toContain(pid);
    await server.stop();
    expect(liveGroupMembers(pid)).toEqual([]);
    expect(existsSync(persistDir)).toBe(false);
    await expect(fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  }, 15_000);
});
