import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../src/api/errors";
import type { JobStatus } from "../../src/domain/job";
import { appendJobEvent } from "../../src/store/job-events";
import { getJob } from "../../src/store/jobs";
import { db, seedJob, seedManyJobs } from "../support/workerd/seed-rows";
import { api, expectError, READ, withoutToken } from "./api-client";

interface JobsPage {
  jobs: { id: number; status: string; node_id: string; created_at: string; updated_at: string; descriptor: unknown; failure_reason?: string }[];
  next_cursor?: number;
}

async function jobsPage(query: string): Promise<JobsPage> {
  const res = await api(`/jobs${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as JobsPage;
}

describe("GET /jobs", () => {
  it("answers an empty list with no cursor when there are no jobs", async () => {
    const body = await jobsPage("");
    expect(body).toEqual({ jobs: [] });
    expect("next_cursor" in body).toBe(false);
  });

  it("lists JobInfo newest first with timestamps, node id and descriptor", async () => {
    const first = await seedJob("COMPLETED");
    const second = await seedJob("RUNNING");
    const body = await jobsPage("");
    expect(body.jobs.map((j) => j.id)).toEqual([second.id, first.id]);
    expect(body.jobs[1]).toEqual({
      id: first.id,
      created_at: "2025-11-06T12:00:00.000Z",
      updated_at: "2025-11-06T12:00:01.000Z",
      node_id: `jobrunner-${first.id}`,
      status: "COMPLETED",
      descriptor: first.descriptor,
    });
  });

  it("walks pages with last_job_id; next_cursor is absent on the last page, also when the count is a multiple of limit", async () => {
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await seedJob()).id);
    const page1 = await jobsPage("?limit=2");
    expect(page1.jobs.map((j) => j.id)).toEqual([ids[3], ids[2]]);
    expect(page1.next_cursor).toBe(ids[2]);
    const page2 = await jobsPage(`?limit=2&last_job_id=${page1.next_cursor}`);
    expect(page2.jobs.map((j) => j.id)).toEqual([ids[1], ids[0]]);
    expect("next_cursor" in page2).toBe(false);
  });

  it("answers limit=1 with one job and a cursor, and a short last page without cursor", async () => {
    const a = await seedJob();
    const b = await seedJob();
    const c = await seedJob();
    const page1 = await jobsPage("?limit=1");
    expect(page1).toMatchObject({ jobs: [{ id: c.id }], next_cursor: c.id });
    const page2 = await jobsPage(`?limit=2&last_job_id=${c.id}`);
    expect(page2.jobs.map((j) => j.id)).toEqual([b.id, a.id]);
    expect(page2.next_cursor).toBeUndefined();
  });

  it("returns everything below a cursor beyond the last id, and nothing below the first id", async () => {
    const a = await seedJob();
    const b = await seedJob();
    expect((await jobsPage("?last_job_id=999999")).jobs.map((j) => j.id)).toEqual([b.id, a.id]);
    expect(await jobsPage(`?last_job_id=${a.id}`)).toEqual({ jobs: [] });
  });

  it("defaults to 50 and accepts 1000", async () => {
    const ids = await seedManyJobs(1001);
    const byDefault = await jobsPage("");
    expect(byDefault.jobs).toHaveLength(50);
    expect(byDefault.next_cursor).toBe(ids[ids.length - 50]);
    const max = await jobsPage("?limit=1000");
    expect(max.jobs).toHaveLength(1000);
    expect(max.next_cursor).toBe(ids[1]);
    const rest = await jobsPage(`?limit=1000&last_job_id=${max.next_cursor}`);
    expect(rest.jobs.map((j) => j.id)).toEqual([ids[0]]);
    expect(rest.next_cursor).toBeUndefined();
  });

  it.each<[string, ErrorCode]>([
    ["limit=0", "LIMIT_INVALID"],
    ["limit=1001", "LIMIT_TOO_LARGE"],
    ["limit=99999999999999999999", "LIMIT_TOO_LARGE"],
    ["limit=-1", "INVALID_QUERY_PARAMETERS"],
    ["limit=abc", "INVALID_QUERY_PARAMETERS"],
    ["limit=1.5", "INVALID_QUERY_PARAMETERS"],
    ["limit=", "INVALID_QUERY_PARAMETERS"],
    ["limit=1&limit=2", "INVALID_QUERY_PARAMETERS"],
    ["last_job_id=0", "INVALID_QUERY_PARAMETERS"],
    ["last_job_id=-5", "INVALID_QUERY_PARAMETERS"],
    ["last_job_id=abc", "INVALID_QUERY_PARAMETERS"],
    ["last_job_id=9007199254740992", "INVALID_QUERY_PARAMETERS"],
  ])("answers ?%s with 400 %s", async (query, code) => {
    await expectError(await api(`/jobs?${query}`), 400, code);
  });
});

describe("GET /jobs/{id}", () => {
  it("answers the job, with failure_reason only when FAILED", async () => {
    const failed = await seedJob("FAILED", { failureReason: "no provider for network 'anvil'" });
    const res = await api(`/jobs/${failed.id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: failed.id, status: "FAILED", failure_reason: "no provider for network 'anvil'" });
    const running = await seedJob("RUNNING");
    const body = await (await api(`/jobs/${running.id}`)).json();
    expect(body).toMatchObject({ id: running.id, status: "RUNNING", node_id: `jobrunner-${running.id}` });
    expect(body).not.toHaveProperty("failure_reason");
  });

  it("answers 404 JOB_NOT_FOUND for an absent job", async () => {
    await expectError(await api("/jobs/424242"), 404, "JOB_NOT_FOUND");
  });

  it.each(["0", "-1", "abc", "1.5", "1e3", "9007199254740992", "%20"])("answers 400 INVALID_JOB_ID for %s", async (id) => {
    await expectError(await api(`/jobs/${id}`), 400, "INVALID_JOB_ID");
  });
});

describe("DELETE /jobs/{id}", () => {
  it.each(["COMPLETED", "STOPPED", "FAILED"] as const)("deletes a %s job: 204, then 204 again", async (status) => {
    const job = await seedJob(status);
    expect((await api(`/jobs/${job.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await getJob(db(), job.id)).toBeUndefined();
    expect((await api(`/jobs/${job.id}`, { method: "DELETE" })).status).toBe(204);
  });

  it.each(["SCHEDULED", "RUNNING", "STOP_REQUESTED", "STOPPING", "UNKNOWN"] as const)("refuses a %s job with 409 JOB_CONFLICT", async (status) => {
    const job = await seedJob(status);
    await expectError(await api(`/jobs/${job.id}`, { method: "DELETE" }), 409, "JOB_CONFLICT");
    expect(await getJob(db(), job.id)).toBeDefined();
  });

  it("answers 204 for a job that never existed", async () => {
    expect((await api("/jobs/777", { method: "DELETE" })).status).toBe(204);
  });

  it.each(["0", "x", "-3"])("answers 400 INVALID_JOB_ID for %s", async (id) => {
    await expectError(await api(`/jobs/${id}`, { method: "DELETE" }), 400, "INVALID_JOB_ID");
  });
});

describe("DELETE /jobs?status=", () => {
  const ALL: JobStatus[] = ["SCHEDULED", "RUNNING", "STOP_REQUESTED", "STOPPING", "COMPLETED", "STOPPED", "FAILED", "UNKNOWN"];

  async function seedOneOfEach(): Promise<Map<JobStatus, number>> {
    const ids = new Map<JobStatus, number>();
    for (const status of ALL) ids.set(status, (await seedJob(status)).id);
    return ids;
  }

  async function remainingStatuses(ids: Map<JobStatus, number>): Promise<JobStatus[]> {
    const left: JobStatus[] = [];
    for (const [status, id] of ids) if (await getJob(db(), id)) left.push(status);
    return left;
  }

  it.each([
    ["terminal", ["COMPLETED", "STOPPED", "FAILED"]],
    ["TERMINAL", ["COMPLETED", "STOPPED", "FAILED"]],
    ["completed", ["COMPLETED"]],
    ["Completed", ["COMPLETED"]],
    ["stopped", ["STOPPED"]],
    ["error", ["FAILED"]],
    ["Error", ["FAILED"]],
  ])("status=%s deletes exactly %j", async (filter, deleted) => {
    const ids = await seedOneOfEach();
    const res = await api(`/jobs?status=${filter}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect(await remainingStatuses(ids)).toEqual(ALL.filter((s) => !deleted.includes(s)));
  });

  it("answers 204 when nothing matches", async () => {
    expect((await api("/jobs?status=terminal", { method: "DELETE" })).status).toBe(204);
  });

  it.each(["", "?status=", "?status=failed", "?status=running", "?status=terminal&status=error"])(
    "answers 400 INVALID_QUERY_PARAM for '%s' and deletes nothing",
    async (query) => {
      const ids = await seedOneOfEach();
      await expectError(await api(`/jobs${query}`, { method: "DELETE" }), 400, "INVALID_QUERY_PARAM");
      expect(await remainingStatuses(ids)).toEqual(ALL);
    },
  );
});

describe("GET /jobs/{id}/events", () => {
  it("answers the timeline oldest first, page by page", async () => {
    const job = await seedJob("RUNNING");
    const other = await seedJob("RUNNING");
    await appendJobEvent(db(), job.id, { kind: "scheduled" });
    await appendJobEvent(db(), other.id, { kind: "scheduled" });
    await appendJobEvent(db(), job.id, { kind: "running" });
    await appendJobEvent(db(), job.id, { kind: "step_started", detail: { range: { start: 0, end: 99 }, attempt: 1 } });
    await appendJobEvent(db(), job.id, {
      kind: "step_completed",
      detail: { range: { start: 0, end: 99 }, files: 3, rows: 420, bytes: 9000, duration_ms: 1200 },
    });

    const all = await (await api(`/jobs/${job.id}/events`)).json<{ events: { id: number; kind: string; detail: unknown; created_at: string }[] }>();
    expect(all.events.map((e) => e.kind)).toEqual(["scheduled", "running", "step_started", "step_completed"]);
    expect(all.events[3]!.detail).toEqual({ range: { start: 0, end: 99 }, files: 3, rows: 420, bytes: 9000, duration_ms: 1200 });
    expect(all.events[0]!.created_at).toMatch(/Z$/);
    expect(all).not.toHaveProperty("next_cursor");

    const page1 = await (await api(`/jobs/${job.id}/events?limit=2`)).json<{ events: { id: number; kind: string }[]; next_cursor?: number }>();
    expect(page1.events.map((e) => e.kind)).toEqual(["scheduled", "running"]);
    expect(page1.next_cursor).toBe(page1.events[1]!.id);
    const page2 = await (await api(`/jobs/${job.id}/events?limit=2&last_event_id=${page1.next_cursor}`)).json<{
      events: { kind: string }[];
      next_cursor?: number;
    }>();
    expect(page2.events.map((e) => e.kind)).toEqual(["step_started", "step_completed"]);
    expect(page2).not.toHaveProperty("next_cursor");
  });

  it("answers an empty timeline for a job without events", async () => {
    const job = await seedJob("SCHEDULED");
    expect(await (await api(`/jobs/${job.id}/events`)).json()).toEqual({ events: [] });
  });

  it("answers 404 JOB_NOT_FOUND for an absent job", async () => {
    await expectError(await api("/jobs/5555/events"), 404, "JOB_NOT_FOUND");
  });

  it.each<[string, ErrorCode]>([
    ["/jobs/0/events", "INVALID_JOB_ID"],
    ["/jobs/abc/events?limit=0", "INVALID_JOB_ID"],
    ["/jobs/abc/events?limit=-1", "INVALID_JOB_ID"],
    ["/jobs/1/events?limit=0", "LIMIT_INVALID"],
    ["/jobs/1/events?limit=1001", "LIMIT_TOO_LARGE"],
    ["/jobs/1/events?limit=x", "INVALID_QUERY_PARAMETERS"],
    ["/jobs/1/events?last_event_id=0", "INVALID_QUERY_PARAMETERS"],
  ])("%s answers 400 %s", async (path, code) => {
    await expectError(await api(path), 400, code);
  });
});

describe("auth on the jobs routes", () => {
  const reads = ["/jobs", "/jobs/1", "/jobs/1/events"];
  const deletes = ["/jobs/1", "/jobs?status=terminal"];

  it("answers 401 without a token", async () => {
    for (const path of reads) await expectError(await withoutToken(path), 401, "UNAUTHORIZED");
    for (const path of deletes) await expectError(await withoutToken(path, { method: "DELETE" }), 401, "UNAUTHORIZED");
  });

  it("answers 403 to the read token on DELETE and changes nothing", async () => {
    const job = await seedJob("COMPLETED");
    for (const path of [`/jobs/${job.id}`, "/jobs?status=terminal"]) {
      await expectError(await api(path, { method: "DELETE", headers: READ }), 403, "FORBIDDEN");
    }
    expect(await getJob(db(), job.id)).toBeDefined();
  });

  it("lets the read token read", async () => {
    const job = await seedJob("COMPLETED");
    expect((await api("/jobs", { headers: READ })).status).toBe(200);
    expect((await api(`/jobs/${job.id}`, { headers: READ })).status).toBe(200);
    expect((await api(`/jobs/${job.id}/events`, { headers: READ })).status).toBe(200);
  });
});
