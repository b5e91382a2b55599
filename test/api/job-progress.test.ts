import { describe, expect, it } from "vitest";
import { saveLocationProgress } from "../../src/store/location-progress";
import { db, seedJob, seedLocation } from "../support/workerd/seed-rows";
import { api, expectError, READ, withoutToken } from "./api-client";

describe("GET /jobs/{id}/progress", () => {
  it("answers the tables the job writes, by name, with their synced range, files and bytes", async () => {
    const job = await seedJob("RUNNING");
    const blocks = await seedLocation({ active: true, writer: job.id, table: "blocks", manifestHash: job.manifestHash });
    await seedLocation({ active: true, writer: job.id, table: "logs", manifestHash: job.manifestHash });
    // Another job's table and an inactive location of this job's are not its progress.
    await seedLocation({ active: true, writer: (await seedJob("COMPLETED")).id, table: "transactions" });
    await seedLocation({ active: false, writer: job.id, table: "transactions", manifestHash: job.manifestHash });
    await saveLocationProgress(db(), job.id, blocks.id, { startBlock: 0, currentBlock: 99, filesCount: 2, totalSizeBytes: 4096 });
    const res = await api(`/jobs/${job.id}/progress`, { headers: READ });
    expect(res.status).toBe(200);
    // This job was seeded straight into D1: no runner holds it, so its range and head are unknown.
    expect(await res.json()).toEqual({
      job_id: job.id,
      job_status: "RUNNING",
      start_block: null,
      end_block: null,
      continuous: false,
      chain_head: null,
      chain_head_at: null,
      tables: {
        blocks: { start_block: 0, current_block: 99, files_count: 2, total_size_bytes: 4096 },
        logs: { start_block: null, current_block: null, files_count: 0, total_size_bytes: 0 },
      },
    });
  });

  it("answers tables: {} for a job that writes none", async () => {
    const job = await seedJob("FAILED");
    expect(await (await api(`/jobs/${job.id}/progress`)).json()).toMatchObject({ job_id: job.id, job_status: "FAILED", tables: {} });
  });

  it("answers 404 JOB_NOT_FOUND and 400 INVALID_JOB_ID", async () => {
    await expectError(await api("/jobs/999999/progress"), 404, "JOB_NOT_FOUND");
    for (const id of ["0", "x", "-3"]) await expectError(await api(`/jobs/${id}/progress`), 400, "INVALID_JOB_ID");
  });

  it("needs a token; the read token is enough", async () => {
    await expectError(await withoutToken("/jobs/1/progress"), 401, "UNAUTHORIZED");
    const job = await seedJob("COMPLETED");
    expect((await api(`/jobs/${job.id}/progress`, { headers: READ })).status).toBe(200);
  });
});
