import { createRoute, z } from "@hono/zod-openapi";
import { noneMatchHits, parseRangeHeader } from "../domain/byte-range";
import { openDb } from "../store/db";
import { getFileWithUrl } from "../store/files";
import { fileObjectKey } from "../store/r2-layout";
import type { App } from "./app";
import { ApiError, errorResponse } from "./errors";
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

const PARQUET_TYPE = "application/vnd.apache.parquet";

const contentRoute = createRoute({
  method: "get",
  path: "/files/{file_id}/content",
  tags: ["files"],
  operationId: "files_content",
  summary: "The Parquet file's bytes, straight from R2, with single-range requests and ETag revalidation",
  description:
    "Answers `Content-Length`, `ETag` (the R2 object's), `Accept-Ranges: bytes` and `Last-Modified`. A single `Range: bytes=a-b`, " +
    "`bytes=a-` or `bytes=-n` answers 206 with `Content-Range`; a range that starts at or past the end answers 416 with " +
    "`Content-Range: bytes */<size>`; other Range headers (several ranges, other units, malformed) are ignored and the whole file is sent. " +
    "`If-None-Match` with the current ETag answers 304. HEAD answers the same headers without a body. The read token is enough, so any " +
    "Parquet reader that reads over HTTP ranges with a bearer token can read the file from here.",
  request: { params: FileIdParamsSchema },
  responses: {
    200: { description: "The whole file", content: { [PARQUET_TYPE]: { schema: z.string().openapi({ format: "binary" }) } } },
    206: { description: "The requested range", content: { [PARQUET_TYPE]: { schema: z.string().openapi({ format: "binary" }) } } },
    304: { description: "Not modified: If-None-Match matched the ETag" },
    400: errorContent("Invalid file id (INVALID_FILE_ID)"),
    404: errorContent("No such file, or its object is gone from R2 (FILE_NOT_FOUND)"),
    416: errorContent("The range starts at or past the end of the file (RANGE_NOT_SATISFIABLE)"),
    ...readRouteErrors,
  },
});

export function registerFileRoutes(app: App): void {
  app.openapi(
    contentRoute,
    async (c) => {
      const { file_id } = c.req.valid("param");
      const found = await getFileWithUrl(openDb(c.env.DB), file_id);
      if (!found) throw new ApiError("FILE_NOT_FOUND", `file ${file_id} not found`);
      const key = fileObjectKey(found.path, found.file.fileName);
      const head = await c.env.BUCKET.head(key);
      if (!head) throw new ApiError("FILE_NOT_FOUND", `the object of file ${file_id} is missing from R2`);
      const headers = new Headers({
        etag: head.httpEtag,
        "accept-ranges": "bytes",
        "last-modified": head.uploaded.toUTCString(),
        "content-disposition": `attachment; filename="${found.file.fileName}"`,
      });
      if (noneMatchHits(c.req.header("if-none-match"), head.httpEtag)) return new Response(null, { status: 304, headers });
      const wanted = parseRangeHeader(c.req.header("range"), head.size);
      if (wanted.kind === "unsatisfiable") {
        return errorResponse("RANGE_NOT_SATISFIABLE", `file ${file_id} has ${head.size} bytes; range '${c.req.header("range")}' is outside it`, {
          "content-range": `bytes */${head.size}`,
        });
      }
      headers.set("content-type", PARQUET_TYPE);
      const range = wanted.kind === "partial" ? wanted.range : null;
      const length = range ? range.end - range.start + 1 : head.size;
      headers.set("content-length", String(length));
      if (range) headers.set("content-range", `bytes ${range.start}-${range.end}/${head.size}`);
      const status = range ? 206 : 200;
      if (c.req.method === "HEAD") return new Response(null, { status, headers });
      // Only the object this row names: a get that finds a newer object under the key (never written here) would not match the ETag.
      const object = await c.env.BUCKET.get(key, {
        ...(range ? { range: { offset: range.start, length } } : {}),
        onlyIf: { etagMatches: head.etag },
      });
      if (!object || !("body" in object)) throw new ApiError("FILE_NOT_FOUND", `the object of file ${file_id} changed or vanished while it was read`);
      return new Response(object.body, { status, headers });
    },
    validationHook({ param: "INVALID_FILE_ID" }),
  );

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
