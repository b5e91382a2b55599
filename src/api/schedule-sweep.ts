import { parseCronSchedule } from "../domain/cron-schedule";
import { parseEndBlock } from "../domain/end-block";
import { logLine } from "../domain/log-line";
import { parseRevision } from "../domain/revision";
import type { Env } from "../env";
import { openDb } from "../store/db";
import { type ScheduleRow, type ScheduleRunOutcome, claimDueTime, listDueSchedules, recordScheduleRun } from "../store/schedules";
import { deployRevision } from "./deploy-revision";
import { ApiError } from "./errors";

export interface ScheduleRun {
  schedule: string;
  dueAt: string;
  outcome: ScheduleRunOutcome;
  jobId: number | null;
  message: string | null;
}

/**
 * The minute Cron trigger's part for schedules: every enabled schedule whose
 * next due time is at or before `now` is claimed (moved on to its next due
 * time after `now`) and deployed. A trigger that runs late deploys once for
 * the missed due times; one that runs twice finds them claimed. A job of the
 * same manifest that is SCHEDULED or RUNNING is a skip, recorded as such.
 * Returns what it did, for the log and for tests.
 */
export async function runDueSchedules(env: Env, now: Date): Promise<ScheduleRun[]> {
  const db = openDb(env.DB);
  const runs: ScheduleRun[] = [];
  for (const row of await listDueSchedules(db, now.toISOString())) {
    const dueAt = row.nextRunAt;
    if (dueAt === null) continue;
    const parsed = parseCronSchedule(row.cron, row.timezone);
    const next = parsed.ok ? (parsed.schedule.nextAfter(now)?.toISOString() ?? null) : null;
    if (!(await claimDueTime(db, row.id, dueAt, next))) continue;
    const result = await deployDue(env, row, dueAt);
    await recordScheduleRun(db, row.id, result);
    const run = { schedule: `${row.namespace}/${row.name}@${row.revision}`, dueAt, ...result };
    console.log(logLine("schedule_run", { schedule: run.schedule, cron: row.cron, timezone: row.timezone, due_at: dueAt, outcome: run.outcome, job_id: run.jobId, message: run.message }));
    runs.push(run);
  }
  return runs;
}

async function deployDue(env: Env, row: ScheduleRow, dueAt: string): Promise<Omit<ScheduleRun, "schedule" | "dueAt">> {
  const revision = parseRevision(row.revision);
  const endBlock = parseEndBlock(row.endBlock);
  if (!revision || !endBlock.ok) return { outcome: "failed", jobId: null, message: `the stored schedule no longer parses (revision '${row.revision}', end_block ${JSON.stringify(row.endBlock)})` };
  try {
    const deployed = await deployRevision(env, {
      namespace: row.namespace,
      name: row.name,
      revision,
      endBlock: endBlock.endBlock,
      parallelism: row.parallelism,
      schedule: { namespace: row.namespace, name: row.name, revision: row.revision, cron: row.cron, timezone: row.timezone, due_at: dueAt },
    });
    if (deployed.outcome === "existing") {
      return { outcome: "skipped", jobId: deployed.jobId, message: `job ${deployed.jobId} of the same manifest is still SCHEDULED or RUNNING` };
    }
    return { outcome: "deployed", jobId: deployed.jobId, message: null };
  } catch (error) {
    if (error instanceof ApiError) return { outcome: "failed", jobId: null, message: `${error.code}: ${error.message}` };
    throw error;
  }
}
