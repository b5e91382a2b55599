import { createRoute, z } from "@hono/zod-openapi";
import { openDb } from "../store/db";
import { listLocationFiles } from "../store/files";
import { deleteLocation, getLocationWithWriter, listLocations, type Location } from "../store/locations";
import type { App } from "./app";
import { ApiError } from "./errors";
import { idPathParam } from "./id-params";
import { JobInfoSchema, toJobInfo } from "./job-info";
import { NextCursorSchema, pageQuery, pageRequest } from "./pagination";
import { errorContent, jsonContent, readRouteErrors, writeRouteErrors } from "./responses";
import { pathFirstHook, validationHook } from "./validation";

/** Locations (storage revisions of a table) and their files: list, read, delete with their R2 objects. */

const locationFields = {
  id: z.number().int().openapi({ example: 1 }),
  dataset_namespace: z.string().openapi({ example: "_" }),
  dataset_name: z.string().openapi({ example: "eth_rpc" }),
  manifest_hash: z.string().openapi({ description: "Hash of the dataset manifest" }),
  table: z.string().openapi({ example: "blocks" }),
  url: z.string().openapi({
    description: "Where the files are: `r2://<bucket>/<prefix>`; a file's object key is the prefix plus its `file_name`",
    example: "r2://amp-edge-data/data/eth_rpc/blocks/0199a6b2-8f4e-7c1a-9d2e-3f4a5b6c7d8e/",
  }),
  active: z.boolean().openapi({ description: "Whether this is the table's write target and default read target" }),
};

const LocationInfoSchema = z
  .object({ ...locationFields, writer: z.number().int().nullable().openapi({ description: "The job holding the write lock, if any" }) })
  .openapi("LocationInfo");

const LocationInfoWithDetailsSchema = z
  .object({ ...locationFields, writer: z.union([JobInfoSchema, z.null()]) })
  .openapi("LocationInfoWithDetails", { description: "A location; `writer` is the job holding its write lock, or null" });

const LocationsResponseSchema = z.object({ locations: z.array(LocationInfoSchema), next_cursor: NextCursorSchema }).openapi("LocationsResponse");

const FileListInfoSchema = z
  .object({
    id: z.number().int(),
    file_name: z.string().openapi({ example: "000000000-000000999-9a71a95b.parquet" }),
    object_size: z.number().int().optional().openapi({ description: "Size in bytes; absent when unknown" }),
  })
  .openapi("FileListInfo");

const LocationFilesResponseSchema = z.object({ files: z.array(FileListInfoSchema), next_cursor: NextCursorSchema }).openapi("LocationFilesResponse");

function locationBase(location: Location) {
  return {
    id: location.id,
    dataset_namespace: location.datasetNamespace,
    dataset_name: location.datasetName,
    manifest_hash: location.manifestHash,
    table: location.tableName,
    url: location.url,
    active: location.active,
  };
}

const LocationIdParamsSchema = z.object({ id: idPathParam("id", "Location ID") });
const FilesParamsSchema = z.object({ location_id: idPathParam("location_id", "Location ID") });

const DeleteLocationQuerySchema = z.object({
  force: z
    .enum(["true", "false"])
    .optional()
    .openapi({
      param: { name: "force", in: "query" },
      type: "boolean",
      description: "Delete even if the location is active (default false). A writer job that is not terminal blocks deletion regardless.",
    }),
});

const listRoute = createRoute({
  method: "get",
  path: "/locations",
  tags: ["locations"],
  operationId: "locations_list",
  summary: "List locations (storage revisions of tables), newest first, one page at a time",
  request: { query: pageQuery("last_location_id", "locations") },
  responses: {
    200: jsonContent(LocationsResponseSchema, "A page of locations; `next_cursor` is absent on the last page"),
    400: errorContent("Bad query (INVALID_QUERY_PARAMETERS), limit 0 (LIMIT_INVALID) or over 1000 (LIMIT_TOO_LARGE)"),
    ...readRouteErrors,
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/locations/{id}",
  tags: ["locations"],
  operationId: "locations_get",
  summary: "One location, with its writer job",
  request: { params: LocationIdParamsSchema },
  responses: {
    200: jsonContent(LocationInfoWithDetailsSchema, "The location; `writer` is the job holding its write lock, or null"),
    400: errorContent("Invalid location id (INVALID_LOCATION_ID)"),
    404: errorContent("No such location (LOCATION_NOT_FOUND)"),
    ...readRouteErrors,
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/locations/{id}",
  tags: ["locations"],
  operationId: "locations_delete",
  summary: "Delete a location: its Parquet objects in R2 and its rows in D1",
  description:
    "Order, safe against a crash at any point: deactivate the location (only if its writer job is absent or terminal, so nothing can " +
    "register files in it again), delete its file rows, delete every object under its prefix, then delete the location row. " +
    "A file row never outlives its object, and objects whose rows are gone stay findable through the location row until the end, " +
    "so repeating a DELETE that failed midway finishes the job (the location is then inactive, so `force` is no longer needed).",
  request: { params: LocationIdParamsSchema, query: DeleteLocationQuerySchema },
  responses: {
    204: { description: "Deleted" },
    400: errorContent("Invalid location id (INVALID_LOCATION_ID) or force not true/false (INVALID_QUERY_PARAMETERS)"),
    404: errorContent("No such location (LOCATION_NOT_FOUND)"),
    409: errorContent("Active and not forced (ACTIVE_LOCATION_CONFLICT), or the writer job is not terminal (ONGOING_JOB_CONFLICT)"),
    ...writeRouteErrors,
  },
});

const listFilesRoute = createRoute({
  method: "get",
  path: "/locations/{location_id}/files",
  tags: ["locations"],
  operationId: "locations_list_files",
  summary: "List a location's files, newest first, one page at a time",
  description: "An unknown location has no files: 200 with `files: []`, as in the original and the spec (which lists no 404 here).",
  request: { params: FilesParamsSchema, query: pageQuery("last_file_id", "files") },
  responses: {
    200: jsonContent(LocationFilesResponseSchema, "A page of files; `next_cursor` is absent on the last page"),
    400: errorContent("Invalid location id (INVALID_LOCATION_ID), bad query (INVALID_QUERY_PARAMETERS), LIMIT_INVALID or LIMIT_TOO_LARGE"),
    ...readRouteErrors,
  },
});

export function registerLocationRoutes(app: App): void {
  app.openapi(
    listRoute,
    async (c) => {
      const query = c.req.valid("query");
      const page = await listLocations(openDb(c.env.DB), pageRequest(query.limit, query.last_location_id));
      const locations = page.items.map((location) => ({ ...locationBase(location), writer: location.writer }));
      return c.json({ locations, next_cursor: page.nextCursor }, 200);
    },
    validationHook({ query: "INVALID_QUERY_PARAMETERS" }),
  );

  app.openapi(
    getRoute,
    async (c) => {
      const { id } = c.req.valid("param");
      const found = await getLocationWithWriter(openDb(c.env.DB), id);
      if (!found) throw new ApiError("LOCATION_NOT_FOUND", `location ${id} not found`);
      return c.json({ ...locationBase(found.location), writer: found.writer && toJobInfo(found.writer) }, 200);
    },
    validationHook({ param: "INVALID_LOCATION_ID" }),
  );

  app.openapi(
    deleteRoute,
    async (c) => {
      const { id } = c.req.valid("param");
      const force = c.req.valid("query").force === "true";
      const result = await deleteLocation(openDb(c.env.DB), c.env.BUCKET, id, force);
      switch (result.outcome) {
        case "deleted":
          return c.body(null, 204);
        case "absent":
          throw new ApiError("LOCATION_NOT_FOUND", `location ${id} not found`);
        case "active":
          throw new ApiError("ACTIVE_LOCATION_CONFLICT", `location ${id} is active; pass force=true to delete it anyway`);
        case "ongoing_writer":
          throw new ApiError(
            "ONGOING_JOB_CONFLICT",
            `location ${id} is being written by job ${result.writer.id} (${result.writer.status}); stop the job first`,
          );
      }
    },
    pathFirstHook({ param: "INVALID_LOCATION_ID", query: "INVALID_QUERY_PARAMETERS" }, LocationIdParamsSchema),
  );

  app.openapi(
    listFilesRoute,
    async (c) => {
      const { location_id } = c.req.valid("param");
      const query = c.req.valid("query");
      const page = await listLocationFiles(openDb(c.env.DB), location_id, pageRequest(query.limit, query.last_file_id));
      const files = page.items.map((file) => ({
        id: file.id,
        file_name: file.fileName,
        ...(file.objectSize === null ? {} : { object_size: file.objectSize }),
      }));
      return c.json({ files, next_cursor: page.nextCursor }, 200);
    },
    pathFirstHook({ param: "INVALID_LOCATION_ID", query: "INVALID_QUERY_PARAMETERS" }, FilesParamsSchema),
  );
}
