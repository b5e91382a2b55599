/**
 * Smoke test of the Worker under `wrangler dev`, started as a user starts it
 * (`node scripts/dev.mjs`): it must boot (a Worker that throws at startup,
 * e.g. randomness at global scope, never answers /healthz), apply the D1
 * migrations, run with auth off, answer JSON errors, run its cron handler,
 * print the Worker's lines and not wrangler's per request, and stop without
 * leaving a process or its persist directory behind.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evmRpcManifest } from "../../src/domain/manifest/evm-rpc";
import { type DevServer, liveGroupMembers, startDevServer } from "../support/dev-server";

describe("wrangler dev (scripts/dev.mjs)", () => {
  let server: DevServer;

  beforeAll(async () => {
    // Generous: on a loaded machine bundling and starting workerd took over a minute.
    server = await startDevServer({ startTimeoutMs: 170_000 });
  }, 180_000);

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

  // `/__scheduled` runs the handler at the current time, so the schedule fires every minute and the test waits
  // for its first due time (at most a minute). The dashboard's static assets take miniflare's
  // `/cdn-cgi/handler/scheduled?time=` away: that route reaches the assets router, which has no scheduled handler.
  it("deploys a due schedule from /__scheduled, once", { timeout: 90_000 }, async () => {
    const manifest = evmRpcManifest("dev_sched_net", { startBlock: 0 });
    expect((await server.request("POST", "/datasets", { namespace: "_", name: "dev_sched", version: "1.0.0", manifest })).status).toBe(201);
    const set = await server.request("PUT", "/datasets/_/dev_sched/versions/latest/schedule", { cron: "* * * * *", end_block: "latest" });
    expect(set.status).toBe(201);
    const due = Date.parse((set.body as { next_run_at: string }).next_run_at);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now()) + 1_000));
    for (let run = 0; run < 2; run++) {
      const response = await fetch(`${server.url}/__scheduled`);
      expect(response.status).toBe(200);
      await response.body?.cancel();
    }
    // The handler's work runs in waitUntil, after /__scheduled has answered.
    type LastRun = { outcome: string | null; job_id: number; due_at: string } | null;
    let lastRun: LastRun = null;
    for (const deadline = Date.now() + 20_000; lastRun?.outcome == null && Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 200))) {
      lastRun = ((await server.request("GET", "/datasets/_/dev_sched/versions/latest/schedule")).body as { last_run: LastRun }).last_run;
    }
    expect(lastRun).toMatchObject({ outcome: "deployed", due_at: new Date(due).toISOString() });
    const jobs = (await server.request("GET", "/jobs")).body as { jobs: { id: number }[] };
    expect(jobs.jobs.map((job) => job.id)).toEqual([lastRun!.job_id]);
    const events = (await server.request("GET", `/jobs/${lastRun!.job_id}/events`)).body as { events: { kind: string; detail: Record<string, unknown> }[] };
    expect(events.events[0]).toMatchObject({ kind: "scheduled", detail: { schedule: { name: "dev_sched", revision: "latest", due_at: new Date(due).toISOString() } } });
  });

  // After the tests above: POSTs, a PUT, /__scheduled and a job's queue messages, each of which wrangler logs.
  it("is quiet: the Worker's own lines, none of wrangler's lines per request or per queue batch", () => {
    const output = server.output();
    expect(output).toContain('"event":"schedule_run"');
    expect(output).toContain('"event":"job_transition"');
    expect(output).not.toMatch(/^\[wrangler:info\] (GET|POST|PUT|DELETE) \//m);
    expect(output).not.toMatch(/^\[wrangler:info\] QUEUE /m);
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
