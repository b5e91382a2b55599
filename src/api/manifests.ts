import { createRoute, z } from "@hono/zod-openapi";
import { openDb } from "../store/db";
import {
  deleteManifestIfUnlinked,
  findManifest,
  listManifestSummaries,
  listManifestVersionTags,
  pruneOrphanManifests,
  readManifestObject,
  registerManifest,
} from "../store/manifests";
import type { App } from "./app";
import { HashParamsSchema } from "./dataset-params";
import { ApiError } from "./errors";
import { errorContent, jsonContent, readRouteErrors, writeRouteErrors } from "./responses";
import { storedJsonResponse } from "./stored-json";
import { putValidManifest } from "./valid-manifest";
import { jsonBody, validationHook } from "./validation";

/** Manifests by hash, whether or not a dataset links them: store, read, list who tags them, delete, prune. */

const ManifestBodySchema = z.unknown().openapi({ description: "The manifest JSON object (kind evm-rpc, firehose, eth-beacon or manifest)" });

const RegisterManifestResponseSchema = z
  .object({ hash: z.string().openapi({ description: "The manifest hash: sha256 of its canonical JSON, 64 lowercase hex digits" }) })
  .openapi("RegisterManifestResponse");

const PruneResponseSchema = z
  .object({ deleted_count: z.int().min(0).openapi({ description: "How many orphaned manifests were deleted" }) })
  .openapi("PruneResponse");

const ManifestResponseSchema = z.record(z.string(), z.unknown()).openapi("ManifestResponse", { description: "The manifest, in its stored canonical JSON" });

const ManifestDatasetsResponseSchema = z
  .object({
    hash: z.string(),
    datasets: z
      .array(z.object({ namespace: z.string(), name: z.string(), version: z.string() }).openapi("Dataset"))
      .openapi({ description: "The version tags pointing to this manifest, by namespace, name, then highest version first" }),
  })
  .openapi("ManifestDatasetsResponse");

const ManifestsResponseSchema = z
  .object({
    manifests: z.array(
      z
        .object({
          hash: z.string(),
          kind: z.string().openapi({ example: "evm-rpc" }),
          dataset_count: z.number().int().openapi({ description: "How many datasets link this manifest" }),
        })
        .openapi("ManifestSummary"),
    ),
  })
  .openapi("ManifestsResponse");

const listRoute = createRoute({
  method: "get",
  path: "/manifests",
  tags: ["manifests"],
  operationId: "manifests_list",
  summary: "Every stored manifest, by hash, with its kind and how many datasets link it",
  responses: {
    200: jsonContent(ManifestsResponseSchema, "The manifests, ordered by hash (not paginated, as in the original)"),
    ...readRouteErrors,
  },
});

const registerRoute = createRoute({
  method: "post",
  path: "/manifests",
  tags: ["manifests"],
  operationId: "manifests_register",
  summary: "Store a manifest without linking it to a dataset; idempotent",
  middleware: [jsonBody("INVALID_PAYLOAD_FORMAT")] as const,
  request: { body: { required: true, content: { "application/json": { schema: ManifestBodySchema } } } },
  responses: {
    201: jsonContent(RegisterManifestResponseSchema, "Stored; the same content always gives the same hash"),
    400: errorContent(
      "Bad body (INVALID_PAYLOAD_FORMAT), manifest (INVALID_MANIFEST, UNSUPPORTED_DATASET_KIND) , dependencies (DEPENDENCY_VALIDATION_ERROR: an undeclared alias, or a dependency that resolves to no registered manifest) or a derived table that cannot run incrementally (NON_INCREMENTAL_QUERY)",
    ),
    ...writeRouteErrors,
    500: errorContent("Storage failure (MANIFEST_STORAGE_ERROR, MANIFEST_REGISTRATION_ERROR)"),
  },
});

const pruneRoute = createRoute({
  method: "delete",
  path: "/manifests",
  tags: ["manifests"],
  operationId: "manifests_prune",
  summary: "Delete every manifest that no dataset links, row and object",
  responses: {
    200: jsonContent(PruneResponseSchema, "How many were deleted"),
    ...writeRouteErrors,
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/manifests/{hash}",
  tags: ["manifests"],
  operationId: "manifests_get_by_hash",
  summary: "A manifest's stored canonical JSON, byte for byte",
  request: { params: HashParamsSchema },
  responses: {
    200: jsonContent(ManifestResponseSchema, "The manifest"),
    400: errorContent("Not a 64-hex hash (INVALID_HASH)"),
    404: errorContent("No manifest with this hash (MANIFEST_NOT_FOUND)"),
    ...readRouteErrors,
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/manifests/{hash}",
  tags: ["manifests"],
  operationId: "manifests_delete",
  summary: "Delete a manifest no dataset links, row and object; idempotent",
  request: { params: HashParamsSchema },
  responses: {
    204: { description: "Deleted, or did not exist" },
    400: errorContent("Not a 64-hex hash (INVALID_HASH)"),
    409: errorContent("A dataset links this manifest (MANIFEST_LINKED)"),
    ...writeRouteErrors,
  },
});

const datasetsRoute = createRoute({
  method: "get",
  path: "/manifests/{hash}/datasets",
  tags: ["manifests"],
  operationId: "list_manifest_datasets",
  summary: "The dataset versions that point to a manifest",
  request: { params: HashParamsSchema },
  responses: {
    200: jsonContent(ManifestDatasetsResponseSchema, "The dataset versions"),
    400: errorContent("Not a 64-hex hash (INVALID_HASH)"),
    404: errorContent("No manifest with this hash (MANIFEST_NOT_FOUND)"),
    ...readRouteErrors,
  },
});

export function registerManifestRoutes(app: App): void {
  app.openapi(listRoute, async (c) => {
    const manifests = await listManifestSummaries(openDb(c.env.DB));
    return c.json({ manifests: manifests.map((m) => ({ hash: m.hash, kind: m.kind, dataset_count: m.datasetCount })) }, 200);
  });

  app.openapi(
    registerRoute,
    async (c) => {
      const stored = await putValidManifest(openDb(c.env.DB), c.env.BUCKET, c.req.valid("json"));
      try {
        await registerManifest(openDb(c.env.DB), c.env.BUCKET, stored);
      } catch (error) {
        throw new ApiError("MANIFEST_REGISTRATION_ERROR", `could not register manifest ${stored.hash}`, { cause: error });
      }
      return c.json({ hash: stored.hash }, 201);
    },
    validationHook({ json: "INVALID_PAYLOAD_FORMAT" }),
  );

  app.openapi(pruneRoute, async (c) => {
    const deleted = await pruneOrphanManifests(openDb(c.env.DB), c.env.BUCKET);
    return c.json({ deleted_count: deleted }, 200);
  });

  app.openapi(
    getRoute,
    async (c) => {
      const { hash } = c.req.valid("param");
      const stored = (await findManifest(openDb(c.env.DB), hash)) ? await readManifestObject(c.env.BUCKET, hash) : null;
      if (stored === null) throw new ApiError("MANIFEST_NOT_FOUND", `manifest ${hash} not found`);
      return storedJsonResponse(stored);
    },
    validationHook({ param: "INVALID_HASH" }),
  );

  app.openapi(
    deleteRoute,
    async (c) => {
      const { hash } = c.req.valid("param");
      if ((await deleteManifestIfUnlinked(openDb(c.env.DB), c.env.BUCKET, hash)) === "linked") {
        throw new ApiError("MANIFEST_LINKED", `manifest ${hash} is linked to a dataset; delete the dataset (or its links) first`);
      }
      return c.body(null, 204);
    },
    validationHook({ param: "INVALID_HASH" }),
  );

  app.openapi(
    datasetsRoute,
    async (c) => {
      const { hash } = c.req.valid("param");
      const db = openDb(c.env.DB);
      if (!(await findManifest(db, hash))) throw new ApiError("MANIFEST_NOT_FOUND", `manifest ${hash} not found`);
      return c.json({ hash, datasets: await listManifestVersionTags(db, hash) }, 200);
    },
    validationHook({ param: "INVALID_HASH" }),
  );
}
