import { createRoute, z } from "@hono/zod-openapi";
import { nowTimestamp } from "../store/clock";
import { type Db, openDb } from "../store/db";
import { locationUrl } from "../store/r2-layout";
import type { ResolvedRevision } from "../store/revisions";
import { newestStoredLocationPath, registerRevisionLocation } from "../store/revision-locations";
import type { App } from "./app";
import { DatasetRevisionParamsSchema, resolveDatasetRevision, revisionTables } from "./dataset-params";
import { ApiError } from "./errors";
import { errorContent, jsonContent, writeRouteErrors } from "./responses";
import { activateForTable, restoreFiles } from "./table-revisions";
import { validationHook } from "./validation";

/**
 * Rebuilding a dataset's metadata from R2 (amp-later B.2): for each table, the newest location found under its
 * prefix is registered (or found), activated, and its file rows rebuilt from the files' footers.
 */

const RestoredTableSchema = z
  .object({ table_name: z.string(), location_id: z.number().int(), url: z.string().openapi({ example: "r2://amp-edge-data/data/eth_rpc/blocks/<uuid>/" }) })
  .openapi("RestoredTable");

const TableParamsSchema = DatasetRevisionParamsSchema.extend({
  table_name: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, "table must be a lowercase identifier")
    .openapi({ param: { name: "table_name", in: "path" }, example: "blocks" }),
});

const TableRestoreBodySchema = z
  .object({ location_id: z.number().int().positive().openapi({ description: "Activate this revision instead of discovering one in R2" }) })
  .openapi("TableRestoreRequest");

const restoreErrors = {
  400: errorContent("Invalid path (INVALID_PATH) or body (INVALID_BODY)"),
  422: errorContent("An object under the table's newest prefix is not one of our Parquet files (INVALID_STORED_FILE)"),
  ...writeRouteErrors,
};

const datasetRestoreRoute = createRoute({
  method: "post",
  path: "/datasets/{namespace}/{name}/versions/{revision}/restore",
  tags: ["datasets"],
  operationId: "restore_dataset",
  summary: "Rebuild every table's revision and file rows from R2 and activate them",
  description:
    "Synchronous, though it answers 202 as the original does. Tables restored before a table that fails stay restored; repeating the call is safe.",
  request: { params: DatasetRevisionParamsSchema },
  responses: {
    202: jsonContent(z.object({ tables: z.array(RestoredTableSchema) }).openapi("DatasetRestoreResponse"), "The restored tables"),
    404: errorContent("No such dataset revision (DATASET_NOT_FOUND), or a table has nothing in R2 (TABLE_NOT_FOUND)"),
    ...restoreErrors,
  },
});

const tableRestoreRoute = createRoute({
  method: "post",
  path: "/datasets/{namespace}/{name}/versions/{revision}/tables/{table_name}/restore",
  tags: ["datasets"],
  operationId: "restore_table",
  summary: "Rebuild one table from R2 (no body), or activate a given revision of it (`{location_id}`)",
  description:
    "The body is read as text, whatever its content type, as the original does: empty discovers the table's newest prefix in R2, " +
    "registers, activates and restores it; `{\"location_id\": <id>}` activates that revision without reading R2.",
  request: { params: TableParamsSchema },
  responses: {
    200: { description: "Restored (empty body)" },
    404: errorContent("DATASET_NOT_FOUND, TABLE_NOT_IN_MANIFEST, TABLE_NOT_FOUND (nothing in R2), REVISION_NOT_FOUND or TABLE_NOT_REGISTERED"),
    409: errorContent("The revision belongs to another table (REVISION_TABLE_MISMATCH)"),
    ...restoreErrors,
  },
});

/** Restores `table` from its newest prefix in R2; 404 TABLE_NOT_FOUND when R2 has none. */
async function restoreTable(db: Db, bucket: R2Bucket, bucketName: string, dataset: { namespace: string; name: string }, resolved: ResolvedRevision, table: string) {
  const path = await newestStoredLocationPath(bucket, dataset.name, table);
  if (path === null) throw new ApiError("TABLE_NOT_FOUND", `R2 holds no files of table ${table} of ${dataset.namespace}/${dataset.name}`);
  const locationId = await registerRevisionLocation(
    db,
    { manifestHash: resolved.hash, tableName: table, datasetNamespace: dataset.namespace, datasetName: dataset.name, bucket: bucketName, path },
    nowTimestamp(),
  );
  await activateForTable(db, resolved.hash, table, locationId);
  await restoreFiles(db, bucket, { id: locationId, path });
  return { table_name: table, location_id: locationId, url: locationUrl(bucketName, path) };
}

/** The body of a table restore: empty (discover) or `{location_id}`; read by hand since an empty body is valid. */
async function tableRestoreBody(text: string): Promise<number | null> {
  if (text.trim() === "") return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApiError("INVALID_BODY", "body must be empty or JSON {location_id}");
  }
  const parsed = TableRestoreBodySchema.strict().safeParse(json);
  if (!parsed.success) throw new ApiError("INVALID_BODY", "body must be empty or JSON {location_id: positive integer}");
  return parsed.data.location_id;
}

export function registerDatasetRestoreRoutes(app: App): void {
  app.openapi(
    datasetRestoreRoute,
    async (c) => {
      const params = c.req.valid("param");
      const db = openDb(c.env.DB);
      const resolved = await resolveDatasetRevision(db, params);
      const restored = [];
      for (const table of await revisionTables(c.env.BUCKET, resolved)) {
        restored.push(await restoreTable(db, c.env.BUCKET, c.env.BUCKET_NAME, params, resolved, table));
      }
      return c.json({ tables: restored }, 202);
    },
    validationHook({ param: "INVALID_PATH" }),
  );

  app.openapi(
    tableRestoreRoute,
    async (c) => {
      const { table_name: table, ...dataset } = c.req.valid("param");
      const locationId = await tableRestoreBody(await c.req.text());
      const db = openDb(c.env.DB);
      const resolved = await resolveDatasetRevision(db, dataset);
      if (!(await revisionTables(c.env.BUCKET, resolved)).includes(table)) {
        throw new ApiError("TABLE_NOT_IN_MANIFEST", `manifest ${resolved.hash} has no table ${table}`);
      }
      if (locationId === null) await restoreTable(db, c.env.BUCKET, c.env.BUCKET_NAME, dataset, resolved, table);
      else await activateForTable(db, resolved.hash, table, locationId);
      return c.body(null, 200);
    },
    validationHook({ param: "INVALID_PATH" }),
  );
}
