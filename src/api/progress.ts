import { createRoute, z } from "@hono/zod-openapi";
import { formatRevision } from "../domain/revision";
import { type Db, openDb } from "../store/db";
import { listActiveTableProgress, type TableProgressRow } from "../store/location-progress";
import type { ResolvedRevision } from "../store/revisions";
import type { App } from "./app";
import { DatasetRevisionParamsSchema, DatasetTableParamsSchema, resolveDatasetRevision, revisionTables } from "./dataset-params";
import { ApiError } from "./errors";
import { errorContent, jsonContent, readRouteErrors } from "./responses";
import { validationHook } from "./validation";

/** Sync progress of a dataset revision's tables (spec/dataset-progress.md). */

const TableProgressSchema = z
  .object({
    table_name: z.string(),
    current_block: z.number().int().nullable().openapi({ description: "Last block of the canonical chain; null when nothing is synced" }),
    start_block: z.number().int().nullable().openapi({ description: "First block of the canonical chain; null when nothing is synced" }),
    job_id: z.number().int().nullable().openapi({ description: "The job holding the table's write lock" }),
    job_status: z.string().nullable().openapi({ example: "RUNNING" }),
    files_count: z.number().int().openapi({ description: "Files on the canonical chain" }),
    total_size_bytes: z.number().int().openapi({ description: "Bytes of the files on the canonical chain" }),
  })
  .openapi("TableProgress");

const DatasetProgressSchema = z
  .object({
    dataset_namespace: z.string(),
    dataset_name: z.string(),
    revision: z.string().openapi({ description: "The revision as requested" }),
    manifest_hash: z.string(),
    tables: z.array(TableProgressSchema),
  })
  .openapi("DatasetProgress");

const datasetProgressRoute = createRoute({
  method: "get",
  path: "/datasets/{namespace}/{name}/versions/{revision}/progress",
  tags: ["datasets"],
  operationId: "get_dataset_progress",
  summary: "Sync progress of every table of a dataset: the canonical chain's first and last block, files, bytes, writer job",
  request: { params: DatasetRevisionParamsSchema },
  responses: {
    200: jsonContent(DatasetProgressSchema, "Progress per table"),
    400: errorContent("Invalid path (INVALID_PATH)"),
    404: errorContent("No such dataset or revision (DATASET_NOT_FOUND)"),
    ...readRouteErrors,
  },
});

const tableProgressRoute = createRoute({
  method: "get",
  path: "/datasets/{namespace}/{name}/versions/{revision}/tables/{table}/progress",
  tags: ["datasets"],
  operationId: "get_table_progress",
  summary: "Sync progress of one table of a dataset",
  request: { params: DatasetTableParamsSchema },
  responses: {
    200: jsonContent(TableProgressSchema, "The table's progress"),
    400: errorContent("Invalid path (INVALID_PATH)"),
    404: errorContent("No such dataset or revision (DATASET_NOT_FOUND) or table (TABLE_NOT_FOUND)"),
    ...readRouteErrors,
  },
});

/**
 * The same figures for the newest Amp TypeScript client, which calls `…/sync-progress` and decodes a
 * missing value as an absent key (Effect Schema's `optional` refuses null): the four nullable fields
 * are left out instead of being null.
 */
const SyncTableProgressSchema = z
  .object({
    table_name: z.string(),
    current_block: z.number().int().optional().openapi({ description: "Last block of the canonical chain; absent when nothing is synced" }),
    start_block: z.number().int().optional().openapi({ description: "First block of the canonical chain; absent when nothing is synced" }),
    job_id: z.number().int().optional().openapi({ description: "The job holding the table's write lock; absent when none does" }),
    job_status: z.string().optional().openapi({ example: "RUNNING" }),
    files_count: z.number().int(),
    total_size_bytes: z.number().int(),
  })
  .openapi("SyncTableProgress");

const SyncProgressResponseSchema = DatasetProgressSchema.extend({ tables: z.array(SyncTableProgressSchema) }).openapi("SyncProgressResponse");

const syncProgressRoute = createRoute({
  method: "get",
  path: "/datasets/{namespace}/{name}/versions/{revision}/sync-progress",
  tags: ["datasets"],
  operationId: "get_dataset_sync_progress",
  summary: "The dataset's progress under the path the newest Amp TypeScript client calls; null fields are absent",
  request: { params: DatasetRevisionParamsSchema },
  responses: {
    200: jsonContent(SyncProgressResponseSchema, "Progress per table, without the fields that would be null"),
    400: errorContent("Invalid path (INVALID_PATH)"),
    404: errorContent("No such dataset or revision (DATASET_NOT_FOUND)"),
    ...readRouteErrors,
  },
});

function toSyncTableProgress(progress: TableProgress): z.output<typeof SyncTableProgressSchema> {
  const present = <K extends string, V>(key: K, value: V | null): Partial<Record<K, V>> => (value === null ? {} : ({ [key]: value } as Record<K, V>));
  return {
    table_name: progress.table_name,
    ...present("current_block", progress.current_block),
    ...present("start_block", progress.start_block),
    ...present("job_id", progress.job_id),
    ...present("job_status", progress.job_status),
    files_count: progress.files_count,
    total_size_bytes: progress.total_size_bytes,
  };
}

/** One table's progress as the API answers it. */
export type TableProgress = z.output<typeof TableProgressSchema>;

function toTableProgress(table: string, row: TableProgressRow | undefined): TableProgress {
  return {
    table_name: table,
    current_block: row?.currentBlock ?? null,
    start_block: row?.startBlock ?? null,
    job_id: row?.jobId ?? null,
    job_status: row?.jobStatus ?? null,
    files_count: row?.filesCount ?? 0,
    total_size_bytes: row?.totalSizeBytes ?? 0,
  };
}

/**
 * Progress comes from the running aggregates the writer job keeps per
 * location (reference §9 computed incrementally), so a call reads one row per
 * table, never the file rows.
 */
async function progressOf(db: Db, bucket: R2Bucket, resolved: ResolvedRevision) {
  const tables = await revisionTables(bucket, resolved);
  const rows = new Map((await listActiveTableProgress(db, resolved.hash)).map((row) => [row.table, row]));
  return tables.map((table) => toTableProgress(table, rows.get(table)));
}

export function registerProgressRoutes(app: App): void {
  app.openapi(
    datasetProgressRoute,
    async (c) => {
      const params = c.req.valid("param");
      const db = openDb(c.env.DB);
      const resolved = await resolveDatasetRevision(db, params);
      const { namespace, name, revision } = params;
      return c.json(
        {
          dataset_namespace: namespace,
          dataset_name: name,
          revision: formatRevision(revision),
          manifest_hash: resolved.hash,
          tables: await progressOf(db, c.env.BUCKET, resolved),
        },
        200,
      );
    },
    validationHook({ param: "INVALID_PATH" }),
  );

  app.openapi(
    syncProgressRoute,
    async (c) => {
      const params = c.req.valid("param");
      const db = openDb(c.env.DB);
      const resolved = await resolveDatasetRevision(db, params);
      const { namespace, name, revision } = params;
      const tables = (await progressOf(db, c.env.BUCKET, resolved)).map(toSyncTableProgress);
      return c.json({ dataset_namespace: namespace, dataset_name: name, revision: formatRevision(revision), manifest_hash: resolved.hash, tables }, 200);
    },
    validationHook({ param: "INVALID_PATH" }),
  );

  app.openapi(
    tableProgressRoute,
    async (c) => {
      const { namespace, name, revision, table } = c.req.valid("param");
      const db = openDb(c.env.DB);
      const resolved = await resolveDatasetRevision(db, { namespace, name, revision });
      const progress = (await progressOf(db, c.env.BUCKET, resolved)).find((entry) => entry.table_name === table);
      if (!progress) throw new ApiError("TABLE_NOT_FOUND", `dataset ${namespace}/${name} has no table ${table}`);
      return c.json(progress, 200);
    },
    validationHook({ param: "INVALID_PATH" }),
  );
}
