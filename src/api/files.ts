import { createRoute, z } from "@hono/zod-openapi";
import { openDb } from "../store/db";
import { getFileWithUrl } from "../store/files";
import type { App } from "./app";
import { ApiError } from "./errors";
import { idPathParam } from "./id-params";
import { errorContent, jsonContent, readRouteErrors } from "./responses";
import { validationHook } from "./validation";

const FileInfoSchema = z
  .object({
    id: z.number().int(),
    location_id: z.number().int(),
    file_name: z.string().openapi({ example: "015000000-015000999-9a71a95b.parquet" }),
    url: z.string().openapi({
      description: "The location's URL; append `file_name` for the file's own URL",
      example: "r2://amp-edge-data/data/eth_rpc/blocks/0199a6b2-8f4e-7c1a-9d2e-3f4a5b6c7d8e/",
    }),
    object_size: z.number().int().optional().openapi({ description: "Size in bytes; absent when unknown" }),
    object_e_tag: z.string().optional().openapi({ description: "The R2 object's ETag; absent when unknown" }),
    object_version: z.string().optional().openapi({ description: "The R2 object's version; absent when unknown" }),
    metadata: z.record(z.string(), z.unknown()).openapi({
      description: "The file's `nozzle_metadata` (reference §5.5): table, filename, created_at and its one block range with hashes",
    }),
  })
  .openapi("FileInfo");

const FileIdParamsSchema = z.object({ file_id: idPathParam("file_id", "File ID") });

const getRoute = createRoute({
  method: "get",
  path: "/files/{file_id}",
  tags: ["files"],
  operationId: "files_get",
  summary: "One Parquet file: its location's URL, object size, ETag and metadata",
  request: { params: FileIdParamsSchema },
  responses: {
    200: jsonContent(FileInfoSchema, "The file"),
    400: errorContent("Invalid file id (INVALID_FILE_ID)"),
    404: errorContent("No such file (FILE_NOT_FOUND)"),
    ...readRouteErrors,
  },
});

export function registerFileRoutes(app: App): void {
  app.openapi(
    getRoute,
    async (c) => {
      const { file_id } = c.req.valid("param");
      const found = await getFileWithUrl(openDb(c.env.DB), file_id);
      if (!found) throw new ApiError("FILE_NOT_FOUND", `file ${file_id} not found`);
      const { file, url } = found;
      return c.json(
        {
          id: file.id,
          location_id: file.locationId,
          file_name: file.fileName,
          url,
          ...(file.objectSize === null ? {} : { object_size: file.objectSize }),
          ...(file.objectETag === null ? {} : { object_e_tag: file.objectETag }),
          ...(file.objectVersion === null ? {} : { object_version: file.objectVersion }),
          metadata: file.metadata,
        },
        200,
      );
    },
    validationHook({ param: "INVALID_FILE_ID" }),
  );
}
