import { createRoute, z } from "@hono/zod-openapi";
import { prepareManifest } from "../domain/manifest/parse";
import { DEV_TAG, formatRevision, isHash, latestVersionTag, sortVersionsDescending, versionDeletion } from "../domain/revision";
import { type DatasetId, deleteDataset, deleteTag, listDatasets, listTags, registerDatasetWithHash, registerDatasetWithManifest } from "../store/datasets";
import { openDb } from "../store/db";
import { putManifestObject, readManifestObject } from "../store/manifests";
import { resolveRevision } from "../store/revisions";
import type { App } from "./app";
import { DatasetParamsSchema, DatasetRevisionParamsSchema, DatasetVersionParamsSchema, NameSchema, NamespaceSchema, VersionSchema } from "./dataset-params";
import { errorContent, readAuthResponses, writeAuthResponses } from "./error-schema";
import { ApiError } from "./errors";
import { storedJsonResponse } from "./stored-json";
import { jsonBody, validationHook } from "./validation";

const DatasetSummarySchema = z
  .object({
    namespace: z.string(),
    name: z.string(),
    latest_version: z.string().optional().openapi({ description: "The highest semantic version; absent when the dataset has none" }),
    versions: z.array(z.string()).openapi({ description: "All semantic versions, highest first" }),
  })
  .openapi("DatasetSummary");

const DatasetsResponseSchema = z.object({ datasets: z.array(DatasetSummarySchema) }).openapi("DatasetsResponse");

const RegisterRequestSchema = z
  .object({
    namespace: NamespaceSchema,
    name: NameSchema,
    version: VersionSchema.nullish().openapi({
      description: "Semantic version to tag. Omitted or null: only link the manifest and move `dev`.",
    }),
    manifest: z
      .unknown()
      .refine((value) => value !== undefined, "manifest is required: a 64-hex manifest hash or the manifest JSON object")
      .openapi({
        description: "A manifest hash (64 hex digits) of a stored manifest, or the manifest JSON object itself",
        oneOf: [
          { type: "string", pattern: "^[0-9a-fA-F]{64}$", description: "A manifest hash" },
          { type: "object", description: "Full manifest JSON content" },
        ],
      }),
  })
  .openapi("RegisterRequest", { required: ["namespace", "name", "manifest"] });

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

const listRoute = createRoute({
  method: "get",
  path: "/datasets",
  tags: ["datasets"],
  operationId: "list_all_datasets",
  summary: "List every dataset with its versions",
  responses: {
    200: { description: "Every dataset, by namespace then name", content: { "application/json": { schema: DatasetsResponseSchema } } },
    ...readAuthResponses,
    500: errorContent("Internal error"),
  },
});

const registerRoute = createRoute({
  method: "post",
  path: "/datasets",
  tags: ["datasets"],
  operationId: "datasets_register",
  summary: "Register a dataset: store the manifest, link it, move `dev`, and tag the version if given",
  middleware: [jsonBody("INVALID_PAYLOAD_FORMAT")] as const,
  request: { body: { required: true, content: { "application/json": { schema: RegisterRequestSchema } } } },
  responses: {
    201: { description: "Registered (empty body); registering the same content again changes nothing but `dev`" },
    400: errorContent(
      "Bad body (INVALID_PAYLOAD_FORMAT), manifest (INVALID_MANIFEST, UNSUPPORTED_DATASET_KIND) or dependencies (DEPENDENCY_VALIDATION_ERROR)",
    ),
    ...writeAuthResponses,
    404: errorContent("The manifest hash given is not stored (MANIFEST_NOT_FOUND)"),
    500: errorContent("Storage failure (MANIFEST_STORAGE_ERROR, MANIFEST_LINKING_ERROR)"),
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/datasets/{namespace}/{name}",
  tags: ["datasets"],
  operationId: "delete_dataset",
  summary: "Unlink every manifest of a dataset, delete its tags and the manifests nothing else links; idempotent",
  request: { params: DatasetParamsSchema },
  responses: {
    204: { description: "Deleted, or did not exist" },
    400: errorContent("Invalid namespace or name (INVALID_PATH)"),
    ...writeAuthResponses,
    500: errorContent("Internal error"),
  },
});

const versionsRoute = createRoute({
  method: "get",
  path: "/datasets/{namespace}/{name}/versions",
  tags: ["datasets"],
  operationId: "list_dataset_versions",
  summary: "A dataset's versions, highest first, and its `latest` and `dev` tags",
  request: { params: DatasetParamsSchema },
  responses: {
    200: { description: "The versions; empty for an unknown dataset", content: { "application/json": { schema: VersionsResponseSchema } } },
    400: errorContent("Invalid namespace or name (INVALID_PATH)"),
    ...readAuthResponses,
    500: errorContent("Internal error"),
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
    200: { description: "The dataset revision", content: { "application/json": { schema: DatasetInfoSchema } } },
    400: errorContent("Invalid namespace, name or revision (INVALID_PATH)"),
    ...readAuthResponses,
    404: errorContent("No such dataset or revision, or a hash not linked to this dataset (DATASET_NOT_FOUND)"),
    500: errorContent("Internal error"),
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
    ...writeAuthResponses,
    500: errorContent("Internal error"),
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
    200: { description: "The manifest", content: { "application/json": { schema: ManifestJsonSchema } } },
    400: errorContent("Invalid namespace, name or revision (INVALID_PATH)"),
    ...readAuthResponses,
    404: errorContent("No such dataset or revision (DATASET_NOT_FOUND), or its manifest object is missing (MANIFEST_NOT_FOUND)"),
    500: errorContent("Internal error"),
  },
});

function datasetLabel(dataset: DatasetId): string {
  return `${dataset.namespace}/${dataset.name}`;
}

/** Stores manifest content and registers the dataset with it; the object goes to R2 before any D1 row. */
async function registerWithContent(env: { DB: D1Database; BUCKET: R2Bucket }, content: unknown, dataset: DatasetId, version: string | null) {
  const prepared = await prepareManifest(content);
  if (!prepared.ok) throw new ApiError(prepared.code, prepared.message);
  try {
    await putManifestObject(env.BUCKET, prepared);
  } catch (error) {
    throw new ApiError("MANIFEST_STORAGE_ERROR", `could not store manifest ${prepared.hash}: ${String(error)}`);
  }
  try {
    await registerDatasetWithManifest(openDb(env.DB), env.BUCKET, prepared, { dataset, version });
  } catch (error) {
    throw new ApiError("MANIFEST_LINKING_ERROR", `could not register ${datasetLabel(dataset)}: ${String(error)}`);
  }
}

export function registerDatasetRoutes(app: App): void {
  app.openapi(listRoute, async (c) => {
    const datasets = await listDatasets(openDb(c.env.DB));
    return c.json(
      {
        datasets: datasets.map(({ namespace, name, versions }) => {
          const sorted = sortVersionsDescending(versions);
          return { namespace, name, ...(sorted[0] !== undefined ? { latest_version: sorted[0] } : {}), versions: sorted };
        }),
      },
      200,
    );
  });

  app.openapi(
    registerRoute,
    async (c) => {
      const { namespace, name, version, manifest } = c.req.valid("json");
      const dataset = { namespace, name };
      const registration = { dataset, version: version ?? null };
      if (typeof manifest === "string" && isHash(manifest)) {
        const hash = manifest.toLowerCase();
        if (!(await registerDatasetWithHash(openDb(c.env.DB), hash, registration))) {
          throw new ApiError("MANIFEST_NOT_FOUND", `manifest ${hash} is not registered; POST it to /manifests or pass the manifest itself`);
        }
      } else {
        await registerWithContent(c.env, manifest, dataset, registration.version);
      }
      return c.body(null, 201);
    },
    validationHook({ json: "INVALID_PAYLOAD_FORMAT" }),
  );

  app.openapi(
    deleteRoute,
    async (c) => {
      await deleteDataset(openDb(c.env.DB), c.env.BUCKET, c.req.valid("param"));
      return c.body(null, 204);
    },
    validationHook({ param: "INVALID_PATH" }),
  );

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
      const { namespace, name, revision } = c.req.valid("param");
      const resolved = await resolveRevision(openDb(c.env.DB), { namespace, name }, revision);
      if (!resolved) {
        throw new ApiError("DATASET_NOT_FOUND", `dataset ${namespace}/${name} has no revision '${formatRevision(revision)}'`);
      }
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
        throw new ApiError(
          "CANNOT_DELETE_LATEST_VERSION",
          `${version} is the latest version of ${datasetLabel(dataset)}; register a higher version first`,
        );
      }
      if (deletion === "deletable") await deleteTag(db, dataset, version);
      return c.body(null, 204);
    },
    validationHook({ param: "INVALID_PATH" }),
  );

  app.openapi(
    manifestRoute,
    async (c) => {
      const { namespace, name, revision } = c.req.valid("param");
      const resolved = await resolveRevision(openDb(c.env.DB), { namespace, name }, revision);
      if (!resolved) {
        throw new ApiError("DATASET_NOT_FOUND", `dataset ${namespace}/${name} has no revision '${formatRevision(revision)}'`);
      }
      const canonical = await readManifestObject(c.env.BUCKET, resolved.hash);
      if (canonical === null) throw new ApiError("MANIFEST_NOT_FOUND", `the object of manifest ${resolved.hash} is missing`);
      return storedJsonResponse(canonical);
    },
    validationHook({ param: "INVALID_PATH" }),
  );
}
