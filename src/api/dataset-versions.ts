import { createRoute, z } from "@hono/zod-openapi";
import { DEV_TAG, formatRevision, latestVersionTag, sortVersionsDescending, versionDeletion } from "../domain/revision";
import { deleteTag, listTags } from "../store/datasets";
import { openDb } from "../store/db";
import { readManifestObject } from "../store/manifests";
import type { App } from "./app";
import { DatasetParamsSchema, DatasetRevisionParamsSchema, DatasetVersionParamsSchema, resolveDatasetRevision } from "./dataset-params";
import { ApiError } from "./errors";
import { errorContent, jsonContent, readRouteErrors, writeRouteErrors } from "./responses";
import { storedJsonResponse } from "./stored-json";
import { validationHook } from "./validation";

/** A dataset's versions and tags: list them, resolve a revision, read its manifest, delete a version tag. */

const VersionInfoSchema = z
  .object({
    version: z.string(),
    manifest_hash: z.string(),
    created_at: z.string().openapi({ description: "RFC 3339 UTC", example: "2025-11-06T12:56:59.123Z" }),
    updated_at: z.string().openapi({ description: "RFC 3339 UTC; changes when the tag moves to another manifest" }),
  })
  .openapi("VersionInfo");

const VersionsResponseSchema = z
  .object({
    namespace: z.string(),
    name: z.string(),
    versions: z.array(VersionInfoSchema).openapi({ description: "Semantic versions, highest first" }),
    special_tags: z
      .object({
        latest: z.string().optional().openapi({ description: "The highest semantic version" }),
        dev: z.string().optional().openapi({ description: "Hash of the manifest registered last" }),
      })
      .openapi("SpecialTags"),
  })
  .openapi("VersionsResponse");

const DatasetInfoSchema = z
  .object({
    namespace: z.string(),
    name: z.string(),
    revision: z.string().openapi({ description: "The revision as requested" }),
    manifest_hash: z.string(),
    kind: z.string().openapi({ example: "evm-rpc" }),
  })
  .openapi("DatasetInfo");

const ManifestJsonSchema = z.record(z.string(), z.unknown()).openapi("Value", { description: "The manifest, in canonical JSON" });

const versionsRoute = createRoute({
  method: "get",
  path: "/datasets/{namespace}/{name}/versions",
  tags: ["datasets"],
  operationId: "list_dataset_versions",
  summary: "A dataset's versions, highest first, and its `latest` and `dev` tags",
  request: { params: DatasetParamsSchema },
  responses: {
    200: jsonContent(VersionsResponseSchema, "The versions; empty for an unknown dataset"),
    400: errorContent("Invalid namespace or name (INVALID_PATH)"),
    ...readRouteErrors,
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/datasets/{namespace}/{name}/versions/{revision}",
  tags: ["datasets"],
  operationId: "get_dataset_by_revision",
  summary: "The manifest hash and kind a revision of a dataset resolves to",
  request: { params: DatasetRevisionParamsSchema },
  responses: {
    200: jsonContent(DatasetInfoSchema, "The dataset revision"),
    400: errorContent("Invalid namespace, name or revision (INVALID_PATH)"),
    404: errorContent("No such dataset or revision, or a hash not linked to this dataset (DATASET_NOT_FOUND)"),
    ...readRouteErrors,
  },
});

const deleteVersionRoute = createRoute({
  method: "delete",
  path: "/datasets/{namespace}/{name}/versions/{version}",
  tags: ["datasets"],
  operationId: "delete_dataset_version",
  summary: "Delete a version tag; the manifest stays linked; idempotent",
  request: { params: DatasetVersionParamsSchema },
  responses: {
    204: { description: "Deleted, or did not exist" },
    400: errorContent("Invalid path (INVALID_PATH), or the version `latest` points to (CANNOT_DELETE_LATEST_VERSION)"),
    ...writeRouteErrors,
  },
});

const manifestRoute = createRoute({
  method: "get",
  path: "/datasets/{namespace}/{name}/versions/{revision}/manifest",
  tags: ["datasets"],
  operationId: "get_dataset_manifest",
  summary: "The manifest a revision resolves to, as its stored canonical JSON",
  request: { params: DatasetRevisionParamsSchema },
  responses: {
    200: jsonContent(ManifestJsonSchema, "The manifest"),
    400: errorContent("Invalid namespace, name or revision (INVALID_PATH)"),
    404: errorContent("No such dataset or revision (DATASET_NOT_FOUND), or its manifest object is missing (MANIFEST_NOT_FOUND)"),
    ...readRouteErrors,
  },
});

export function registerDatasetVersionRoutes(app: App): void {
  app.openapi(
    versionsRoute,
    async (c) => {
      const { namespace, name } = c.req.valid("param");
      const rows = await listTags(openDb(c.env.DB), { namespace, name });
      const versionRows = rows.filter((row) => row.version !== DEV_TAG);
      const byVersion = new Map(versionRows.map((row) => [row.version, row]));
      const versions = sortVersionsDescending([...byVersion.keys()]).flatMap((version) => {
        const row = byVersion.get(version);
        return row ? [{ version, manifest_hash: row.hash, created_at: row.createdAt, updated_at: row.updatedAt }] : [];
      });
      const latest = latestVersionTag(versionRows);
      const dev = rows.find((row) => row.version === DEV_TAG);
      return c.json(
        {
          namespace,
          name,
          versions,
          special_tags: { ...(latest ? { latest: latest.version } : {}), ...(dev ? { dev: dev.hash } : {}) },
        },
        200,
      );
    },
    validationHook({ param: "INVALID_PATH" }),
  );

  app.openapi(
    getRoute,
    async (c) => {
      const params = c.req.valid("param");
      const resolved = await resolveDatasetRevision(openDb(c.env.DB), params);
      const { namespace, name, revision } = params;
      return c.json({ namespace, name, revision: formatRevision(revision), manifest_hash: resolved.hash, kind: resolved.kind }, 200);
    },
    validationHook({ param: "INVALID_PATH" }),
  );

  app.openapi(
    deleteVersionRoute,
    async (c) => {
      const { namespace, name, version } = c.req.valid("param");
      const db = openDb(c.env.DB);
      const dataset = { namespace, name };
      const versionTags = (await listTags(db, dataset)).filter((row) => row.version !== DEV_TAG);
      const deletion = versionDeletion(versionTags, version);
      if (deletion === "latest") {
        throw new ApiError("CANNOT_DELETE_LATEST_VERSION", `${version} is the latest version of ${namespace}/${name}; register a higher version first`);
      }
      if (deletion === "deletable") await deleteTag(db, dataset, version);
      return c.body(null, 204);
    },
    validationHook({ param: "INVALID_PATH" }),
  );

  app.openapi(
    manifestRoute,
    async (c) => {
      const resolved = await resolveDatasetRevision(openDb(c.env.DB), c.req.valid("param"));
      const canonical = await readManifestObject(c.env.BUCKET, resolved.hash);
      if (canonical === null) throw new ApiError("MANIFEST_NOT_FOUND", `the object of manifest ${resolved.hash} is missing`);
      return storedJsonResponse(canonical);
    },
    validationHook({ param: "INVALID_PATH" }),
  );
}
