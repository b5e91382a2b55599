import { createRoute, z } from "@hono/zod-openapi";
import { DEFAULT_GC_GRACE_SECS, parseGracePeriod } from "../domain/garbage-rules";
import { openDb } from "../store/db";
import { createGcRun, executeGcRun, garbageWindow, findRunningGcRun, type GcRun, getGcRun } from "../store/gc-runs";
import { type GarbageItem, planGarbage } from "../store/garbage-collection";
import type { App } from "./app";
import { ApiError } from "./errors";
import { idPathParam } from "./id-params";
import { errorContent, jsonContent, readRouteErrors, writeRouteErrors } from "./responses";
import { validationHook } from "./validation";

/**
 * Garbage collection (the storage server's convention: an explicit endpoint, a dry run, and 202 with a status
 * to poll for work that finishes in the background). What is garbage and the order of removal: the store's
 * garbage-collection.ts and docs/storage.md.
 */

const OlderThanQuerySchema = z.object({
  older_than: z
    .string()
    .refine((text) => parseGracePeriod(text) !== null, "older_than must be seconds, or a number with s, m, h or d (e.g. 24h)")
    .optional()
    .openapi({
      param: { name: "older_than", in: "query" },
      description: "Grace period: only what is older than this is collected (default 24h). Seconds, or with a unit: `90s`, `30m`, `24h`, `7d`",
      example: "24h",
    }),
});

const TotalsSchema = z.object({ count: z.number().int(), bytes: z.number().int() }).openapi("GarbageTotals");

const GarbageItemSchema = z
  .object({
    reason: z.enum(["superseded", "invalidated", "pruned", "unregistered", "deleted_location"]).openapi({
      description:
        "`superseded`: a file off its location's canonical chain inside the range the chain covers (reorg, range extracted again); `invalidated`: a file an invalidation older than the grace period took out of counting (`POST .../partitions/invalidate`); `pruned`: handed over by a revision prune, expired; `unregistered`: an object with no file row; `deleted_location`: an object of a location DELETE /revisions/{id} deleted",
    }),
    key: z.string().openapi({ description: "The R2 object key", example: "data/eth_rpc/blocks/0199a6b2-8f4e-7c1a-9d2e-3f4a5b6c7d8e/000000000-000000999-9a71a95b.parquet" }),
    bytes: z.number().int(),
    file_id: z.number().int().optional().openapi({ description: "The file row removed with it, for `superseded`, `invalidated` and `pruned`" }),
    location_id: z.number().int().optional(),
  })
  .openapi("GarbageItem");

/** Listed items at most; the totals count everything. */
const MAX_LISTED_ITEMS = 1000;

const GcPlanSchema = z
  .object({
    older_than_secs: z.number().int(),
    cutoff: z.string().openapi({ description: "RFC 3339 UTC: only what is older is collected" }),
    file_rows: TotalsSchema.openapi({ description: "File rows that would be deleted, with the bytes of their objects" }),
    objects: TotalsSchema.openapi({ description: "Objects that would be deleted, all reasons" }),
    by_reason: z.record(z.string(), TotalsSchema).openapi({ description: "Objects by reason" }),
    items: z.array(GarbageItemSchema).openapi({ description: `What would be removed, at most ${MAX_LISTED_ITEMS}` }),
  })
  .openapi("GcPlan");

const GcRunSchema = z
  .object({
    id: z.number().int(),
    status: z.enum(["running", "completed", "failed"]),
    trigger: z.enum(["request", "cron"]),
    older_than_secs: z.number().int(),
    cutoff: z.string(),
    files_removed: z.number().int(),
    objects_removed: z.number().int(),
    bytes_removed: z.number().int(),
    error: z.string().optional().openapi({ description: "Why the run failed; present only when `status` is failed" }),
    created_at: z.string(),
    updated_at: z.string(),
    finished_at: z.string().optional().openapi({ description: "Present once the run is completed or failed" }),
  })
  .openapi("GcRun");

export function toGcRunInfo(run: GcRun): z.output<typeof GcRunSchema> {
  return {
    id: run.id,
    status: run.status as "running" | "completed" | "failed",
    trigger: run.trigger as "request" | "cron",
    older_than_secs: run.olderThanSecs,
    cutoff: run.cutoff,
    files_removed: run.filesRemoved,
    objects_removed: run.objectsRemoved,
    bytes_removed: run.bytesRemoved,
    ...(run.error === null ? {} : { error: run.error }),
    created_at: run.createdAt,
    updated_at: run.updatedAt,
    ...(run.finishedAt === null ? {} : { finished_at: run.finishedAt }),
  };
}

const planRoute = createRoute({
  method: "get",
  path: "/gc",
  tags: ["gc"],
  operationId: "gc_plan",
  summary: "Dry run: the file rows and objects garbage collection would remove now, with counts and bytes",
  request: { query: OlderThanQuerySchema },
  responses: {
    200: jsonContent(GcPlanSchema, "What a collection with this grace period would remove; nothing is changed"),
    400: errorContent("Bad older_than (INVALID_QUERY_PARAMETERS)"),
    ...readRouteErrors,
  },
});

const startRoute = createRoute({
  method: "post",
  path: "/gc",
  tags: ["gc"],
  operationId: "gc_start",
  summary: "Start a garbage collection in the background; poll GET /gc/{id} until it is completed or failed",
  description: "While a run is running, answers that run instead of starting another. Safe to repeat: each removal is of what is still there.",
  request: { query: OlderThanQuerySchema },
  responses: {
    202: jsonContent(GcRunSchema, "Accepted: the run, with `Location: /gc/{id}`"),
    400: errorContent("Bad older_than (INVALID_QUERY_PARAMETERS)"),
    ...writeRouteErrors,
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/gc/{id}",
  tags: ["gc"],
  operationId: "gc_get",
  summary: "A garbage collection run and what it removed",
  request: { params: z.object({ id: idPathParam("id", "Garbage collection run ID") }) },
  responses: {
    200: jsonContent(GcRunSchema, "The run"),
    400: errorContent("Invalid id (INVALID_PATH)"),
    404: errorContent("No such run (GC_RUN_NOT_FOUND)"),
    ...readRouteErrors,
  },
});


function summarize(items: GarbageItem[]) {
  const totals = (list: GarbageItem[]) => ({ count: list.length, bytes: list.reduce((sum, item) => sum + item.bytes, 0) });
  const reasons = [...new Set(items.map((item) => item.reason))];
  return {
    file_rows: totals(items.filter((item) => item.fileId !== undefined)),
    objects: totals(items),
    by_reason: Object.fromEntries(reasons.map((reason) => [reason, totals(items.filter((item) => item.reason === reason))])),
    items: items.slice(0, MAX_LISTED_ITEMS).map((item) => ({
      reason: item.reason,
      key: item.key,
      bytes: item.bytes,
      ...(item.fileId === undefined ? {} : { file_id: item.fileId }),
      ...(item.locationId === undefined ? {} : { location_id: item.locationId }),
    })),
  };
}

function olderThanSecs(text: string | undefined): number {
  return text === undefined ? DEFAULT_GC_GRACE_SECS : parseGracePeriod(text)!;
}

export function registerGcRoutes(app: App): void {
  app.openapi(
    planRoute,
    async (c) => {
      const secs = olderThanSecs(c.req.valid("query").older_than);
      const bounds = garbageWindow(secs, Date.now());
      const items = await planGarbage(openDb(c.env.DB), c.env.BUCKET, bounds);
      return c.json({ older_than_secs: secs, cutoff: bounds.cutoff, ...summarize(items) }, 200);
    },
    validationHook({ query: "INVALID_QUERY_PARAMETERS" }),
  );

  app.openapi(
    startRoute,
    async (c) => {
      const secs = olderThanSecs(c.req.valid("query").older_than);
      const db = openDb(c.env.DB);
      const running = await findRunningGcRun(db);
      const run = running ?? (await createGcRun(db, { trigger: "request", olderThanSecs: secs, cutoff: garbageWindow(secs, Date.now()).cutoff }));
      if (!run) throw new Error("a garbage collection run without a day was refused");
      if (!running) c.executionCtx.waitUntil(executeGcRun(db, c.env.BUCKET, run));
      return c.json(toGcRunInfo(run), 202, { location: `/gc/${run.id}` });
    },
    validationHook({ query: "INVALID_QUERY_PARAMETERS" }),
  );

  app.openapi(
    getRoute,
    async (c) => {
      const { id } = c.req.valid("param");
      const run = await getGcRun(openDb(c.env.DB), id);
      if (!run) throw new ApiError("GC_RUN_NOT_FOUND", `garbage collection run ${id} not found`);
      return c.json(toGcRunInfo(run), 200);
    },
    validationHook({ param: "INVALID_PATH" }),
  );
}
