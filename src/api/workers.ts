import { createRoute, z } from "@hono/zod-openapi";
import { isNodeId, workerMetadataFrom } from "../domain/worker";
import { openDb } from "../store/db";
import { getWorker, listWorkers } from "../store/workers";
import type { App } from "./app";
import { ApiError } from "./errors";
import { errorContent, jsonContent, readRouteErrors } from "./responses";
import { validationHook } from "./validation";

const nodeId = z.string().openapi({
  description: "The executor's node id: a letter, then letters, digits, `_`, `-` or `.`",
  example: "jobrunner-1",
});

const timestamp = (description: string) => z.string().openapi({ description: `${description} (RFC 3339 UTC)`, example: "2025-11-06T12:56:59.123Z" });

const WorkerInfoSchema = z.object({ node_id: nodeId, heartbeat_at: timestamp("Last heartbeat") }).openapi("WorkerInfo");

const WorkersResponseSchema = z
  .object({ workers: z.array(WorkerInfoSchema).openapi({ description: "Every worker, most recently first registered first" }) })
  .openapi("WorkersResponse");

const unknownable = (description: string) => z.string().openapi({ description: `${description}; "unknown" when not known` });

const WorkerMetadataSchema = z
  .object({
    version: unknownable("The Worker version's tag, or its version id when untagged"),
    commit_sha: unknownable("Commit the build came from"),
    commit_timestamp: unknownable("Time of that commit"),
    build_date: unknownable("When the Worker version was uploaded"),
  })
  .openapi("WorkerMetadata");

const WorkerDetailResponseSchema = z
  .object({
    node_id: nodeId,
    info: WorkerMetadataSchema,
    created_at: timestamp("First registration; never changes"),
    registered_at: timestamp("Last (re)registration"),
    heartbeat_at: timestamp("Last heartbeat"),
  })
  .openapi("WorkerDetailResponse");

const WorkerIdParamsSchema = z.object({
  id: z
    .string()
    .refine(isNodeId, "must start with a letter and contain only letters, digits, '_', '-' and '.'")
    .openapi({ param: { name: "id", in: "path" }, description: "Worker node id", example: "jobrunner-1" }),
});

const listRoute = createRoute({
  method: "get",
  path: "/workers",
  tags: ["workers"],
  operationId: "workers_list",
  summary: "Every executor that registered, with its last heartbeat",
  responses: {
    200: jsonContent(WorkersResponseSchema, "The workers"),
    ...readRouteErrors,
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/workers/{id}",
  tags: ["workers"],
  operationId: "workers_get",
  summary: "One worker, with its build metadata and lifecycle timestamps",
  request: { params: WorkerIdParamsSchema },
  responses: {
    200: jsonContent(WorkerDetailResponseSchema, "The worker"),
    400: errorContent("Invalid node id (INVALID_WORKER_ID)"),
    404: errorContent("No such worker (WORKER_NOT_FOUND)"),
    ...readRouteErrors,
  },
});

export function registerWorkerRoutes(app: App): void {
  app.openapi(listRoute, async (c) => {
    const workers = await listWorkers(openDb(c.env.DB));
    return c.json({ workers: workers.map((worker) => ({ node_id: worker.nodeId, heartbeat_at: worker.heartbeatAt })) }, 200);
  });

  app.openapi(
    getRoute,
    async (c) => {
      const { id } = c.req.valid("param");
      const worker = await getWorker(openDb(c.env.DB), id);
      if (!worker) throw new ApiError("WORKER_NOT_FOUND", `worker '${id}' not found`);
      return c.json(
        {
          node_id: worker.nodeId,
          info: workerMetadataFrom(worker.info),
          created_at: worker.createdAt,
          registered_at: worker.registeredAt,
          heartbeat_at: worker.heartbeatAt,
        },
        200,
      );
    },
    validationHook({ param: "INVALID_WORKER_ID" }),
  );
}
