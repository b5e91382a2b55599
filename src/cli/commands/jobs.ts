/** `job list|inspect|events|progress|watch|stop|rm|prune`: extraction jobs. */
import type { Command } from "commander";
import { UsageError } from "../cli-errors";
import { emit, formatBytes, printFields, printLine, printTable } from "../output";
import { parseCount, parseId } from "../references";
import type { Runner } from "../runner";
import { addWatchOptions, type JobProgress, watchJob, type WatchFlags } from "../watch/job-watch";

export interface JobInfo {
  id: number;
  status: string;
  created_at: string;
  updated_at: string;
  descriptor: Record<string, unknown>;
  failure_reason?: string;
  provider?: string;
}

interface JobEvent {
  id: number;
  kind: string;
  detail: Record<string, unknown>;
  created_at: string;
}

const ACTIVE = ["SCHEDULED", "RUNNING", "STOP_REQUESTED", "STOPPING"];

/** ampctl's --status: all, active, or a comma-separated list of statuses (any case). */
function statusFilter(text: string): ((status: string) => boolean) | null {
  const words = text.toUpperCase().split(",").map((word) => word.trim());
  if (words.includes("ALL")) return null;
  const wanted = new Set(words.flatMap((word) => (word === "ACTIVE" ? ACTIVE : [word])));
  return (status) => wanted.has(status);
}

function dumpOf(descriptor: Record<string, unknown>): Record<string, unknown> {
  const dump = descriptor.Dump;
  return typeof dump === "object" && dump !== null ? (dump as Record<string, unknown>) : {};
}

function datasetOf(job: JobInfo): string {
  const dump = dumpOf(job.descriptor);
  return typeof dump.dataset_namespace === "string" && typeof dump.dataset_name === "string" ? `${dump.dataset_namespace}/${dump.dataset_name}` : "-";
}

function endOf(job: JobInfo): string {
  const end = dumpOf(job.descriptor).end_block;
  return end === null || end === undefined ? "continuous" : String(end);
}

/** Every page of a cursor-paginated list. */
async function allPages<T>(fetchPage: (cursor: number | undefined) => Promise<{ items: T[]; next_cursor?: number }>): Promise<T[]> {
  const items: T[] = [];
  let cursor: number | undefined;
  do {
    const page = await fetchPage(cursor);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor !== undefined);
  return items;
}

export function registerJobCommands(program: Command, run: Runner): void {
  const job = program.command("job").description("extraction jobs");

  job
    .command("list")
    .description("jobs, newest first, one page")
    .option("-l, --limit <n>", "jobs per page (1 to 1000)", "50")
    .option("-a, --after <id>", "the page after this job id (the previous page's next cursor)")
    .option("-s, --status <filter>", "all, active, or statuses separated by commas (e.g. running,failed); filters the page", "all")
    .action(run(async ({ client, out }, options: { limit: string; after?: string; status: string }) => {
      const page = await client.get<{ jobs: JobInfo[]; next_cursor?: number }>("/jobs", {
        limit: parseCount("--limit", options.limit),
        last_job_id: options.after === undefined ? undefined : parseId("--after", options.after),
      });
      const keep = statusFilter(options.status);
      const jobs = keep ? page.jobs.filter((j) => keep(j.status)) : page.jobs;
      emit(out, { jobs, ...(page.next_cursor === undefined ? {} : { next_cursor: page.next_cursor }) }, () => {
        printTable(out, ["id", "status", "dataset", "end_block", "provider", "updated_at"], jobs.map((j) => [j.id, j.status, datasetOf(j), endOf(j), j.provider, j.updated_at]));
        if (page.next_cursor !== undefined) printLine(out, `more: --after ${page.next_cursor}`);
      });
    }));

  job
    .command("inspect <id>")
    .description("one job: status, descriptor, provider, failure reason")
    .action(run(async ({ client, out }, id: string) => {
      const info = await client.get<JobInfo>(`/jobs/${parseId("job id", id)}`);
      emit(out, info, () => printFields(out, info as unknown as Record<string, unknown>));
    }));

  job
    .command("events <id>")
    .description("a job's timeline, oldest first")
    .action(run(async ({ client, out }, id: string) => {
      const jobId = parseId("job id", id);
      const events = await allPages(async (cursor) => {
        const page = await client.get<{ events: JobEvent[]; next_cursor?: number }>(`/jobs/${jobId}/events`, { limit: 1000, last_event_id: cursor });
        return { items: page.events, ...(page.next_cursor === undefined ? {} : { next_cursor: page.next_cursor }) };
      });
      emit(out, events, () => printTable(out, ["id", "created_at", "kind", "detail"], events.map((e) => [e.id, e.created_at, e.kind, JSON.stringify(e.detail)])));
    }));

  job
    .command("progress <id>")
    .description("each of a job's tables: synced range, files, bytes; and the job's end block and chain head")
    .action(run(async ({ client, out }, id: string) => {
      const progress = await client.get<JobProgress>(`/jobs/${parseId("job id", id)}/progress`);
      emit(out, progress, () => {
        const end = progress.continuous ? "continuous" : (progress.end_block ?? "unresolved");
        printLine(out, `job ${progress.job_id} ${progress.job_status}  blocks ${progress.start_block ?? "?"}..${end}  head ${progress.chain_head ?? "-"}`);
        printTable(
          out,
          ["table", "start", "current", "files", "size"],
          Object.entries(progress.tables).map(([name, t]) => [name, t.start_block, t.current_block, t.files_count, formatBytes(t.total_size_bytes)]),
        );
      });
    }));

  addWatchOptions(job.command("watch <id>").description("follow a job with a progress bar per table until it ends (plain lines without a terminal)")).action(
    run(async (context, id: string, options: WatchFlags) => {
      await watchJob(context, parseId("job id", id), options);
    }),
  );

  job
    .command("stop <id>")
    .description("ask a job to stop (idempotent)")
    .action(run(async ({ client, out }, id: string) => {
      const jobId = parseId("job id", id);
      await client.json("PUT", `/jobs/${jobId}/stop`);
      emit(out, { job_id: jobId, stop_requested: true }, () => printLine(out, `stop requested for job ${jobId}`));
    }));

  job
    .command("rm <id>")
    .description("delete a terminal job and its events")
    .action(run(async ({ client, out }, id: string) => {
      const jobId = parseId("job id", id);
      await client.json("DELETE", `/jobs/${jobId}`);
      emit(out, { job_id: jobId, deleted: true }, () => printLine(out, `deleted job ${jobId}`));
    }));

  job
    .command("prune")
    .description("delete terminal jobs in bulk")
    .option("-s, --status <filter>", "terminal, completed, stopped or error", "terminal")
    .action(run(async ({ client, out }, options: { status: string }) => {
      if (!["terminal", "completed", "stopped", "error"].includes(options.status.toLowerCase())) {
        throw new UsageError(`--status must be terminal, completed, stopped or error, not '${options.status}'`);
      }
      await client.json("DELETE", "/jobs", { query: { status: options.status } });
      emit(out, { status: options.status, pruned: true }, () => printLine(out, `deleted ${options.status.toLowerCase()} jobs`));
    }));
}
