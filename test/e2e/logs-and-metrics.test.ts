/**
 * A real job through a provider that fails a few calls: one JSON log line per
 * transition and per step outcome (none per RPC call), and GET /metrics
 * counting its steps, failures, blocks, rows and lag.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { FaultScenario } from "../support/fault-control";
import { harness } from "../support/provided-context";
import { api, deploy, setupDataset, waitForJob } from "./e2e-support";

const { harnessUrl } = harness();

afterEach(() => {
  vi.restoreAllMocks();
});

type LogRecord = Record<string, unknown> & { event: string };

describe("logs and metrics of a job", () => {
  it("writes a line per transition and per step, and /metrics counts what the job did", async () => {
    const lines: string[] = [];
    const log = console.log.bind(console);
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      if (typeof args[0] === "string") lines.push(args[0]);
      log(...args);
    });
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject({ kind: "rpc-error", method: "eth_getBlockReceipts", code: -32000, message: "injected: busy", times: 40 });
    const dataset = await setupDataset({ providerUrl: scenario.rpcUrl });
    const jobId = await deploy(dataset, { end_block: 19, parallelism: 1 });
    const job = await waitForJob(jobId, { timeoutMs: 120_000 });
    expect(job.status, job.failure_reason).toBe("COMPLETED");

    const records = lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as LogRecord).filter((record) => record["job_id"] === jobId);
    const dataset_ = `_/${dataset.name}`;
    expect(records.filter((r) => r.event === "job_transition").map((r) => [r["to"], r["dataset"]])).toEqual([
      ["SCHEDULED", dataset_],
      ["RUNNING", dataset_],
      ["COMPLETED", dataset_],
    ]);
    const completed = records.filter((r) => r.event === "step_completed");
    expect(completed.map((r) => r["range"])).toEqual([{ start: 0, end: 9 }, { start: 10, end: 19 }]);
    for (const r of completed) {
      expect(r).toMatchObject({ level: "info", dataset: dataset_, files: 3, attempt: expect.any(Number), rows: expect.any(Number), bytes: expect.any(Number), duration_ms: expect.any(Number) });
    }
    const failed = records.filter((r) => r.event === "step_failed");
    expect(failed.length).toBeGreaterThanOrEqual(1);
    for (const r of failed) expect(r).toMatchObject({ level: "warn", dataset: dataset_, range: { start: 0, end: 9 }, error: "rpc_error", retryable: true, reason: expect.stringContaining("injected: busy") });
    // Nothing per RPC call: the job's lines are its transitions and step outcomes only.
    expect(records.length).toBe(3 + completed.length + failed.length);

    const res = await api("/metrics");
    expect(res.status).toBe(200);
    const text = await res.text();
    const labels = (table: string) => `dataset="${dataset_}",table="${table}"`;
    expect(text).toContain(`amp_steps_completed_total{dataset="${dataset_}"} 2\n`);
    expect(text).toContain(`amp_steps_failed_total{dataset="${dataset_}",reason="rpc_error"} ${failed.length}\n`);
    expect(text).toContain(`amp_provider_errors_total{provider="rpc_${dataset.network}",reason="rpc_error",operation="step"} ${failed.length}\n`);
    for (const table of ["blocks", "logs", "transactions"]) {
      expect(text).toMatch(new RegExp(`amp_extracted_blocks\\{${labels(table)},manifest_hash="[0-9a-f]{64}"\\} 20\\n`));
      expect(text).toMatch(new RegExp(`amp_table_last_block\\{${labels(table)},manifest_hash="[0-9a-f]{64}"\\} 19\\n`));
      expect(text).toMatch(new RegExp(`amp_table_lag_blocks\\{${labels(table)},manifest_hash="[0-9a-f]{64}"\\} \\d+\\n`));
    }
    expect(text).toMatch(new RegExp(`amp_extracted_rows\\{${labels("blocks")},manifest_hash="[0-9a-f]{64}"\\} 20\\n`));
    expect(text).toMatch(new RegExp(`amp_chain_head_block\\{network="${dataset.network}"\\} \\d+\\n`));
  });
});
