/**
 * Cron-scheduled syncs through the Worker's own scheduled handler, with the
 * trigger's scheduled time as the clock: a due schedule deploys once even when
 * the trigger runs twice, skips (and says so) while its job still runs, runs
 * once for a due time it reaches late, and the job's events name the schedule.
 */
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { harness } from "../support/provided-context";
import { api, type Dataset, getJson, jobEvents, setupDataset, stop, waitForJob } from "./e2e-support";

const { anvilUrl, chain } = harness();

interface Schedule {
  next_run_at: string | null;
  last_run: { due_at: string; ran_at: string | null; outcome: string | null; job_id: number | null; message: string | null } | null;
}

async function trigger(at: number): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: at, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

async function setSchedule(dataset: Dataset, body: unknown): Promise<Schedule> {
  const res = await api(`${dataset.base}/schedule`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Schedule;
}

const scheduleOf = (dataset: Dataset) => getJson<Schedule>(`${dataset.base}/schedule`);

async function jobsOf(dataset: Dataset): Promise<number[]> {
  const { jobs } = await getJson<{ jobs: { id: number; descriptor: { Dump: { dataset_name: string } } }[] }>("/jobs?limit=1000");
  return jobs.filter((job) => job.descriptor.Dump.dataset_name === dataset.name).map((job) => job.id).sort((a, b) => a - b);
}

const MINUTE = 60_000;

describe("cron-scheduled syncs", () => {
  it("deploys a due schedule once per due time, skips while its job runs, and catches up once when late", async () => {
    const dataset = await setupDataset({ providerUrl: anvilUrl });
    const set = await setSchedule(dataset, { cron: "*/5 * * * *", end_block: null });
    const due = Date.parse(set.next_run_at!);

    // Not due yet: nothing happens.
    await trigger(due - MINUTE);
    expect(await jobsOf(dataset)).toEqual([]);
    expect((await scheduleOf(dataset)).last_run).toBeNull();

    // Due, and the trigger runs twice for it: one job.
    await trigger(due + 1_000);
    await trigger(due + 2_000);
    const [first, ...others] = await jobsOf(dataset);
    expect(others).toEqual([]);
    const afterFirst = await scheduleOf(dataset);
    expect(afterFirst.last_run).toMatchObject({ due_at: set.next_run_at, outcome: "deployed", job_id: first, message: null });
    expect(afterFirst.next_run_at).toBe(new Date(due + 5 * MINUTE).toISOString());
    const scheduled = (await jobEvents(first!))[0]!;
    expect(scheduled.kind).toBe("scheduled");
    expect(scheduled.detail).toMatchObject({
      schedule: { namespace: "_", name: dataset.name, revision: "1.0.0", cron: "*/5 * * * *", timezone: "UTC", due_at: set.next_run_at },
    });
    await waitForJob(first!, { until: (job) => job.status === "RUNNING", what: "RUNNING" });

    // The next due time while the continuous job runs: skipped, and recorded.
    await trigger(due + 5 * MINUTE);
    expect(await jobsOf(dataset)).toEqual([first]);
    expect((await scheduleOf(dataset)).last_run).toMatchObject({ due_at: new Date(due + 5 * MINUTE).toISOString(), outcome: "skipped", job_id: first, message: expect.stringContaining(`job ${first}`) });

    await stop(first!);
    await waitForJob(first!);

    // Three hours late: 36 due times passed, one deploy; the next run is after the late trigger.
    const late = due + 3 * 60 * MINUTE + 30_000;
    await trigger(late);
    await trigger(late);
    const [, second, ...more] = await jobsOf(dataset);
    expect(more).toEqual([]);
    const afterLate = await scheduleOf(dataset);
    expect(afterLate.last_run).toMatchObject({ due_at: new Date(due + 10 * MINUTE).toISOString(), outcome: "deployed", job_id: second });
    expect(afterLate.next_run_at).toBe(new Date(due + 3 * 60 * MINUTE + 5 * MINUTE).toISOString());
    await stop(second!);
    expect((await waitForJob(second!)).status).toBe("STOPPED");
  });

  it("a scheduled deploy of end_block \"latest\" runs to COMPLETED like a deploy by request", async () => {
    const dataset = await setupDataset({ providerUrl: anvilUrl });
    const set = await setSchedule(dataset, { cron: "0 3 * * *", timezone: "Asia/Tokyo", end_block: "latest", parallelism: 2 });
    expect(new Date(set.next_run_at!).getUTCHours()).toBe(18);
    await trigger(Date.parse(set.next_run_at!));
    const [jobId] = await jobsOf(dataset);
    const job = await waitForJob(jobId!);
    expect(job.status).toBe("COMPLETED");
    expect(job.descriptor).toMatchObject({ Dump: { max_writers: 2 } });
    const progress = await getJson<{ tables: { current_block: number | null }[] }>(`${dataset.base}/progress`);
    for (const table of progress.tables) expect(table.current_block).toBeGreaterThanOrEqual(chain.head - 1);
  });
});
