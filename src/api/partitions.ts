import { createRoute, z } from "@hono/zod-openapi";
import { jobRunnerStub } from "../../durable-objects/job-runner";
import { type Partition, blockRangeProblem, partitionPage, rebuildRanges, tablePartitions } from "../domain/partitions";
import { parseDumpDescriptor } from "../domain/job";
import { formatRevision } from "../domain/revision";
import { tableTargetEnd } from "../domain/table-target";
import type { Env } from "../env";
import { readChainHead } from "../store/chain-heads";
import { type Db, openDb } from "../store/db";
import { readLocationChain, type StoredInvalidation } from "../store/invalidations";
import { newestHeadingJob } from "../store/jobs";
import type { Location } from "../store/locations";
import type { App } from "./app";
import { requestRole } from "./auth";
import { DatasetTableParamsSchema } from "./dataset-params";
import { resolveDatasetTable } from "./dataset-table";
import { ApiError } from "./errors";
import { MAX_PARALLELISM } from "./job-control";
import { rebuildDependants } from "./dependant-rebuilds";
import { invalidatePartitions, rebuildPartitions } from "./partition-actions";
import { NextCursorSchema, pageQuery, pageRequest } from "./pagination";
import { errorContent, jsonContent, readRouteErrors, writeRouteErrors } from "./responses";
import { jsonBody, pathFirstHook, validationHook } from "./validation";

/**
 * A table's block-range partitions (the build-graph seed's partitions): listed with their status, invalidated
 * (they stop counting, nothing is deleted) and rebuilt (a job extracts them again). Statuses and rebuild ranges
 * are src/domain/partitions.ts; the canonical chain is chosen with the invalidations as input.
 */

const RangeSchema = z.object({ start: z.number().int(), end: z.number().int() }).openapi("BlockRange");

const InvalidationInfoSchema = z
  .object({
    id: z.number().int(),
    start: z.number().int().openapi({ description: "First block of the range as requested" }),
    end: z.number().int(),
    reason: z.string(),
    requested_by: z.string().openapi({ description: "The role of the token that asked: `admin`, or `auth_disabled`", example: "admin" }),
    created_at: z.string(),
    cause_id: z.number().int().optional().openapi({ description: "The invalidation of the table this derived table reads, which it followed from" }),
  })
  .openapi("PartitionInvalidation");

const PartitionSchema = z
  .object({
    start: z.number().int().openapi({ description: "First block (inclusive)", example: 0 }),
    end: z.number().int().openapi({ description: "Last block (inclusive)", example: 999 }),
    status: z.enum(["materialized", "missing", "orphaned", "invalidated"]).openapi({
      description:
        "`materialized`: a file on the canonical chain (or on the chain that goes on after a missing range); `missing`: blocks no file holds, " +
        "up to the target end; `orphaned`: files that count but are on no chain (a reorg's losing branch, a range extracted again); " +
        "`invalidated`: files an invalidation took out (shown beside the rebuilt partition once rebuilt)",
    }),
    files: z.number().int().openapi({ description: "Files of this status and range" }),
    rows: z.number().int(),
    bytes: z.number().int(),
    end_hash: z.string().nullable().openapi({ description: "End block hash of the newest file; null for a missing range" }),
    invalidation: InvalidationInfoSchema.optional().openapi({ description: "For `invalidated`: the newest invalidation that took the files out" }),
  })
  .openapi("Partition");

const PartitionsSchema = z
  .object({
    dataset_namespace: z.string(),
    dataset_name: z.string(),
    revision: z.string(),
    manifest_hash: z.string(),
    table: z.string(),
    location_id: z.number().int().nullable().openapi({ description: "The table's active location; null before the first deploy" }),
    target_end: z.number().int().nullable().openapi({
      description:
        "Where the table is heading (blocks up to it that no file holds are `missing`): the end block of the newest job of the table's manifest that is " +
        "not a rebuild-only job (as its runner resolved it, also when that job stopped or failed half-way; for a continuous job the chain head it read " +
        "last; before its runner took the job, its `end_block`, `latest` and `-N` against the manifest's last chain head); without such a job, the chain " +
        "head last read for the manifest; null when neither is known",
    }),
    partitions: z.array(PartitionSchema).openapi({ description: "In block order; partitions starting at one block are never split across pages" }),
    next_cursor: NextCursorSchema.openapi({ description: "Present only when another page follows: pass it as `from_block`" }),
  })
  .openapi("TablePartitions");

const listRoute = createRoute({
  method: "get",
  path: "/datasets/{namespace}/{name}/versions/{revision}/tables/{table}/partitions",
  tags: ["datasets"],
  operationId: "list_table_partitions",
  summary: "A table's block-range partitions in block order: materialized, missing, orphaned, invalidated",
  request: { params: DatasetTableParamsSchema, query: pageQuery("from_block", "partitions") },
  responses: {
    200: jsonContent(PartitionsSchema, "A page of partitions"),
    400: errorContent("Invalid path (INVALID_PATH), limit (LIMIT_INVALID, LIMIT_TOO_LARGE) or cursor (INVALID_QUERY_PARAMETERS)"),
    404: errorContent("No such dataset or revision (DATASET_NOT_FOUND) or table (TABLE_NOT_FOUND)"),
    ...readRouteErrors,
  },
});

const blockNumber = z.number().openapi({ type: "integer", minimum: 0, description: "A block number; a range outside 0..2^53-1 or with start above end is INVALID_BLOCK_RANGE" });

const InvalidateRequestSchema = z
  .object({
    start: blockNumber,
    end: blockNumber,
    reason: z.string().trim().min(1, "reason must not be empty").max(1000).openapi({ description: "Why: kept with the invalidation and in the writer job's timeline", example: "provider served a stale branch" }),
  })
  .openapi("InvalidatePartitionsRequest");

const InvalidateResponseSchema = z
  .object({
    invalidations: z
      .array(
        InvalidationInfoSchema.extend({
          dataset_namespace: z.string(),
          dataset_name: z.string(),
          manifest_hash: z.string(),
          table: z.string(),
          location_id: z.number().int(),
          taken: z.array(RangeSchema).openapi({ description: "Ranges of the files it took out, whole: what a rebuild extracts again" }),
        }),
      )
      .openapi({ description: "The table's invalidation first, then its dependants'; empty when nothing counted in the range any more (a repeated request)" }),
  })
  .openapi("InvalidatePartitionsResponse");

const invalidateRoute = createRoute({
  method: "post",
  path: "/datasets/{namespace}/{name}/versions/{revision}/tables/{table}/partitions/invalidate",
  tags: ["datasets"],
  operationId: "invalidate_table_partitions",
  summary: "Take a block range out of counting (canonical chain, progress, queries, derived inputs), with the derived tables reading it; nothing is deleted",
  middleware: [jsonBody("INVALID_BODY")] as const,
  request: { params: DatasetTableParamsSchema, body: { required: true, content: { "application/json": { schema: InvalidateRequestSchema } } } },
  responses: {
    200: jsonContent(InvalidateResponseSchema, "Recorded (idempotent: a repeat records nothing new)"),
    400: errorContent("Invalid path (INVALID_PATH), body (INVALID_BODY) or range (INVALID_BLOCK_RANGE)"),
    404: errorContent("No such dataset or revision (DATASET_NOT_FOUND) or table (TABLE_NOT_FOUND)"),
    ...writeRouteErrors,
  },
});

const RebuildRequestSchema = z
  .object({
    start: blockNumber.optional(),
    end: blockNumber.optional(),
    parallelism: z.number().int().min(1).max(MAX_PARALLELISM).default(1).openapi({ description: "Steps at once, for a job the rebuild deploys" }),
  })
  .openapi("RebuildPartitionsRequest");

const DependantRebuildSchema = z
  .object({
    dataset_namespace: z.string(),
    dataset_name: z.string(),
    manifest_hash: z.string(),
    table: z.string(),
    location_id: z.number().int(),
    job_id: z.number().int().openapi({ description: "The job of the derived manifest that derives the ranges once the table rebuilt here holds them again" }),
    ranges: z.array(RangeSchema).openapi({ description: "The derived table's invalidated files' ranges (whole) overlapping the blocks rebuilt here" }),
  })
  .openapi("DependantRebuild");

const RebuildResponseSchema = z
  .object({
    job_id: z.number().int().optional().openapi({ description: "The job extracting the ranges: a new one, or the SCHEDULED or RUNNING job of the manifest; absent when there is nothing to rebuild" }),
    ranges: z.array(RangeSchema).openapi({ description: "The blocks it extracts again: invalidated files' ranges whole, and missing blocks, in the request's range" }),
    dependants: z.array(DependantRebuildSchema).optional().openapi({
      description: "With a job: the derived tables reading this one (as invalidate finds them) whose invalidated files overlap the ranges, each handed to a job of its own manifest; empty when none",
    }),
  })
  .openapi("RebuildPartitionsResponse");

const rebuildRoute = createRoute({
  method: "post",
  path: "/datasets/{namespace}/{name}/versions/{revision}/tables/{table}/partitions/rebuild",
  tags: ["datasets"],
  operationId: "rebuild_table_partitions",
  summary: "Extract a table's invalidated (and missing) blocks again: in {start, end}, or every invalidated range without them",
  middleware: [jsonBody("INVALID_BODY", { optional: true })] as const,
  request: {
    params: DatasetTableParamsSchema,
    body: { required: true, description: "May be left out: every invalidated range, parallelism 1", content: { "application/json": { schema: RebuildRequestSchema } } },
  },
  responses: {
    202: jsonContent(RebuildResponseSchema, "A job extracts the ranges; poll it at GET /jobs/{id} or the table's partitions"),
    200: jsonContent(RebuildResponseSchema, "Nothing to rebuild: `ranges` is empty and there is no job"),
    400: errorContent("Invalid path (INVALID_PATH), body (INVALID_BODY) or range (INVALID_BLOCK_RANGE)"),
    404: errorContent("No such dataset or revision (DATASET_NOT_FOUND) or table (TABLE_NOT_FOUND)"),
    409: errorContent("Jobs of the manifest kept ending while the rebuild was handed to them (JOB_CONFLICT): nothing was handed over, try again"),
    ...writeRouteErrors,
  },
});

function requireRange(start: unknown, end: unknown): { start: number; end: number } {
  const problem = blockRangeProblem(start, end);
  if (problem !== null) throw new ApiError("INVALID_BLOCK_RANGE", problem);
  return { start: start as number, end: end as number };
}

function invalidationInfo(invalidation: StoredInvalidation) {
  return {
    id: invalidation.id,
    start: invalidation.range.start,
    end: invalidation.range.end,
    reason: invalidation.reason,
    requested_by: invalidation.requestedBy,
    created_at: invalidation.createdAt,
    ...(invalidation.causeId === null ? {} : { cause_id: invalidation.causeId }),
  };
}

function partitionJson(partition: Partition<StoredInvalidation>) {
  return {
    start: partition.range.start,
    end: partition.range.end,
    status: partition.status,
    files: partition.files,
    rows: partition.rows,
    bytes: partition.bytes,
    end_hash: partition.endHash,
    ...(partition.invalidation ? { invalidation: invalidationInfo(partition.invalidation) } : {}),
  };
}

/**
 * Where the table is heading (src/domain/table-target.ts): its manifest's newest job that is not rebuild-only,
 * as its runner knows it (or its descriptor says), else the chain head last read for the manifest; null when
 * nothing is known.
 */
async function targetEnd(env: Env, db: Db, manifestHash: string, startBlock: number): Promise<number | null> {
  const [job, chainHead] = await Promise.all([newestHeadingJob(db, manifestHash), readChainHead(db, manifestHash)]);
  const descriptor = job && parseDumpDescriptor(job.descriptor);
  const heading = job && descriptor?.ok ? { endBlock: descriptor.job.endBlock, runner: await jobRunnerStub(env.JOB_RUNNER, job.id).target() } : null;
  return tableTargetEnd({ job: heading, chainHead, startBlock });
}

async function locationChain(db: Db, location: Location | undefined) {
  return location ? readLocationChain(db, location.id) : { files: [], invalidations: [] };
}

export function registerPartitionRoutes(app: App): void {
  app.openapi(
    listRoute,
    async (c) => {
      const params = c.req.valid("param");
      const { limit, from_block } = c.req.valid("query");
      const page = pageRequest(limit, from_block);
      const db = openDb(c.env.DB);
      const { resolved, location, startBlock } = await resolveDatasetTable(db, c.env.BUCKET, params);
      const chain = await locationChain(db, location);
      const target = await targetEnd(c.env, db, resolved.hash, startBlock);
      const listed = partitionPage(tablePartitions(chain.files, chain.invalidations, startBlock, target), page.after ?? 0, page.limit);
      return c.json(
        {
          dataset_namespace: params.namespace,
          dataset_name: params.name,
          revision: formatRevision(params.revision),
          manifest_hash: resolved.hash,
          table: params.table,
          location_id: location?.id ?? null,
          target_end: target,
          partitions: listed.items.map(partitionJson),
          ...(listed.nextFromBlock === undefined ? {} : { next_cursor: listed.nextFromBlock }),
        },
        200,
      );
    },
    pathFirstHook({ param: "INVALID_PATH" }, DatasetTableParamsSchema),
  );

  app.openapi(
    invalidateRoute,
    async (c) => {
      const params = c.req.valid("param");
      const body = c.req.valid("json");
      const range = requireRange(body.start, body.end);
      const db = openDb(c.env.DB);
      const { location } = await resolveDatasetTable(db, c.env.BUCKET, params);
      if (!location) return c.json({ invalidations: [] }, 200);
      const requestedBy = await requestRole(c.env, c.req.header("authorization"));
      const outcomes = await invalidatePartitions(c.env, db, location, { range, reason: body.reason, requestedBy });
      return c.json(
        {
          invalidations: outcomes.map(({ location: target, invalidation, taken }) => ({
            ...invalidationInfo(invalidation),
            dataset_namespace: target.datasetNamespace,
            dataset_name: target.datasetName,
            manifest_hash: target.manifestHash,
            table: target.tableName,
            location_id: target.id,
            taken,
          })),
        },
        200,
      );
    },
    validationHook({ param: "INVALID_PATH", json: "INVALID_BODY" }),
  );

  app.openapi(
    rebuildRoute,
    async (c) => {
      const params = c.req.valid("param");
      // A request without any body skips the validator: the schema's defaults are applied here.
      const body = c.req.header("content-type") === undefined ? RebuildRequestSchema.parse({}) : c.req.valid("json");
      if ((body.start === undefined) !== (body.end === undefined)) throw new ApiError("INVALID_BODY", "give both start and end, or neither (every invalidated range)");
      const request = body.start === undefined ? null : requireRange(body.start, body.end);
      const db = openDb(c.env.DB);
      const { location, startBlock } = await resolveDatasetTable(db, c.env.BUCKET, params);
      const chain = await locationChain(db, location);
      const ranges = [...rebuildRanges(chain.files, chain.invalidations, request, startBlock)];
      if (!location || ranges.length === 0) return c.json({ ranges: [] }, 200);
      const requestedBy = await requestRole(c.env, c.req.header("authorization"));
      const jobId = await rebuildPartitions(c.env, db, { ...params, location, ranges, parallelism: body.parallelism, requestedBy });
      const dependants = await rebuildDependants(c.env, db, location, ranges, { parallelism: body.parallelism, requestedBy });
      return c.json(
        {
          job_id: jobId,
          ranges,
          dependants: dependants.map((d) => ({
            dataset_namespace: d.location.datasetNamespace,
            dataset_name: d.location.datasetName,
            manifest_hash: d.location.manifestHash,
            table: d.location.tableName,
            location_id: d.location.id,
            job_id: d.jobId,
            ranges: [...d.ranges],
          })),
        },
        202,
      );
    },
    validationHook({ param: "INVALID_PATH", json: "INVALID_BODY" }),
  );
}
