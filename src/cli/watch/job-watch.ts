/**
 * `job watch <id>` and `dataset deploy --watch`: polls the job's progress
 * until it ends. On a terminal, a live bar per table (progress-bars.ts);
 * without one (a pipe, CI), one plain line per poll, every few seconds; with
 * --json, one JSON object per poll. Ends with a summary line; a job that did
 * not complete makes the command fail.
 */
import { type Command, Option } from "commander";
import { CommandFailure, UsageError } from "../cli-errors";
import type { Context } from "../context";
import { formatDuration, printLine } from "../output";
import { progressBars, type WatchDisplay } from "./progress-bars";
import { tableLine } from "./progress-text";
import { type JobProgress, type TableView, TableViews } from "./table-views";

export type { JobProgress } from "./table-views";

export interface WatchFlags {
  interval?: string;
  plain?: boolean;
}

const TERMINAL = new Set(["COMPLETED", "STOPPED", "FAILED"]);
const BAR_INTERVAL_S = 1;
const LINE_INTERVAL_S = 5;

export function addWatchOptions(command: Command): Command {
  return command
    .option("--interval <seconds>", `seconds between polls (default ${BAR_INTERVAL_S} on a terminal, ${LINE_INTERVAL_S} otherwise: one line each)`)
    .addOption(new Option("--plain", "plain lines even on a terminal"));
}

function intervalMs(flags: WatchFlags, bars: boolean): number {
  if (flags.interval === undefined) return (bars ? BAR_INTERVAL_S : LINE_INTERVAL_S) * 1000;
  const seconds = Number(flags.interval);
  if (!Number.isFinite(seconds) || seconds < 0.1) throw new UsageError(`--interval must be a number of seconds of at least 0.1, not '${flags.interval}'`);
  return seconds * 1000;
}

function statusLine(progress: JobProgress, elapsedMs: number): string {
  const end = progress.continuous ? "continuous" : progress.end_block === null ? "end unresolved" : `end ${progress.end_block}`;
  const head = progress.chain_head === null ? "" : `, head ${progress.chain_head}`;
  return `job ${progress.job_id} ${progress.job_status} [${formatDuration(elapsedMs / 1000)}] (${end}${head})`;
}

function lineDisplay(context: Context): WatchDisplay {
  return {
    show(status, views) {
      printLine(context.out, [status, ...views.map(tableLine)].join(" | "));
    },
    stop() {},
  };
}

function jsonDisplay(context: Context, progressOf: () => JobProgress | null): WatchDisplay {
  return {
    show(_status, views) {
      const progress = progressOf();
      context.out.stdout.write(`${JSON.stringify({ ...progress, views })}\n`);
    },
    stop() {},
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function watchJob(context: Context, jobId: number, flags: WatchFlags): Promise<void> {
  const { client, out } = context;
  const stdout = out.stdout as NodeJS.WritableStream & { isTTY?: boolean };
  const bars = !out.json && !flags.plain && stdout.isTTY === true && !process.env.CI;
  const interval = intervalMs(flags, bars);
  let latest: JobProgress | null = null;
  const display = out.json ? jsonDisplay(context, () => latest) : bars ? progressBars(stdout) : lineDisplay(context);
  const restore = () => {
    display.stop();
    process.exit(130);
  };
  if (bars) process.once("SIGINT", restore);
  const views = new TableViews();
  const started = Date.now();
  let last: TableView[] = [];
  try {
    for (;;) {
      const progress = await client.get<JobProgress>(`/jobs/${jobId}/progress`);
      latest = progress;
      last = views.update(progress, Date.now());
      display.show(statusLine(progress, Date.now() - started), last);
      if (TERMINAL.has(progress.job_status)) break;
      await sleep(interval);
    }
  } finally {
    display.stop();
    if (bars) process.off("SIGINT", restore);
  }
  const final = latest!;
  const tables = last.map((view) => `${view.table} ${view.done} blocks, ${view.files} files`).join("; ");
  if (!out.json) printLine(out, `job ${jobId} ${final.job_status} after ${formatDuration((Date.now() - started) / 1000)}${tables ? `: ${tables}` : ""}`);
  if (final.job_status === "COMPLETED") return;
  if (final.job_status === "FAILED") {
    const job = await client.get<{ failure_reason?: string }>(`/jobs/${jobId}`);
    throw new CommandFailure(`job ${jobId} FAILED: ${job.failure_reason ?? "no reason recorded"}`);
  }
  throw new CommandFailure(`job ${jobId} ${final.job_status} before it completed`);
}
