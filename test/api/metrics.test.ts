import { describe, expect, it } from "vitest";
import { JOB_STATUSES } from "../../src/domain/job";
import { appendJobEvent } from "../../src/store/job-events";
import { recordChainHead } from "../../src/store/chain-heads";
import { saveLocationProgress } from "../../src/store/location-progress";
import { db, seedFile, seedJob, seedLocation } from "../support/workerd/seed-rows";
import { api, expectError, READ, withoutToken } from "./api-client";

async function metrics(headers: Record<string, string> = READ): Promise<string> {
  const res = await api("/metrics", { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return res.text();
}

/** The sample lines of one metric family, without HELP and TYPE. */
function samples(text: string, name: string): string[] {
  return text.split("\n").filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe("GET /metrics", () => {
  it("answers every family on an empty database: job statuses at 0, an empty histogram", async () => {
    const text = await metrics();
    expect(samples(text, "amp_jobs")).toEqual(JOB_STATUSES.map((status) => `amp_jobs{status="${status}"} 0`));
    for (const family of ["amp_steps_completed_total counter", "amp_steps_failed_total counter", "amp_provider_errors_total counter", "amp_step_duration_seconds histogram", "amp_extracted_blocks gauge", "amp_extracted_rows gauge", "amp_table_last_block gauge", "amp_table_lag_blocks gauge", "amp_chain_head_block gauge"]) {
      expect(text).toContain(`# TYPE ${family}\n`);
    }
    expect(samples(text, "amp_step_duration_seconds_count")).toEqual(["amp_step_duration_seconds_count 0"]);
    expect(text).toContain('amp_step_duration_seconds_bucket{le="+Inf"} 0\n');
  });

  it("counts jobs, steps by outcome and failure class, provider errors, durations, blocks, rows, last block and lag", async () => {
    const hash = "ab".repeat(32);
    const running = await seedJob("RUNNING", { manifestHash: hash });
    await seedJob("COMPLETED");
    await seedJob("COMPLETED");
    const range = { start: 0, end: 9 };
    for (const duration_ms of [80, 400, 7000]) {
      await appendJobEvent(db(), running.id, { kind: "step_completed", detail: { range, files: 1, rows: 10, bytes: 100, duration_ms } });
    }
    await appendJobEvent(db(), running.id, { kind: "step_failed", detail: { range, reason: "HTTP 429", error: "rate_limited", attempt: 1, retryable: true } });
    await appendJobEvent(db(), running.id, { kind: "step_failed", detail: { range, reason: "HTTP 429", error: "rate_limited", attempt: 2, retryable: true } });
    await appendJobEvent(db(), running.id, { kind: "step_failed", detail: { range, reason: "R2 put failed", error: "unexpected", attempt: 3, retryable: true } });
    await appendJobEvent(db(), running.id, { kind: "head_read_failed", detail: { reason: "timed out", error: "timeout", attempt: 1, retryable: true } });
    const location = await seedLocation({ active: true, writer: running.id, manifestHash: hash });
    await seedFile(location, 0, 9);
    await seedFile(location, 10, 24);
    await saveLocationProgress(db(), running.id, location.id, { startBlock: 0, currentBlock: 24, filesCount: 2, totalSizeBytes: 30 });
    await recordChainHead(db(), { manifestHash: hash, network: "anvil", head: 100 });

    const text = await metrics();
    expect(samples(text, "amp_jobs")).toEqual(expect.arrayContaining(['amp_jobs{status="RUNNING"} 1', 'amp_jobs{status="COMPLETED"} 2']));
    expect(samples(text, "amp_steps_completed_total")).toEqual(['amp_steps_completed_total{dataset="_/eth_rpc"} 3']);
    expect(samples(text, "amp_steps_failed_total").sort()).toEqual([
      'amp_steps_failed_total{dataset="_/eth_rpc",reason="rate_limited"} 2',
      'amp_steps_failed_total{dataset="_/eth_rpc",reason="unexpected"} 1',
    ]);
    // Our own failures (unexpected) are not the provider's.
    expect(samples(text, "amp_provider_errors_total").sort()).toEqual([
      'amp_provider_errors_total{provider="unknown",reason="rate_limited",operation="step"} 2',
      'amp_provider_errors_total{provider="unknown",reason="timeout",operation="head"} 1',
    ]);
    expect(text).toContain('amp_step_duration_seconds_bucket{le="0.1"} 1\n');
    expect(text).toContain('amp_step_duration_seconds_bucket{le="0.5"} 2\n');
    expect(text).toContain('amp_step_duration_seconds_bucket{le="5"} 2\n');
    expect(text).toContain('amp_step_duration_seconds_bucket{le="10"} 3\n');
    expect(text).toContain("amp_step_duration_seconds_sum 7.48\n");
    expect(text).toContain("amp_step_duration_seconds_count 3\n");
    const labels = `{dataset="_/eth_rpc",table="blocks",manifest_hash="${hash}"}`;
    expect(samples(text, "amp_extracted_blocks")).toEqual([`amp_extracted_blocks${labels} 25`]);
    expect(samples(text, "amp_extracted_rows")).toEqual([`amp_extracted_rows${labels} 25`]);
    expect(samples(text, "amp_table_last_block")).toEqual([`amp_table_last_block${labels} 24`]);
    expect(samples(text, "amp_table_lag_blocks")).toEqual([`amp_table_lag_blocks${labels} 76`]);
    expect(samples(text, "amp_chain_head_block")).toEqual(['amp_chain_head_block{network="anvil"} 100']);
  });

  it("needs a token; the read token is enough", async () => {
    await expectError(await withoutToken("/metrics"), 401, "UNAUTHORIZED");
    await expectError(await api("/metrics", { headers: { authorization: "Bearer wrong" } }), 401, "UNAUTHORIZED");
    await metrics(READ);
    await expectError(await api("/metrics", { method: "POST", headers: READ }), 403, "FORBIDDEN");
  });
});
