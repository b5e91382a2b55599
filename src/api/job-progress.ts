import { createRoute, z } from "@hono/zod-openapi";
import { jobRunnerStub } from "../../durable-objects/job-runner";
import { parseDumpDescriptor } from "../domain/job";
import { openDb } from "../store/db";
import { latestJobEvent } from "../store/job-events";
import { listJobTableProgress } from "../store/location-progress";
import type { App } from "./app";
import { JobIdParamsSchema, requireJob } from "./job-info";
import { errorContent, jsonContent, readRouteErrors } from "./responses";
import { validationHook } from "./validation";

/**
 * One job's progress (the later Amp's `GET /jobs/{id}/progress`), with what a
 * progress bar needs besides: the block range the job is heading for and the
 * chain head its runner read last.
 */

const JobTableProgressSchema = z
  .object({
    start_block: z.number().int().nullable().openapi({ description: "First block of the table's canonical chain; null when nothing is synced" }),
    current_block: z.number().int().nullable().openapi({ description: "Last block of the canonical chain; null when nothing is synced" }),
    files_count: z.number().int(),
    total_size_bytes: z.number().int(),
  })
  .openapi("JobTableProgress");

const JobProgressSchema = z
  .object({
    job_id: z.number().int(),
    job_status: z.string().openapi({ example: "RUNNING" }),
    start_block: z.number().int().nullable().openapi({ description: "The first block the job extracts (the dataset's start block); null until its runner took the job" }),
    end_block: z.number().int().nullable().openapi({
      description: "The last block it extracts, once resolved (`latest` and `-N` resolve at the first head read); null for a continuous job and before",
    }),
    continuous: z.boolean().openapi({ description: "Whether the job follows the chain head and never completes" }),
    chain_head: z.number().int().nullable().openapi({ description: "The chain head the job read last; null before its first read" }),
    chain_head_at: z.string().nullable().openapi({ description: "When it read it (RFC 3339 UTC)" }),
    tables: z.record(z.string(), JobTableProgressSchema).openapi({ description: "The tables whose active location this job writes, by name" }),
    detail: z.record(z.string(), z.unknown()).optional().openapi({ description: "Only for a FAILED job, as in the original: the detail of its `failed` event, `{reason}`" }),
  })
  .openapi("JobProgress");

const jobProgressRoute = createRoute({
  method: "get",
  path: "/jobs/{id}/progress",
  tags: ["jobs"],
  operationId: "jobs_progress",
  summary: "A job's progress: its block range and the chain head as its runner sees them, and each of its tables' synced range, files and bytes",
  request: { params: JobIdParamsSchema },
  responses: {
    200: jsonContent(JobProgressSchema, "The job's progress"),
    400: errorContent("Invalid job id (INVALID_JOB_ID)"),
    404: errorContent("No such job (JOB_NOT_FOUND)"),
    ...readRouteErrors,
  },
});

/** Before its runner took the job, the descriptor says whether it is continuous. */
function isContinuous(descriptor: unknown): boolean {
  const parsed = parseDumpDescriptor(descriptor);
  return parsed.ok && parsed.job.endBlock.kind === "continuous";
}

export function registerJobProgressRoutes(app: App): void {
  app.openapi(
    jobProgressRoute,
    async (c) => {
      const { id } = c.req.valid("param");
      const db = openDb(c.env.DB);
      const job = await requireJob(db, id);
      const [target, rows, failed] = await Promise.all([
        jobRunnerStub(c.env.JOB_RUNNER, id).target(),
        listJobTableProgress(db, id),
        job.status === "FAILED" ? latestJobEvent(db, id, "failed") : undefined,
      ]);
      const tables = Object.fromEntries(
        rows.map((row) => [
          row.table,
          { start_block: row.startBlock, current_block: row.currentBlock, files_count: row.filesCount, total_size_bytes: row.totalSizeBytes },
        ]),
      );
      return c.json(
        {
          job_id: id,
          job_status: job.status,
          start_block: target?.startBlock ?? null,
          end_block: target?.endBlock ?? null,
          continuous: target?.continuous ?? isContinuous(job.descriptor),
          chain_head: target?.head ?? null,
          chain_head_at: target?.headAt ? new Date(target.headAt).toISOString() : null,
          tables,
          ...(failed ? { detail: failed.detail } : {}),
        },
        200,
      );
    },
    validationHook({ param: "INVALID_JOB_ID" }),
  );
}
