/** `schedule set|show|rm|list`: cron-scheduled deploys of a dataset revision. */
import type { Command } from "commander";
import { emit, printFields, printLine, printTable } from "../output";
import { parseCount, parseDatasetReference, revisionPath } from "../references";
import type { Runner } from "../runner";

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
  last_run: { due_at: string; outcome: string | null; job_id: number | null; message: string | null } | null;
}

const schedulePath = (reference: string) => `${revisionPath(parseDatasetReference(reference))}/schedule`;

function lastRun(schedule: Schedule): string {
  const run = schedule.last_run;
  if (!run) return "-";
  return [run.due_at, run.outcome ?? "running", run.job_id === null ? "" : `job ${run.job_id}`, run.message ?? ""].filter((part) => part !== "").join(" ");
}

function scheduleFields(schedule: Schedule): Record<string, unknown> {
  return {
    dataset: `${schedule.namespace}/${schedule.name}@${schedule.revision}`,
    cron: schedule.cron,
    timezone: schedule.timezone,
    end_block: schedule.end_block ?? "continuous",
    parallelism: schedule.parallelism,
    enabled: schedule.enabled,
    next_run_at: schedule.next_run_at,
    last_run: lastRun(schedule),
  };
}

export function registerScheduleCommands(program: Command, run: Runner): void {
  const schedule = program.command("schedule").description("cron schedules: deploys the minute trigger starts when they are due");

  schedule
    .command("set <reference>")
    .description("set (create or replace) the schedule of <namespace>/<name>@<revision>")
    .requiredOption("--cron <expression>", "five-field cron expression, e.g. '0 * * * *'")
    .option("--timezone <zone>", "IANA time zone the expression is read in", "UTC")
    .option("--end-block <block>", "the end_block of each deploy: latest, N or -N", "latest")
    .option("--parallelism <n>", "steps extracted at once", "1")
    .option("--disabled", "store it disabled: it deploys nothing until set again without --disabled")
    .action(run(async ({ client, out }, reference: string, options: { cron: string; timezone: string; endBlock: string; parallelism: string; disabled?: boolean }) => {
      const body = {
        cron: options.cron,
        timezone: options.timezone,
        end_block: options.endBlock,
        parallelism: parseCount("--parallelism", options.parallelism),
        enabled: options.disabled !== true,
      };
      const saved = await client.json<Schedule>("PUT", schedulePath(reference), { body });
      emit(out, saved, () => printFields(out, scheduleFields(saved)));
    }));

  schedule
    .command("show <reference>")
    .description("a revision's schedule, with its last and next run")
    .action(run(async ({ client, out }, reference: string) => {
      const saved = await client.get<Schedule>(schedulePath(reference));
      emit(out, saved, () => printFields(out, scheduleFields(saved)));
    }));

  schedule
    .command("rm <reference>")
    .description("delete a revision's schedule")
    .action(run(async ({ client, out }, reference: string) => {
      await client.json("DELETE", schedulePath(reference));
      emit(out, { dataset: reference, deleted: true }, () => printLine(out, `deleted the schedule of ${reference}`));
    }));

  schedule
    .command("list")
    .description("every schedule")
    .action(run(async ({ client, out }) => {
      const { schedules } = await client.get<{ schedules: Schedule[] }>("/schedules");
      emit(out, schedules, () =>
        printTable(
          out,
          ["dataset", "cron", "timezone", "enabled", "next_run_at", "last_run"],
          schedules.map((s) => [`${s.namespace}/${s.name}@${s.revision}`, s.cron, s.timezone, s.enabled, s.next_run_at, lastRun(s)]),
        ),
      );
    }));
}
