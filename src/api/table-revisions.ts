import { createRoute, z } from "@hono/zod-openapi";
import { parseDatasetReference } from "../domain/revision";
import { restoreLocationFiles } from "../extract/file-restore";
import { nowTimestamp } from "../store/clock";
import { type Db, openDb } from "../store/db";
import { getLocation, type Location } from "../store/locations";
import { locationObjectPrefix } from "../store/r2-layout";
import type { ResolvedRevision } from "../store/revisions";
import {
  activateLocation,
  deactivateTable,
  deleteRevisionRow,
  registerRevisionLocation,
  type RevisionRefusal,
  listRevisionLocations,
  scheduleNonCanonicalFiles,
  truncateRevision,
} from "../store/revision-locations";
import type { App } from "./app";
import { resolveDatasetRevision, revisionTables } from "./dataset-params";
import { ApiError } from "./errors";
import { idPathParam } from "./id-params";
import { errorContent, jsonContent, readRouteErrors, writeRouteErrors } from "./responses";
import { jsonBody, pathFirstHook, validationHook } from "./validation";

/**
 * The original's table revisions (amp-later B.4), which are our locations under the same ids: list, read,
 * register, activate, deactivate, delete, truncate, prune and restore. `/locations` stays as the seed spec has it.
 */

const RevisionInfoSchema = z
  .object({
    id: z.number().int().openapi({ description: "The location id", example: 1 }),
    path: z.string().openapi({ description: "The location's path under the data root", example: "eth_rpc/blocks/0199a6b2-8f4e-7c1a-9d2e-3f4a5b6c7d8e/" }),
    active: z.boolean(),
    writer: z.number().int().optional().openapi({ description: "The job holding the write lock; absent when none" }),
    metadata: z
      .object({ dataset_namespace: z.string(), dataset_name: z.string(), manifest_hash: z.string(), table_name: z.string() })
      .openapi("RevisionMetadata"),
  })
  .openapi("RevisionInfo");

function toRevisionInfo(location: Location): z.output<typeof RevisionInfoSchema> {
  return {
    id: location.id,
    path: location.path,
    active: location.active,
    ...(location.writer === null ? {} : { writer: location.writer }),
    metadata: {
      dataset_namespace: location.datasetNamespace,
      dataset_name: location.datasetName,
      manifest_hash: location.manifestHash,
      table_name: location.tableName,
    },
  };
}

const DatasetReferenceSchema = z.string().openapi({
  description: "`<namespace>/<name>@<revision>` (or with the `pkg:amp/` prefix); the revision is a version, `latest`, `dev` or a manifest hash",
  example: "_/eth_rpc@1.0.0",
});
const TableNameSchema = z.string().regex(/^[a-z_][a-z0-9_]*$/, "table_name must be a lowercase identifier").openapi({ example: "blocks" });

const TableRefBodySchema = z.object({ dataset: DatasetReferenceSchema, table_name: TableNameSchema }).openapi("RevisionTableRequest");
const RegisterBodySchema = TableRefBodySchema.extend({
  path: z.string().openapi({ description: "`<dataset_name>/<table>/<revision>/` under the data root (the trailing `/` may be left out)" }),
}).openapi("RegisterRevisionRequest");

const IdParamsSchema = z.object({ id: idPathParam("id", "Revision (location) ID") });

const nonNegativeInt = (name: string, description: string) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a non-negative integer`)
    .transform(Number)
    .refine(Number.isSafeInteger, `${name} is too large`)
    .optional()
    .openapi({ param: { name, in: "query" }, type: "integer", minimum: 0, description });

const ListQuerySchema = z.object({
  active: z.enum(["true", "false"]).optional().openapi({ param: { name: "active", in: "query" }, type: "boolean", description: "Only active or only inactive revisions" }),
  limit: nonNegativeInt("limit", "Most revisions to return (default 100)"),
});
const TruncateQuerySchema = z.object({
  concurrency: nonNegativeInt("concurrency", "Accepted as in the original (default 10); R2 deletes up to 1,000 objects per call, so one call at a time serves"),
});
const PruneQuerySchema = z.object({
  before_block: nonNegativeInt("before_block", "Only files ending before this block"),
  gc_delay_secs: nonNegativeInt("gc_delay_secs", "Seconds before garbage collection may delete the files (default 3600)"),
});

const DEFAULT_LIST_LIMIT = 100;
const DEFAULT_GC_DELAY_SECS = 3600;

const writerConflict = errorContent("Active (REVISION_IS_ACTIVE) or written by a job that is not terminal (WRITER_JOB_NOT_TERMINAL)");
const idErrors = {
  400: errorContent("Invalid id or query (INVALID_PATH_PARAMETERS, INVALID_QUERY_PARAMETERS)"),
  404: errorContent("No such revision (REVISION_NOT_FOUND)"),
};

const listRoute = createRoute({
  method: "get",
  path: "/revisions",
  tags: ["revisions"],
  operationId: "revisions_list",
  summary: "Table revisions (locations), newest first",
  request: { query: ListQuerySchema },
  responses: {
    200: jsonContent(z.array(RevisionInfoSchema), "A bare array of revisions, id descending; no cursor"),
    400: errorContent("Bad query (INVALID_QUERY_PARAMETERS)"),
    ...readRouteErrors,
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/revisions/{id}",
  tags: ["revisions"],
  operationId: "revisions_get",
  summary: "One table revision",
  request: { params: IdParamsSchema },
  responses: { 200: jsonContent(RevisionInfoSchema, "The revision"), ...idErrors, ...readRouteErrors },
});

const registerRoute = createRoute({
  method: "post",
  path: "/revisions",
  tags: ["revisions"],
  operationId: "revisions_register",
  summary: "Register an inactive revision at a storage path; idempotent by path",
  description: "A path already registered answers its existing id, unchanged. Nothing is activated and the table is not checked against the manifest.",
  middleware: [jsonBody("INVALID_BODY")] as const,
  request: { body: { required: true, content: { "application/json": { schema: RegisterBodySchema } } } },
  responses: {
    200: jsonContent(z.object({ location_id: z.number().int() }).openapi("RegisterRevisionResponse"), "The revision's id"),
    400: errorContent("Bad body, dataset reference or path (INVALID_BODY)"),
    404: errorContent("No such dataset revision (DATASET_NOT_FOUND)"),
    ...writeRouteErrors,
  },
});

const activateRoute = createRoute({
  method: "post",
  path: "/revisions/{id}/activate",
  tags: ["revisions"],
  operationId: "revisions_activate",
  summary: "Make a revision its table's active one (the table's previous active revision is deactivated)",
  middleware: [jsonBody("INVALID_BODY")] as const,
  request: { params: IdParamsSchema, body: { required: true, content: { "application/json": { schema: TableRefBodySchema } } } },
  responses: {
    200: { description: "Activated (empty body)" },
    400: errorContent("Invalid id (INVALID_PATH_PARAMETERS) or body (INVALID_BODY)"),
    404: errorContent("DATASET_NOT_FOUND, TABLE_NOT_IN_MANIFEST, TABLE_NOT_REGISTERED (the table has no revision) or REVISION_NOT_FOUND"),
    409: errorContent("The revision belongs to another table (REVISION_TABLE_MISMATCH)"),
    ...writeRouteErrors,
  },
});

const deactivateRoute = createRoute({
  method: "post",
  path: "/revisions/deactivate",
  tags: ["revisions"],
  operationId: "revisions_deactivate",
  summary: "Leave a table without an active revision",
  middleware: [jsonBody("INVALID_BODY")] as const,
  request: { body: { required: true, content: { "application/json": { schema: TableRefBodySchema } } } },
  responses: {
    200: { description: "Deactivated, or there was no active revision (empty body)" },
    400: errorContent("Bad body (INVALID_BODY)"),
    404: errorContent("No such dataset revision (DATASET_NOT_FOUND), or the table has no revision (TABLE_NOT_FOUND)"),
    ...writeRouteErrors,
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/revisions/{id}",
  tags: ["revisions"],
  operationId: "revisions_delete",
  summary: "Delete a revision's rows (its file rows go with it); its objects stay in R2 for garbage collection",
  request: { params: IdParamsSchema },
  responses: { 204: { description: "Deleted" }, ...idErrors, 409: writerConflict, ...writeRouteErrors },
});

const truncateRoute = createRoute({
  method: "delete",
  path: "/revisions/{id}/truncate",
  tags: ["revisions"],
  operationId: "revisions_truncate",
  summary: "Delete a revision with its files: rows first, then objects, then the revision (the crash-safe order of DELETE /locations/{id})",
  request: { params: IdParamsSchema, query: TruncateQuerySchema },
  responses: {
    200: jsonContent(z.object({ files_deleted: z.number().int() }).openapi("TruncateResponse"), "Deleted; how many file rows it had"),
    ...idErrors,
    409: writerConflict,
    ...writeRouteErrors,
  },
});

const pruneRoute = createRoute({
  method: "delete",
  path: "/revisions/{id}/prune",
  tags: ["revisions"],
  operationId: "revisions_prune",
  summary: "Hand the revision's files that are off its canonical chain to garbage collection, after a delay",
  request: { params: IdParamsSchema, query: PruneQuerySchema },
  responses: {
    200: jsonContent(z.object({ files_scheduled: z.number().int(), gc_delay_secs: z.number().int() }).openapi("RevisionPruneResponse"), "Scheduled"),
    ...idErrors,
    409: errorContent("The writer job is not terminal (WRITER_JOB_NOT_TERMINAL)"),
    ...writeRouteErrors,
  },
});

const restoreRoute = createRoute({
  method: "post",
  path: "/revisions/{id}/restore",
  tags: ["revisions"],
  operationId: "revisions_restore",
  summary: "Register a row for every object under the revision's prefix that has none (from each file's Parquet footer); idempotent",
  request: { params: IdParamsSchema },
  responses: {
    200: jsonContent(z.object({ total_files: z.number().int() }).openapi("RevisionRestoreResponse"), "How many objects the prefix holds"),
    ...idErrors,
    422: errorContent("An object under the prefix is not one of our Parquet files (INVALID_STORED_FILE); nothing was registered"),
    ...writeRouteErrors,
  },
});

/** The dataset revision a body's `dataset` reference names; 400 INVALID_BODY when malformed, 404 when unknown. */
export async function resolveReference(db: Db, text: string): Promise<{ namespace: string; name: string; resolved: ResolvedRevision }> {
  const reference = parseDatasetReference(text);
  if (!reference) throw new ApiError("INVALID_BODY", `dataset must be '<namespace>/<name>@<revision>', got '${text}'`);
  return { namespace: reference.namespace, name: reference.name, resolved: await resolveDatasetRevision(db, reference) };
}

function refusal(id: number, result: RevisionRefusal): never {
  switch (result.outcome) {
    case "absent":
      throw new ApiError("REVISION_NOT_FOUND", `revision ${id} not found`);
    case "active":
      throw new ApiError("REVISION_IS_ACTIVE", `revision ${id} is active; deactivate it first`);
    case "ongoing_writer":
      throw new ApiError("WRITER_JOB_NOT_TERMINAL", `revision ${id} is written by job ${result.writer.id} (${result.writer.status}); stop the job first`);
  }
}

/** Activates location `id` for `table` of a resolved dataset revision, answering the original's codes. */
export async function activateForTable(db: Db, hash: string, table: string, id: number): Promise<void> {
  switch (await activateLocation(db, { manifestHash: hash, tableName: table }, id)) {
    case "activated":
      return;
    case "table_not_registered":
      throw new ApiError("TABLE_NOT_REGISTERED", `table ${table} of manifest ${hash} has no revision yet`);
    case "revision_not_found":
      throw new ApiError("REVISION_NOT_FOUND", `revision ${id} not found`);
    case "other_table":
      throw new ApiError("REVISION_TABLE_MISMATCH", `revision ${id} is not a revision of table ${table} of manifest ${hash}`);
  }
}

async function requireLocation(db: Db, id: number): Promise<Location> {
  const location = await getLocation(db, id);
  if (!location) throw new ApiError("REVISION_NOT_FOUND", `revision ${id} not found`);
  return location;
}

/** Restores the file rows of a location, answering 422 INVALID_STORED_FILE for an object that is not ours. */
export async function restoreFiles(db: Db, bucket: R2Bucket, location: { id: number; path: string }): Promise<number> {
  const restored = await restoreLocationFiles(db, bucket, location);
  if (!restored.ok) throw new ApiError("INVALID_STORED_FILE", `${restored.key}: ${restored.reason}`);
  return restored.objects;
}

const ID_CODES = { param: "INVALID_PATH_PARAMETERS", query: "INVALID_QUERY_PARAMETERS" } as const;

export function registerTableRevisionRoutes(app: App): void {
  app.openapi(
    listRoute,
    async (c) => {
      const { active, limit } = c.req.valid("query");
      const rows = await listRevisionLocations(openDb(c.env.DB), {
        ...(active === undefined ? {} : { active: active === "true" }),
        limit: limit ?? DEFAULT_LIST_LIMIT,
      });
      return c.json(rows.map(toRevisionInfo), 200);
    },
    validationHook({ query: "INVALID_QUERY_PARAMETERS" }),
  );

  app.openapi(
    registerRoute,
    async (c) => {
      const body = c.req.valid("json");
      const db = openDb(c.env.DB);
      const path = body.path.endsWith("/") ? body.path : `${body.path}/`;
      try {
        locationObjectPrefix(path);
      } catch {
        throw new ApiError("INVALID_BODY", `path must be '<dataset_name>/<table>/<revision>/', got '${body.path}'`);
      }
      const { namespace, name, resolved } = await resolveReference(db, body.dataset);
      const id = await registerRevisionLocation(
        db,
        { manifestHash: resolved.hash, tableName: body.table_name, datasetNamespace: namespace, datasetName: name, bucket: c.env.BUCKET_NAME, path },
        nowTimestamp(),
      );
      return c.json({ location_id: id }, 200);
    },
    validationHook({ json: "INVALID_BODY" }),
  );

  app.openapi(
    deactivateRoute,
    async (c) => {
      const body = c.req.valid("json");
      const db = openDb(c.env.DB);
      const { resolved } = await resolveReference(db, body.dataset);
      if (!(await deactivateTable(db, { manifestHash: resolved.hash, tableName: body.table_name }))) {
        throw new ApiError("TABLE_NOT_FOUND", `table ${body.table_name} of manifest ${resolved.hash} has no revision`);
      }
      return c.body(null, 200);
    },
    validationHook({ json: "INVALID_BODY" }),
  );

  app.openapi(
    getRoute,
    async (c) => c.json(toRevisionInfo(await requireLocation(openDb(c.env.DB), c.req.valid("param").id)), 200),
    validationHook(ID_CODES),
  );

  app.openapi(
    activateRoute,
    async (c) => {
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      const db = openDb(c.env.DB);
      const { resolved } = await resolveReference(db, body.dataset);
      if (!(await revisionTables(c.env.BUCKET, resolved)).includes(body.table_name)) {
        throw new ApiError("TABLE_NOT_IN_MANIFEST", `manifest ${resolved.hash} has no table ${body.table_name}`);
      }
      await activateForTable(db, resolved.hash, body.table_name, id);
      return c.body(null, 200);
    },
    validationHook({ param: "INVALID_PATH_PARAMETERS", json: "INVALID_BODY" }),
  );

  app.openapi(
    deleteRoute,
    async (c) => {
      const { id } = c.req.valid("param");
      const result = await deleteRevisionRow(openDb(c.env.DB), id);
      if (result.outcome !== "deleted") refusal(id, result);
      return c.body(null, 204);
    },
    validationHook(ID_CODES),
  );

  app.openapi(
    truncateRoute,
    async (c) => {
      const { id } = c.req.valid("param");
      const result = await truncateRevision(openDb(c.env.DB), c.env.BUCKET, id);
      if (result.outcome !== "truncated") refusal(id, result);
      return c.json({ files_deleted: result.filesDeleted }, 200);
    },
    pathFirstHook(ID_CODES, IdParamsSchema),
  );

  app.openapi(
    pruneRoute,
    async (c) => {
      const { id } = c.req.valid("param");
      const query = c.req.valid("query");
      const delay = query.gc_delay_secs ?? DEFAULT_GC_DELAY_SECS;
      const expiresAt = new Date(Date.now() + delay * 1000).toISOString();
      const result = await scheduleNonCanonicalFiles(openDb(c.env.DB), id, {
        expiresAt,
        ...(query.before_block === undefined ? {} : { beforeBlock: query.before_block }),
      });
      if (result.outcome !== "scheduled") refusal(id, result);
      return c.json({ files_scheduled: result.files, gc_delay_secs: delay }, 200);
    },
    pathFirstHook(ID_CODES, IdParamsSchema),
  );

  app.openapi(
    restoreRoute,
    async (c) => {
      const db = openDb(c.env.DB);
      const location = await requireLocation(db, c.req.valid("param").id);
      return c.json({ total_files: await restoreFiles(db, c.env.BUCKET, location) }, 200);
    },
    validationHook(ID_CODES),
  );
}
