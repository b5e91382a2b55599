import { createRoute, z } from "@hono/zod-openapi";
import { parseCronSchedule } from "../domain/cron-schedule";
import { parseEndBlock } from "../domain/end-block";
import { formatRevision } from "../domain/revision";
import { openDb } from "../store/db";
import { type ScheduleKey, type ScheduleRow, deleteSchedule, getSchedule, listSchedules, putSchedule } from "../store/schedules";
import type { App } from "./app";
import { DatasetRevisionParamsSchema, resolveDatasetRevision } from "./dataset-params";
import { ApiError } from "./errors";
import { MAX_PARALLELISM } from "./job-control";
import { errorContent, jsonContent, readRouteErrors, writeRouteErrors } from "./responses";
import { jsonBody, validationHook } from "./validation";

/** Cron-scheduled syncs: one schedule per dataset revision, deployed by the minute Cron trigger (schedule-sweep.ts). */

const EndBlockValueSchema = z.union([z.string(), z.number().int(), z.null()]);

const ScheduleRequestSchema = z
  .object({
    cron: z.string().openapi({ description: "Five-field cron expression (minute hour day-of-month month day-of-week)", example: "0 * * * *" }),
    timezone: z.string().default("UTC").openapi({ description: "IANA time zone the expression is read in", example: "Europe/Berlin" }),
    end_block: z
      .unknown()
      .default("latest")
      .superRefine((value, ctx) => {
        const parsed = parseEndBlock(value);
        if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.reason });
      })
      .transform((value) => value as z.infer<typeof EndBlockValueSchema>)
      .openapi({
        description: 'The end_block of each deploy, as POST .../deploy takes it; default "latest" (the chain head when the job starts)',
        oneOf: [{ type: "null" }, { type: "string", example: "latest" }, { type: "integer", example: 1000 }],
      }),
    parallelism: z.number().int().min(1, "parallelism must be at least 1").max(MAX_PARALLELISM).default(1).openapi({ description: "Steps extracted at once", example: 1 }),
    enabled: z.boolean().default(true).openapi({ description: "A disabled schedule deploys nothing and has no next run" }),
  })
  .openapi("ScheduleRequest");

const timestamp = (description: string) => z.string().openapi({ description: `${description} (RFC 3339 UTC)`, example: "2025-11-06T13:00:00.000Z" });

const ScheduleRunSchema = z
  .object({
    due_at: timestamp("The due time the trigger claimed"),
    ran_at: timestamp("When the trigger acted on it").nullable(),
    outcome: z.enum(["deployed", "skipped", "failed"]).nullable().openapi({
      description: "deployed: a new job; skipped: a job of the same manifest was SCHEDULED or RUNNING (job_id); failed: the deploy was refused (message). Null while the trigger is at it",
    }),
    job_id: z.number().int().nullable().openapi({ description: "The job deployed, or the one that caused the skip" }),
    message: z.string().nullable().openapi({ description: "Why the deploy failed or was skipped" }),
  })
  .openapi("ScheduleRun");

const ScheduleSchema = z
  .object({
    namespace: z.string().openapi({ example: "_" }),
    name: z.string().openapi({ example: "eth_rpc" }),
    revision: z.string().openapi({ description: "The revision as set; `latest` deploys whatever is latest at each run", example: "latest" }),
    cron: z.string().openapi({ example: "0 * * * *" }),
    timezone: z.string().openapi({ example: "UTC" }),
    end_block: EndBlockValueSchema.openapi({ description: "The end_block of each deploy", example: "latest" }),
    parallelism: z.number().int().openapi({ example: 1 }),
    enabled: z.boolean(),
    next_run_at: timestamp("The next due time; null while disabled").nullable(),
    last_run: ScheduleRunSchema.nullable().openapi({ description: "The last due time the trigger acted on; null before the first" }),
    created_at: timestamp("When the schedule was first set"),
    updated_at: timestamp("When it was last set"),
  })
  .openapi("Schedule");

const SchedulesResponseSchema = z.object({ schedules: z.array(ScheduleSchema) }).openapi("SchedulesResponse");

function scheduleInfo(row: ScheduleRow): z.infer<typeof ScheduleSchema> {
  return {
    namespace: row.namespace,
    name: row.name,
    revision: row.revision,
    cron: row.cron,
    timezone: row.timezone,
    end_block: row.endBlock ?? null,
    parallelism: row.parallelism,
    enabled: row.enabled,
    next_run_at: row.nextRunAt,
    last_run:
      row.lastDueAt === null
        ? null
        : { due_at: row.lastDueAt, ran_at: row.lastRunAt, outcome: parseOutcome(row.lastOutcome), job_id: row.lastJobId, message: row.lastMessage },
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

function parseOutcome(text: string | null): "deployed" | "skipped" | "failed" | null {
  return text === "deployed" || text === "skipped" || text === "failed" ? text : null;
}

const SCHEDULE_PATH = "/datasets/{namespace}/{name}/versions/{revision}/schedule";

const putRoute = createRoute({
  method: "put",
  path: SCHEDULE_PATH,
  tags: ["schedules"],
  operationId: "schedule_set",
  summary: "Set (create or replace) the revision's cron schedule; the minute Cron trigger deploys it when due",
  middleware: [jsonBody("INVALID_BODY")] as const,
  request: { params: DatasetRevisionParamsSchema, body: { required: true, content: { "application/json": { schema: ScheduleRequestSchema } } } },
  responses: {
    200: jsonContent(ScheduleSchema, "Replaced"),
    201: jsonContent(ScheduleSchema, "Created"),
    400: errorContent("Invalid path (INVALID_PATH) or body (INVALID_BODY), e.g. a cron expression or time zone that does not parse, with the parser's message"),
    404: errorContent("No such dataset or revision (DATASET_NOT_FOUND)"),
    ...writeRouteErrors,
  },
});

const getRoute = createRoute({
  method: "get",
  path: SCHEDULE_PATH,
  tags: ["schedules"],
  operationId: "schedule_get",
  summary: "The revision's schedule, with its last and next run",
  request: { params: DatasetRevisionParamsSchema },
  responses: {
    200: jsonContent(ScheduleSchema, "The schedule"),
    400: errorContent("Invalid path (INVALID_PATH)"),
    404: errorContent("The revision has no schedule (SCHEDULE_NOT_FOUND)"),
    ...readRouteErrors,
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: SCHEDULE_PATH,
  tags: ["schedules"],
  operationId: "schedule_delete",
  summary: "Remove the revision's schedule; jobs it deployed are left alone",
  request: { params: DatasetRevisionParamsSchema },
  responses: {
    204: { description: "Removed" },
    400: errorContent("Invalid path (INVALID_PATH)"),
    404: errorContent("The revision has no schedule (SCHEDULE_NOT_FOUND)"),
    ...writeRouteErrors,
  },
});

const listRoute = createRoute({
  method: "get",
  path: "/schedules",
  tags: ["schedules"],
  operationId: "schedules_list",
  summary: "Every schedule, by dataset and revision",
  responses: { 200: jsonContent(SchedulesResponseSchema, "The schedules"), ...readRouteErrors },
});

function keyOf(params: z.infer<typeof DatasetRevisionParamsSchema>): ScheduleKey {
  return { namespace: params.namespace, name: params.name, revision: formatRevision(params.revision) };
}

function notFound(key: ScheduleKey): ApiError {
  return new ApiError("SCHEDULE_NOT_FOUND", `dataset ${key.namespace}/${key.name} revision '${key.revision}' has no schedule`);
}

export function registerScheduleRoutes(app: App): void {
  app.openapi(
    putRoute,
    async (c) => {
      const params = c.req.valid("param");
      const body = c.req.valid("json");
      const parsed = parseCronSchedule(body.cron, body.timezone);
      if (!parsed.ok) throw new ApiError("INVALID_BODY", parsed.reason);
      const db = openDb(c.env.DB);
      await resolveDatasetRevision(db, params);
      const next = body.enabled ? parsed.schedule.nextAfter(new Date()) : null;
      const { row, created } = await putSchedule(db, keyOf(params), {
        cron: body.cron,
        timezone: body.timezone,
        endBlock: body.end_block,
        parallelism: body.parallelism,
        enabled: body.enabled,
        nextRunAt: next?.toISOString() ?? null,
      });
      return c.json(scheduleInfo(row), created ? 201 : 200);
    },
    validationHook({ param: "INVALID_PATH", json: "INVALID_BODY" }),
  );

  app.openapi(
    getRoute,
    async (c) => {
      const key = keyOf(c.req.valid("param"));
      const row = await getSchedule(openDb(c.env.DB), key);
      if (!row) throw notFound(key);
      return c.json(scheduleInfo(row), 200);
    },
    validationHook({ param: "INVALID_PATH" }),
  );

  app.openapi(
    deleteRoute,
    async (c) => {
      const key = keyOf(c.req.valid("param"));
      if (!(await deleteSchedule(openDb(c.env.DB), key))) throw notFound(key);
      return c.body(null, 204);
    },
    validationHook({ param: "INVALID_PATH" }),
  );

  app.openapi(listRoute, async (c) => c.json({ schedules: (await listSchedules(openDb(c.env.DB))).map(scheduleInfo) }, 200));
}
