/**
 * A provider whose URL holds credentials (userinfo, an API key in the path and
 * in the query) and which fails: no part of the key shows in the job's
 * failure_reason, its events, any API answer about the job or the provider,
 * or anything the Worker, the consumer or the JobRunner logs meanwhile (they
 * run in this isolate, so the console is theirs).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FaultScenario } from "../support/fault-control";
import { harness } from "../support/provided-context";
import { api, deploy, getJob, jobEvents, setupDataset, waitForJob } from "./e2e-support";

const { harnessUrl } = harness();

const SECRETS = ["SECRETKEY123", "QKEY987", "hunter2pw"];

let logged: string[] = [];
beforeEach(() => {
  logged = [];
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logged.push(args.map((arg) => (arg instanceof Error ? `${arg.message} ${arg.stack ?? ""} ${String(arg.cause)}` : String(arg))).join(" "));
    });
  }
});
afterEach(() => vi.restoreAllMocks());

function expectNoSecret(what: string, text: string): void {
  for (const secret of SECRETS) expect(text.includes(secret), `${what} shows ${secret}: ${text}`).toBe(false);
}

async function everythingShown(jobId: number, providerName: string): Promise<Record<string, string>> {
  const shown: Record<string, string> = {};
  for (const path of [`/jobs/${jobId}`, `/jobs/${jobId}/events?limit=1000`, "/jobs?limit=1000", `/providers/${providerName}`, "/providers"]) {
    shown[path] = await (await api(path)).text();
  }
  return shown;
}

describe("a failing provider with a key in its URL", () => {
  it.each([
    ["answers HTTP 500 to everything", { kind: "status", status: 500, times: 100_000 } as const, /HTTP 500 from 127\.0\.0\.1:\d+/],
    [
      "answers JSON-RPC errors to every receipts call",
      { kind: "rpc-error", method: "eth_getBlockReceipts", code: -32005, message: "limit exceeded", times: 100_000 } as const,
      /JSON-RPC error -32005: limit exceeded/,
    ],
    ["drops every connection", { kind: "disconnect", times: 100_000 } as const, /127\.0\.0\.1:\d+/],
  ])("%s: the job fails and nothing shows the key", async (_what, fault, reason) => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject(fault);
    const providerUrl = `${scenario.rpcUrl}/v3/SECRETKEY123?apikey=QKEY987`;
    const dataset = await setupDataset({ providerUrl });
    const jobId = await deploy(dataset, { end_block: 19 });
    const job = await waitForJob(jobId, { timeoutMs: 120_000 });
    expect(job.status).toBe("FAILED");
    expect(job.failure_reason).toMatch(reason);
    expectNoSecret("failure_reason", job.failure_reason ?? "");
    for (const event of await jobEvents(jobId)) expectNoSecret(`event ${event.kind}`, JSON.stringify(event));
    for (const [path, body] of Object.entries(await everythingShown(jobId, `rpc_${dataset.network}`))) expectNoSecret(path, body);
    expectNoSecret("the logs", logged.join("\n"));
    // The provider really was used with its key: the requests reached the proxy.
    expect((await scenario.log()).requests.length).toBeGreaterThan(0);
    expect((await getJob(jobId)).status).toBe("FAILED");
  });

  it("with a password in its userinfo and a key in its path, answering HTTP 503: never shown", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "status", status: 503, times: 100_000 });
    const providerUrl = `${scenario.rpcUrl.replace("http://", "http://user:hunter2pw@")}/SECRETKEY123`;
    const dataset = await setupDataset({ providerUrl });
    const jobId = await deploy(dataset, { end_block: 9 });
    const job = await waitForJob(jobId, { timeoutMs: 120_000 });
    expect(job.status).toBe("FAILED");
    expect(job.failure_reason).toMatch(/HTTP 503 from 127\.0\.0\.1:\d+/);
    expectNoSecret("failure_reason", job.failure_reason ?? "");
    for (const event of await jobEvents(jobId)) expectNoSecret(`event ${event.kind}`, JSON.stringify(event));
    for (const [path, body] of Object.entries(await everythingShown(jobId, `rpc_${dataset.network}`))) expectNoSecret(path, body);
    expectNoSecret("the logs", logged.join("\n"));
    expect((await scenario.log()).requests.length).toBeGreaterThan(0);
  });
});
