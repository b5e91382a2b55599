import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { runDueSchedules } from "../../src/api/schedule-sweep";
import { api, del, expectError, READ, withoutToken } from "./api-client";
import { rawManifest, register } from "./registry-support";

const JSON_TYPE = { "content-type": "application/json" };
const BASE = "/datasets/_/sched/versions/1.0.0";

function put(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return api(path, { method: "PUT", headers: { ...JSON_TYPE, ...headers }, body: JSON.stringify(body) });
}

interface Schedule {
  namespace: string;
  name: string;
  revision: string;
  cron: string;
  timezone: string;
  end_block: string | number | null;
  parallelism: number;
  enabled: boolean;
  next_run_at: string | null;
  last_run: { due_at: string; ran_at: string | null; outcome: string | null; job_id: number | null; message: string | null } | null;
  created_at: string;
  updated_at: string;
}

async function schedulesRows(): Promise<unknown[]> {
  return (await env.DB.prepare("SELECT * FROM schedules ORDER BY id").all()).results;
}

describe("schedules", () => {
  it("PUT creates with defaults (201), GET shows it with its next run, PUT again replaces (200), DELETE removes (204)", async () => {
    await register("_", "sched", rawManifest("sched_net"), "1.0.0");
    const before = Date.now();
    const created = await put(`${BASE}/schedule`, { cron: "0 * * * *" });
    expect(created.status, await created.clone().text()).toBe(201);
    const body = await created.json<Schedule>();
    expect(body).toMatchObject({ namespace: "_", name: "sched", revision: "1.0.0", cron: "0 * * * *", timezone: "UTC", end_block: "latest", parallelism: 1, enabled: true, last_run: null });
    const next = Date.parse(body.next_run_at!);
    expect(new Date(next).getUTCMinutes()).toBe(0);
    expect(next).toBeGreaterThan(before);
    expect(next - before).toBeLessThanOrEqual(3_600_000);
    expect(await (await api(`${BASE}/schedule`)).json()).toEqual(body);

    const replaced = await put(`${BASE}/schedule`, { cron: "30 9 * * 1-5", timezone: "America/New_York", end_block: 1000, parallelism: 3, enabled: false });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({ cron: "30 9 * * 1-5", timezone: "America/New_York", end_block: 1000, parallelism: 3, enabled: false, next_run_at: null, created_at: body.created_at });
    const enabled = await (await put(`${BASE}/schedule`, { cron: "30 9 * * 1-5", timezone: "America/New_York", end_block: null })).json<Schedule>();
    expect(enabled.end_block).toBeNull();
    // 09:30 in New York is 13:30 or 14:30 UTC depending on daylight saving time.
    expect(new Date(enabled.next_run_at!).getUTCMinutes()).toBe(30);
    expect([13, 14]).toContain(new Date(enabled.next_run_at!).getUTCHours());

    expect(await (await api("/schedules")).json()).toEqual({ schedules: [enabled] });
    expect((await del(`${BASE}/schedule`)).status).toBe(204);
    await expectError(await api(`${BASE}/schedule`), 404, "SCHEDULE_NOT_FOUND");
    await expectError(await del(`${BASE}/schedule`), 404, "SCHEDULE_NOT_FOUND");
    expect(await (await api("/schedules")).json()).toEqual({ schedules: [] });
  });

  it("keeps one schedule per revision as named: latest, dev and a version are distinct", async () => {
    await register("_", "sched", rawManifest("sched_net"), "1.0.0");
    for (const revision of ["latest", "dev", "1.0.0"]) {
      expect((await put(`/datasets/_/sched/versions/${revision}/schedule`, { cron: "*/5 * * * *" })).status).toBe(201);
    }
    const list = await (await api("/schedules")).json<{ schedules: Schedule[] }>();
    expect(list.schedules.map((s) => s.revision)).toEqual(["1.0.0", "dev", "latest"]);
  });

  it("answers a bad cron expression or time zone with 400 and the parser's message, and stores nothing", async () => {
    await register("_", "sched", rawManifest("sched_net"), "1.0.0");
    const cases: [unknown, RegExp][] = [
      [{ cron: "every hour" }, /invalid cron expression 'every hour': .*exactly five/],
      [{ cron: "61 * * * *" }, /Invalid value for minute: 61/],
      [{ cron: "0 0 * * * *" }, /requires exactly 5 parts/],
      [{ cron: "0 * * * *", timezone: "Mars/Olympus" }, /invalid time zone 'Mars\/Olympus'/],
      [{ cron: "0 * * * *", end_block: "Latest" }, /lower case/],
      [{ cron: "0 * * * *", parallelism: 0 }, /parallelism must be at least 1/],
      [{ cron: 5 }, /cron/],
      [{}, /cron/],
    ];
    for (const [body, message] of cases) {
      const error = await expectError(await put(`${BASE}/schedule`, body), 400, "INVALID_BODY");
      expect(error.error_message).toMatch(message);
    }
    await expectError(await api(`${BASE}/schedule`, { method: "PUT", headers: JSON_TYPE, body: "{" }), 400, "INVALID_BODY");
    await expectError(await api(`${BASE}/schedule`, { method: "PUT", body: "cron=0" }), 400, "INVALID_BODY");
    await expectError(await put("/datasets/_/Bad/versions/1.0.0/schedule", { cron: "0 * * * *" }), 400, "INVALID_PATH");
    await expectError(await put("/datasets/_/sched/versions/v1/schedule", { cron: "0 * * * *" }), 400, "INVALID_PATH");
    await expectError(await put("/datasets/_/sched/versions/2.0.0/schedule", { cron: "0 * * * *" }), 404, "DATASET_NOT_FOUND");
    await expectError(await put("/datasets/_/nothing/versions/latest/schedule", { cron: "0 * * * *" }), 404, "DATASET_NOT_FOUND");
    expect(await schedulesRows()).toEqual([]);
  });

  it("needs a token to read and the admin token to write", async () => {
    await register("_", "sched", rawManifest("sched_net"), "1.0.0");
    await expectError(await withoutToken("/schedules"), 401, "UNAUTHORIZED");
    await expectError(await withoutToken(`${BASE}/schedule`), 401, "UNAUTHORIZED");
    await expectError(await withoutToken(`${BASE}/schedule`, { method: "PUT", headers: JSON_TYPE, body: '{"cron":"0 * * * *"}' }), 401, "UNAUTHORIZED");
    await expectError(await put(`${BASE}/schedule`, { cron: "0 * * * *" }, READ), 403, "FORBIDDEN");
    expect(await schedulesRows()).toEqual([]);
    expect((await put(`${BASE}/schedule`, { cron: "0 * * * *" })).status).toBe(201);
    expect((await api(`${BASE}/schedule`, { headers: READ })).status).toBe(200);
    expect((await api("/schedules", { headers: READ })).status).toBe(200);
    await expectError(await del(`${BASE}/schedule`, READ), 403, "FORBIDDEN");
    expect(await schedulesRows()).toHaveLength(1);
  });

  it("a due schedule whose dataset is gone records a failed run and moves on; a disabled one is never run", async () => {
    await register("_", "sched", rawManifest("sched_net"), "1.0.0");
    const set = await (await put(`${BASE}/schedule`, { cron: "*/10 * * * *" })).json<Schedule>();
    await register("_", "other", rawManifest("other_net"), "1.0.0");
    await put("/datasets/_/other/versions/1.0.0/schedule", { cron: "*/10 * * * *", enabled: false });
    expect((await del("/datasets/_/sched")).status).toBe(204);
    const due = new Date(Date.parse(set.next_run_at!) + 30_000);
    const runs = await runDueSchedules(env, due);
    expect(runs).toEqual([{ schedule: "_/sched@1.0.0", dueAt: set.next_run_at, outcome: "failed", jobId: null, message: expect.stringContaining("DATASET_NOT_FOUND") }]);
    expect(await runDueSchedules(env, due)).toEqual([]);
    const after = await (await api(`${BASE}/schedule`)).json<Schedule>();
    expect(after.last_run).toMatchObject({ due_at: set.next_run_at, outcome: "failed", job_id: null });
    expect(Date.parse(after.next_run_at!)).toBe(Date.parse(set.next_run_at!) + 600_000);
    expect(await (await api("/jobs")).json()).toEqual({ jobs: [] });
  });
});
