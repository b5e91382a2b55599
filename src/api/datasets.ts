import { createRoute, z } from "@hono/zod-openapi";
import { isHash, sortVersionsDescending } from "../domain/revision";
import { deleteDataset, listDatasets, registerDatasetWithHash, registerDatasetWithManifest } from "../store/datasets";
import { openDb } from "../store/db";
import type { App } from "./app";
import { DatasetParamsSchema, NameSchema, NamespaceSchema, VersionSchema } from "./dataset-params";
import { ApiError } from "./errors";
import { putValidManifest } from "./valid-manifest";
import { errorContent, jsonContent, readRouteErrors, writeRouteErrors } from "./responses";
import { jsonBody, validationHook } from "./validation";

/** Datasets as a whole: list them, register one (with a manifest and maybe a version), delete one. Its versions are in dataset-versions.ts. */

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

const listRoute = createRoute({
  method: "get",
  path: "/datasets",
  tags: ["datasets"],
  operationId: "list_all_datasets",
  summary: "List every dataset with its versions",
  responses: {
    200: jsonContent(DatasetsResponseSchema, "Every dataset, by namespace then name"),
    ...readRouteErrors,
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
      "Bad body (INVALID_PAYLOAD_FORMAT), manifest (INVALID_MANIFEST, UNSUPPORTED_DATASET_KIND) , dependencies (DEPENDENCY_VALIDATION_ERROR: an undeclared alias, or a dependency that resolves to no registered manifest) or a derived table that cannot run incrementally (NON_INCREMENTAL_QUERY)",
    ),
    404: errorContent("The manifest hash given is not stored (MANIFEST_NOT_FOUND)"),
    ...writeRouteErrors,
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
    ...writeRouteErrors,
  },
});

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
      const db = openDb(c.env.DB);
      const registration = { dataset: { namespace, name }, version: version ?? null };
      if (typeof manifest === "string" && isHash(manifest)) {
        const hash = manifest.toLowerCase();
        if (!(await registerDatasetWithHash(db, hash, registration))) {
          throw new ApiError("MANIFEST_NOT_FOUND", `manifest ${hash} is not registered; POST it to /manifests or pass the manifest itself`);
        }
        return c.body(null, 201);
      }
      const stored = await putValidManifest(db, c.env.BUCKET, manifest);
      try {
        await registerDatasetWithManifest(db, c.env.BUCKET, stored, registration);
      } catch (error) {
        throw new ApiError("MANIFEST_LINKING_ERROR", `could not register ${namespace}/${name}`, { cause: error });
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
}
