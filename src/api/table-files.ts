import { createRoute, z } from "@hono/zod-openapi";
import { formatRevision } from "../domain/revision";
import { openDb } from "../store/db";
import { canonicalChainFiles } from "../store/canonical-files";
import type { App } from "./app";
import { DatasetTableParamsSchema } from "./dataset-params";
import { resolveDatasetTable } from "./dataset-table";
import { errorContent, jsonContent, readRouteErrors } from "./responses";
import { validationHook } from "./validation";

/** A table's files as a reader needs them: the canonical chain of its active location, in block order, with content URLs. */

const TableFileSchema = z
  .object({
    id: z.number().int(),
    file_name: z.string().openapi({ example: "000000000-000000999-9a71a95b.parquet" }),
    start_block: z.number().int().openapi({ description: "First block of the file (inclusive)" }),
    end_block: z.number().int().openapi({ description: "Last block of the file (inclusive)" }),
    row_count: z.number().int(),
    object_size: z.number().int().optional().openapi({ description: "Size in bytes; absent when unknown" }),
    object_e_tag: z.string().optional().openapi({ description: "The R2 object's ETag; absent when unknown" }),
    content_url: z.string().openapi({ description: "Absolute URL of `GET /files/{id}/content`", example: "http://localhost:8787/files/1/content" }),
  })
  .openapi("TableFile");

const TableFilesSchema = z
  .object({
    dataset_namespace: z.string(),
    dataset_name: z.string(),
    revision: z.string().openapi({ description: "The revision as requested" }),
    manifest_hash: z.string(),
    table: z.string(),
    location_id: z.number().int().nullable().openapi({ description: "The table's active location; null before the first deploy" }),
    files: z.array(TableFileSchema).openapi({ description: "The canonical chain, lowest blocks first: every block once, no file left over from a reorg" }),
  })
  .openapi("TableFiles");

const tableFilesRoute = createRoute({
  method: "get",
  path: "/datasets/{namespace}/{name}/versions/{revision}/tables/{table}/files",
  tags: ["datasets"],
  operationId: "get_table_files",
  summary: "The files of a table's canonical chain in block order, each with its block range and content URL",
  description:
    "Reading every `content_url` of the list (e.g. DuckDB's `read_parquet([...])`) reads the table once: the files are the canonical " +
    "chain of the table's active location, as progress counts it, so files a reorg or a re-extraction replaced are left out. " +
    "Empty when the chain does not begin at the dataset's start block, or before the first deploy.",
  request: { params: DatasetTableParamsSchema },
  responses: {
    200: jsonContent(TableFilesSchema, "The table's files"),
    400: errorContent("Invalid path (INVALID_PATH)"),
    404: errorContent("No such dataset or revision (DATASET_NOT_FOUND) or table (TABLE_NOT_FOUND)"),
    ...readRouteErrors,
  },
});

export function registerTableFileRoutes(app: App): void {
  app.openapi(
    tableFilesRoute,
    async (c) => {
      const { namespace, name, revision, table } = c.req.valid("param");
      const db = openDb(c.env.DB);
      const { resolved, location, startBlock } = await resolveDatasetTable(db, c.env.BUCKET, { namespace, name, revision, table });
      const chain = location ? await canonicalChainFiles(db, location.id, startBlock) : [];
      const origin = new URL(c.req.url).origin;
      return c.json(
        {
          dataset_namespace: namespace,
          dataset_name: name,
          revision: formatRevision(revision),
          manifest_hash: resolved.hash,
          table,
          location_id: location?.id ?? null,
          files: chain.map((file) => ({
            id: file.fileId,
            file_name: file.fileName,
            start_block: file.range.start,
            end_block: file.range.end,
            row_count: file.rowCount,
            ...(file.objectSize === null ? {} : { object_size: file.objectSize }),
            ...(file.objectETag === null ? {} : { object_e_tag: file.objectETag }),
            content_url: `${origin}/files/${file.fileId}/content`,
          })),
        },
        200,
      );
    },
    validationHook({ param: "INVALID_PATH" }),
  );
}
