import { createRoute, z } from "@hono/zod-openapi";
import { statusesForDeleteFilter } from "../domain/job";
import { openDb } from "../store/db";
import { getJobEvent, JOB_EVENT_KINDS, type JobEventRow, listJobEvents } from "../store/job-events";
import { deleteJobsByStatus, deleteTerminalJob, jobNodeId, listDatasetJobs, listJobs } from "../store/jobs";
import type { App } from "./app";
import { DatasetRevisionParamsSchema, resolveDatasetRevision } from "./dataset-params";
import { ApiError } from "./errors";
import { idPathParam } from "./id-params";
import { JobIdParamsSchema, JobInfoSchema, requireJob, toJobInfo } from "./job-info";
import { NextCursorSchema, pageQuery, pageRequest } from "./pagination";
import { errorContent, jsonContent, readRouteErrors, writeRouteErrors } from "./responses";
import { pathFirstHook, validationHook } from "./validation";

/** Jobs as D1 mirrors them: list, read, delete, and each job's event timeline. Deploy and stop are in job-control.ts. */

const JobsResponseSchema = z.object({ jobs: z.array(JobInfoSchema), next_cursor: NextCursorSchema }).openapi("JobsResponse");

const EVENT_KINDS_DOC = [
  "`scheduled`, `running`, `stop_requested`, `stopping`, `stopped`, `completed`: status changes (detail may carry context)",
  "`step_started` {range, attempt}",
  "`step_completed` {range, files, rows, bytes, duration_ms, requests, held_mb}",
  "`step_failed` {range, reason, error (its class: rate_limited, timeout, …), attempt, retryable}",
  "`head_read_failed` {reason, error, attempt, retryable}: reading the chain head failed",
  "`failed` {reason}",
  "`range` is an inclusive block range {start, end}",
].join("; ");

const JobEventSchema = z
  .object({
    id: z.number().int().openapi({ description: "Increases with each event; the cursor of the timeline" }),
    kind: z.string().openapi({ description: `One of ${JOB_EVENT_KINDS.join(", ")}`, example: "step_completed" }),
    detail: z.record(z.string(), z.unknown()).openapi({
      description: EVENT_KINDS_DOC,
      example: { range: { start: 0, end: 999 }, files: 3, rows: 5210, bytes: 812345, duration_ms: 4210 },
    }),
    created_at: z.string().openapi({ description: "RFC 3339 UTC" }),
  })
  .openapi("JobEvent");

const JobEventsResponseSchema = z.object({ events: z.array(JobEventSchema), next_cursor: NextCursorSchema }).openapi("JobEventsResponse");

function toJobEvent(row: JobEventRow): z.output<typeof JobEventSchema> {
  return { id: row.id, kind: row.kind, detail: row.detail, created_at: row.createdAt };
}

const JobEventDetailSchema = z
  .object({
    id: z.number().int(),
    job_id: z.number().int(),
    created_at: z.string().openapi({ description: "RFC 3339 UTC" }),
    node_id: z.string().openapi({ description: "The JobRunner that wrote the event: `jobrunner-<job id>`", example: "jobrunner-1" }),
    event_type: z.string().openapi({ description: "The event's kind in upper case, as the original names its events", example: "STEP_COMPLETED" }),
    detail: z.record(z.string(), z.unknown()).optional().openapi({ description: `The event's detail; absent when it has none. ${EVENT_KINDS_DOC}` }),
  })
  .openapi("JobEventInfo");

function toJobEventDetail(row: JobEventRow): z.output<typeof JobEventDetailSchema> {
  const hasDetail = Object.keys(row.detail).length > 0;
  return {
    id: row.id,
    job_id: row.jobId,
    created_at: row.createdAt,
    node_id: jobNodeId(row.jobId),
    event_type: row.kind.toUpperCase(),
    ...(hasDetail ? { detail: row.detail } : {}),
  };
}

const JobEventParamsSchema = JobIdParamsSchema.extend({ event_id: idPathParam("event_id", "Event ID") });

const JobsPageQuerySchema = pageQuery("last_job_id", "jobs");
const EventsPageQuerySchema = pageQuery("last_event_id", "events");

const DeleteJobsQuerySchema = z.object({
  status: z
    .string()
    .refine((filter) => statusesForDeleteFilter(filter) !== null, "must be terminal, completed, stopped or error")
    .openapi({
      param: { name: "status", in: "query" },
      description:
        "Which terminal jobs to delete, case-insensitive: `terminal` (COMPLETED, STOPPED, FAILED), `completed`, `stopped`, `error` (FAILED)",
      example: "terminal",
    }),
});

const listJobsRoute = createRoute({
  method: "get",
  path: "/jobs",
  tags: ["jobs"],
  operationId: "jobs_list",
  summary: "List jobs, newest first, one page at a time",
  request: { query: JobsPageQuerySchema },
  responses: {
    200: jsonContent(JobsResponseSchema, "A page of jobs; `next_cursor` is absent on the last page"),
    400: errorContent("Bad query (INVALID_QUERY_PARAMETERS), limit 0 (LIMIT_INVALID) or over 1000 (LIMIT_TOO_LARGE)"),
    ...readRouteErrors,
  },
});

const deleteJobsRoute = createRoute({
  method: "delete",
  path: "/jobs",
  tags: ["jobs"],
  operationId: "jobs_delete_many",
  summary: "Delete every terminal job matching a status filter",
  request: { query: DeleteJobsQuerySchema },
  responses: {
    204: { description: "Matching terminal jobs deleted (possibly none)" },
    400: errorContent("Missing or unknown status filter (INVALID_QUERY_PARAM)"),
    ...writeRouteErrors,
  },
});

const getJobRoute = createRoute({
  method: "get",
  path: "/jobs/{id}",
  tags: ["jobs"],
  operationId: "jobs_get",
  summary: "One job, with its failure reason when FAILED",
  request: { params: JobIdParamsSchema },
  responses: {
    200: jsonContent(JobInfoSchema, "The job"),
    400: errorContent("Invalid job id (INVALID_JOB_ID)"),
    404: errorContent("No such job (JOB_NOT_FOUND)"),
    ...readRouteErrors,
  },
});

const deleteJobRoute = createRoute({
  method: "delete",
  path: "/jobs/{id}",
  tags: ["jobs"],
  operationId: "jobs_delete",
  summary: "Delete a terminal job and its events; idempotent",
  request: { params: JobIdParamsSchema },
  responses: {
    204: { description: "Deleted, or there was no such job" },
    400: errorContent("Invalid job id (INVALID_JOB_ID)"),
    409: errorContent("The job is not terminal (JOB_CONFLICT)"),
    ...writeRouteErrors,
  },
});

const listEventsRoute = createRoute({
  method: "get",
  path: "/jobs/{id}/events",
  tags: ["jobs"],
  operationId: "jobs_events",
  summary: "A job's timeline, oldest first, one page at a time",
  description: `The events of a job in the order they happened. Kinds and their detail: ${EVENT_KINDS_DOC}.`,
  request: { params: JobIdParamsSchema, query: EventsPageQuerySchema },
  responses: {
    200: jsonContent(JobEventsResponseSchema, "A page of events; `next_cursor` is absent on the last page"),
    400: errorContent("Invalid job id (INVALID_JOB_ID), bad query (INVALID_QUERY_PARAMETERS), LIMIT_INVALID or LIMIT_TOO_LARGE"),
    404: errorContent("No such job (JOB_NOT_FOUND)"),
    ...readRouteErrors,
  },
});

const getEventRoute = createRoute({
  method: "get",
  path: "/jobs/{id}/events/{event_id}",
  tags: ["jobs"],
  operationId: "jobs_event",
  summary: "One event of a job's timeline, with its detail",
  request: { params: JobEventParamsSchema },
  responses: {
    200: jsonContent(JobEventDetailSchema, "The event"),
    400: errorContent("Invalid job or event id (INVALID_JOB_ID)"),
    404: errorContent("No such job (JOB_NOT_FOUND), or the job has no such event (EVENT_NOT_FOUND)"),
    ...readRouteErrors,
  },
});

const DatasetJobsResponseSchema = z.object({ jobs: z.array(JobInfoSchema) }).openapi("DatasetJobsResponse");

const datasetJobsRoute = createRoute({
  method: "get",
  path: "/datasets/{namespace}/{name}/versions/{revision}/jobs",
  tags: ["datasets"],
  operationId: "list_dataset_jobs",
  summary: "Every job deployed for this dataset revision, oldest first",
  description: "Not paginated, as in the original. Each job appears once (the original repeats a job for each of its SCHEDULED events).",
  request: { params: DatasetRevisionParamsSchema },
  responses: {
    200: jsonContent(DatasetJobsResponseSchema, "The jobs"),
    400: errorContent("Invalid path (INVALID_PATH)"),
    404: errorContent("No such dataset or revision (DATASET_NOT_FOUND)"),
    ...readRouteErrors,
  },
});

export function registerJobRoutes(app: App): void {
  app.openapi(
    datasetJobsRoute,
    async (c) => {
      const params = c.req.valid("param");
      const db = openDb(c.env.DB);
      const resolved = await resolveDatasetRevision(db, params);
      const jobs = await listDatasetJobs(db, params, resolved.hash);
      return c.json({ jobs: jobs.map(toJobInfo) }, 200);
    },
    validationHook({ param: "INVALID_PATH" }),
  );

  app.openapi(
    listJobsRoute,
    async (c) => {
      const query = c.req.valid("query");
      const page = await listJobs(openDb(c.env.DB), pageRequest(query.limit, query.last_job_id));
      return c.json({ jobs: page.items.map(toJobInfo), next_cursor: page.nextCursor }, 200);
    },
    validationHook({ query: "INVALID_QUERY_PARAMETERS" }),
  );

  app.openapi(
    deleteJobsRoute,
    async (c) => {
      const statuses = statusesForDeleteFilter(c.req.valid("query").status);
      if (!statuses) throw new ApiError("INVALID_QUERY_PARAM", "status must be terminal, completed, stopped or error");
      await deleteJobsByStatus(openDb(c.env.DB), statuses);
      return c.body(null, 204);
    },
    validationHook({ query: "INVALID_QUERY_PARAM" }),
  );

  app.openapi(
    getJobRoute,
    async (c) => {
      const job = await requireJob(openDb(c.env.DB), c.req.valid("param").id);
      return c.json(toJobInfo(job), 200);
    },
    validationHook({ param: "INVALID_JOB_ID" }),
  );

  app.openapi(
    deleteJobRoute,
    async (c) => {
      const { id } = c.req.valid("param");
      const result = await deleteTerminalJob(openDb(c.env.DB), id);
      if (result.outcome === "not_terminal") {
        throw new ApiError("JOB_CONFLICT", `job ${id} is ${result.status}; only COMPLETED, STOPPED or FAILED jobs can be deleted`);
      }
      return c.body(null, 204);
    },
    validationHook({ param: "INVALID_JOB_ID" }),
  );

  app.openapi(
    listEventsRoute,
    async (c) => {
      const { id } = c.req.valid("param");
      const query = c.req.valid("query");
      const request = pageRequest(query.limit, query.last_event_id);
      const db = openDb(c.env.DB);
      await requireJob(db, id);
      const page = await listJobEvents(db, id, request);
      return c.json({ events: page.items.map(toJobEvent), next_cursor: page.nextCursor }, 200);
    },
    pathFirstHook({ param: "INVALID_JOB_ID", query: "INVALID_QUERY_PARAMETERS" }, JobIdParamsSchema),
  );

  app.openapi(
    getEventRoute,
    async (c) => {
      const { id, event_id } = c.req.valid("param");
      const db = openDb(c.env.DB);
      await requireJob(db, id);
      const event = await getJobEvent(db, id, event_id);
      if (!event) throw new ApiError("EVENT_NOT_FOUND", `job ${id} has no event ${event_id}`);
      return c.json(toJobEventDetail(event), 200);
    },
    validationHook({ param: "INVALID_JOB_ID" }),
  );
}
