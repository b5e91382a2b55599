import { createRoute, z } from "@hono/zod-openapi";
import { jobRunnerStub } from "../../durable-objects/job-runner";
import { parseEndBlock } from "../domain/end-block";
import { parseWorkerSelector } from "../domain/worker";
import { openDb } from "../store/db";
import type { App } from "./app";
import { DatasetRevisionParamsSchema } from "./dataset-params";
import { deployRevision } from "./deploy-revision";
import { ApiError } from "./errors";
import { JobIdParamsSchema, requireJob } from "./job-info";
import { errorContent, jsonContent, writeRouteErrors } from "./responses";
import { jsonBody, validationHook } from "./validation";

/** What starts and stops a job's JobRunner: deploy and stop. */

/** u16, as the original's `max_writers`; 0 is refused (DESIGN difference 6). */
export const MAX_PARALLELISM = 65_535;

const DeployRequestSchema = z
  .object({
    end_block: z
      .unknown()
      .transform((value, ctx) => {
        const parsed = parseEndBlock(value);
        if (parsed.ok) return parsed.endBlock;
        ctx.addIssue({ code: "custom", message: parsed.reason });
        return z.NEVER;
      })
      .openapi({
        description:
          'Where the job stops. null or absent: continuous, follows the chain head. "latest": the head at job start. "N" or N: block N. "-N" or -N: N blocks below the head at job start.',
        oneOf: [{ type: "null" }, { type: "string", example: "latest" }, { type: "integer", example: 1000 }],
      }),
    parallelism: z
      .number()
      .int()
      .min(1, "parallelism must be at least 1")
      .max(MAX_PARALLELISM)
      .default(1)
      .openapi({ description: "Steps extracted at once", example: 1 }),
    worker_id: z
      .string()
      .nullable()
      .optional()
      .transform((value, ctx) => {
        if (value === null || value === undefined) return null;
        const selector = parseWorkerSelector(value);
        if (selector) return selector;
        ctx.addIssue({ code: "custom", message: "worker_id must be a node id, or a node id prefix followed by a single trailing '*'" });
        return z.NEVER;
      })
      .openapi({
        type: "string",
        description:
          "Which worker the job is meant for: an exact node id (400 WORKER_NOT_AVAILABLE unless it is live) or a prefix glob ending in `*` " +
          "(400 WORKER_NOT_AVAILABLE when no live worker matches, where the original answers 500 SCHEDULER_ERROR; otherwise one match at random). The choice is recorded in the descriptor's `worker_id`.",
        example: "consumer-*",
      }),
    verify: z.boolean().default(false).openapi({
      description: "Check every fetched block before writing it: header hash, transactions root, receipts root and logs bloom",
      example: false,
    }),
  })
  .openapi("DeployRequest");

const DeployResponseSchema = z
  .object({ job_id: z.number().int().openapi({ description: "The new job, or the SCHEDULED or RUNNING job of the same manifest", example: 1 }) })
  .openapi("DeployResponse");

const deployRoute = createRoute({
  method: "post",
  path: "/datasets/{namespace}/{name}/versions/{revision}/deploy",
  tags: ["datasets"],
  operationId: "deploy_dataset",
  summary: "Start an extraction job; poll GET /jobs/{id} or the progress endpoint until it ends",
  middleware: [jsonBody("INVALID_BODY", { optional: true })] as const,
  request: {
    params: DatasetRevisionParamsSchema,
    // Required for the validator, though the body may be left out (jsonBody reads none as `{}`): with an optional
    // body, @hono/zod-openapi skipped validation for a content type it does not know in that case
    // (`APPLICATION/JSON`) and handed the handler a raw `{}`, which crashed the deploy with a 500.
    body: {
      required: true,
      description: "May be left out entirely (no content-type, no bytes): continuous, parallelism 1",
      content: { "application/json": { schema: DeployRequestSchema } },
    },
  },
  responses: {
    202: jsonContent(DeployResponseSchema, "Accepted: the job runs in the background"),
    400: errorContent("Invalid path (INVALID_PATH) or body (INVALID_BODY), no live worker matches `worker_id` (WORKER_NOT_AVAILABLE), or a derived table cannot run incrementally (NON_INCREMENTAL_QUERY)"),
    404: errorContent("No such dataset or revision (DATASET_NOT_FOUND)"),
    ...writeRouteErrors,
    500: errorContent(
      "The job could not be scheduled (SCHEDULER_ERROR): the AMP_STEP_SIZE or AMP_STEP_MAX_ATTEMPTS var is invalid",
    ),
  },
});

const stopRoute = createRoute({
  method: "put",
  path: "/jobs/{id}/stop",
  tags: ["jobs"],
  operationId: "jobs_stop",
  summary: "Stop a job: STOP_REQUESTED, then STOPPING while steps in flight finish, then STOPPED; idempotent",
  request: { params: JobIdParamsSchema },
  responses: {
    200: { description: "Stop requested, already under way, or the job had already ended (empty body)" },
    400: errorContent("Invalid job id (INVALID_JOB_ID)"),
    404: errorContent("No such job (JOB_NOT_FOUND)"),
    ...writeRouteErrors,
    500: errorContent("The job is in a state a stop cannot handle (UNEXPECTED_STATE_CONFLICT)"),
  },
});

export function registerJobControlRoutes(app: App): void {
  app.openapi(
    deployRoute,
    async (c) => {
      const { namespace, name, revision } = c.req.valid("param");
      // A request without any body skips the validator (@hono/zod-openapi hands over `{}` as is), so the
      // schema's defaults are applied here: continuous, parallelism 1.
      const body = c.req.header("content-type") === undefined ? DeployRequestSchema.parse({}) : c.req.valid("json");
      const scheduled = await deployRevision(c.env, {
        namespace,
        name,
        revision,
        endBlock: body.end_block,
        parallelism: body.parallelism,
        verify: body.verify,
        ...(body.worker_id === null ? {} : { worker: body.worker_id }),
      });
      return c.json({ job_id: scheduled.jobId }, 202);
    },
    validationHook({ param: "INVALID_PATH", json: "INVALID_BODY" }),
  );

  app.openapi(
    stopRoute,
    async (c) => {
      const { id } = c.req.valid("param");
      const job = await requireJob(openDb(c.env.DB), id);
      const result = await jobRunnerStub(c.env.JOB_RUNNER, id).requestStop(id);
      if (result === "not_found") throw new ApiError("JOB_NOT_FOUND", `job ${id} not found`);
      if (result === "conflict") throw new ApiError("UNEXPECTED_STATE_CONFLICT", `job ${id} is in status ${job.status}, which a stop cannot handle`);
      return c.body(null, 200);
    },
    validationHook({ param: "INVALID_JOB_ID" }),
  );
}
