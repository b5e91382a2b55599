import { z } from "@hono/zod-openapi";
import { JOB_STATUSES } from "../domain/job";
import type { Db } from "../store/db";
import { getJob, type Job, jobNodeId } from "../store/jobs";
import { ApiError } from "./errors";
import { idPathParam } from "./id-params";

/** A job as the API shows it, and the `{id}` of the job routes: shared by the job, deploy and location routes. */

/** The spec's JobInfo plus `created_at`, `updated_at` and `failure_reason`, which issue 4 asks for. */
export const JobInfoSchema = z
  .object({
    id: z.number().int().openapi({ example: 1 }),
    created_at: z.string().openapi({ description: "RFC 3339 UTC", example: "2025-11-06T12:56:59.123Z" }),
    updated_at: z.string().openapi({ description: "RFC 3339 UTC; the time of the last status change", example: "2025-11-06T12:57:10.456Z" }),
    node_id: z.string().openapi({ description: "The JobRunner Durable Object that owns the job: `jobrunner-<id>`", example: "jobrunner-1" }),
    status: z.enum(JOB_STATUSES),
    descriptor: z.record(z.string(), z.unknown()).openapi({
      description: "The job descriptor (reference §4.1)",
      example: { Dump: { end_block: "100", max_writers: 1, dataset_namespace: "_", dataset_name: "eth_rpc", manifest_hash: "<64 hex>" } },
    }),
    failure_reason: z.string().optional().openapi({ description: "Why the job failed; present only when `status` is FAILED" }),
    provider: z.string().optional().openapi({
      description: "The name of the provider the job extracts from, chosen once when it started; absent before, and for jobs that read no provider",
      example: "rpc_eth_mainnet",
    }),
  })
  .openapi("JobInfo");

export function toJobInfo(job: Job): z.output<typeof JobInfoSchema> {
  return {
    id: job.id,
    created_at: job.createdAt,
    updated_at: job.updatedAt,
    node_id: jobNodeId(job.id),
    status: job.status,
    descriptor: job.descriptor,
    ...(job.failureReason === null ? {} : { failure_reason: job.failureReason }),
    ...(job.providerName === null ? {} : { provider: job.providerName }),
  };
}

export const JobIdParamsSchema = z.object({ id: idPathParam("id", "Job ID") });

/** The job `id` names; 404 JOB_NOT_FOUND when there is none. */
export async function requireJob(db: Db, id: number): Promise<Job> {
  const job = await getJob(db, id);
  if (!job) throw new ApiError("JOB_NOT_FOUND", `job ${id} not found`);
  return job;
}
