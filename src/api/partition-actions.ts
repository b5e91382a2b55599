/**
 * What `POST .../partitions/invalidate` and `.../rebuild` do, behind the routes of partitions.ts. Both are safe
 * to repeat and to run twice at once: an invalidation is recorded once per range and ceiling, and a rebuild is
 * handed to the one SCHEDULED or RUNNING job of the manifest, or deploys it.
 */
import { jobRunnerStub } from "../../durable-objects/job-runner";
import { type BlockRange, normalize } from "../domain/block-range";
import { type Invalidation, isInvalidated, tableProgress } from "../domain/canonical-chain";
import type { Revision } from "../domain/revision";
import type { Env } from "../env";
import type { Db } from "../store/db";
import { recordInvalidations, readLocationChain, type StoredInvalidation } from "../store/invalidations";
import { appendJobEvent } from "../store/job-events";
import { replaceLocationProgress } from "../store/location-progress";
import type { Location } from "../store/locations";
import { locationStartBlock } from "./dataset-table";
import { deployRevision } from "./deploy-revision";
import { ApiError } from "./errors";
import { dependantLocations } from "./partition-dependants";

export interface InvalidateRequest {
  readonly range: BlockRange;
  readonly reason: string;
  readonly requestedBy: string;
}

/** One location's new invalidation, with the blocks of the files it took out. */
export interface InvalidationOutcome {
  readonly location: Location;
  readonly invalidation: StoredInvalidation;
  readonly taken: BlockRange[];
}

/** Whether a location has files that count and hold a block of `range`: an invalidation would change it. */
async function wouldTakeOut(db: Db, locationId: number, range: BlockRange): Promise<boolean> {
  const chain = await readLocationChain(db, locationId);
  const probe: Invalidation[] = [{ range, fileIdCeiling: Number.MAX_SAFE_INTEGER }];
  return chain.files.some((file) => !isInvalidated(file, chain.invalidations) && isInvalidated(file, probe));
}

/**
 * Records the invalidation of `range` for a table and every derived table reading it, in one batch, then,
 * for each location that got one: the event in its writer job's timeline, its progress without the files
 * taken out, and the writer's runner told (a running job reads the invalidations and saves its figures
 * again; a crash before that leaves it to the runner's next step, which reads them first).
 */
export async function invalidatePartitions(env: Env, db: Db, location: Location, request: InvalidateRequest): Promise<InvalidationOutcome[]> {
  const dependants = await dependantLocations(db, env.BUCKET, env.JOB_RUNNER, { manifestHash: location.manifestHash, table: location.tableName });
  const origin = `${location.datasetNamespace}/${location.datasetName}@${location.manifestHash.slice(0, 8)}.${location.tableName}`;
  const entries = [];
  for (const [target, dependant] of [[location, false], ...dependants.map((d) => [d, true] as const)] as const) {
    if (!(await wouldTakeOut(db, target.id, request.range))) continue;
    const reason = dependant ? `${origin} invalidated: ${request.reason}` : request.reason;
    entries.push({ locationId: target.id, range: request.range, reason, requestedBy: request.requestedBy, dependant });
  }
  const inserted = await recordInvalidations(db, location.id, entries);
  const byId = new Map([location, ...dependants].map((l) => [l.id, l]));
  const outcomes: InvalidationOutcome[] = [];
  for (const invalidation of inserted) {
    const target = byId.get(invalidation.locationId)!;
    const chain = await readLocationChain(db, target.id);
    const taken = normalize(chain.files.filter((file) => isInvalidated(file, [invalidation])).map((file) => file.range));
    outcomes.push({ location: target, invalidation, taken: [...taken] });
    const startBlock = await locationStartBlock(db, env.BUCKET, target);
    await replaceLocationProgress(db, target.id, tableProgress(chain.files, startBlock, chain.invalidations));
    if (target.writer !== null) {
      await appendJobEvent(db, target.writer, {
        kind: "partition_invalidated",
        detail: {
          table: target.tableName,
          location_id: target.id,
          invalidation_id: invalidation.id,
          range: invalidation.range,
          reason: invalidation.reason,
          requested_by: invalidation.requestedBy,
          ...(invalidation.causeId === null ? {} : { cause_id: invalidation.causeId }),
        },
      });
      await jobRunnerStub(env.JOB_RUNNER, target.writer).takePartitions(target.writer, []);
    }
  }
  return outcomes;
}

export interface RebuildRequest {
  readonly namespace: string;
  readonly name: string;
  readonly revision: Revision;
  readonly location: Location;
  readonly ranges: readonly BlockRange[];
  readonly parallelism: number;
  readonly requestedBy: string;
  /** For a dependant's rebuild: the table whose rebuild it follows (named in the job's event). */
  readonly after?: Location;
}

/**
 * A job handed a rebuild may end before it takes it (its runner answers false): a new job is deployed then. Each
 * round that fails saw a job end, so a bound is only reached when jobs of the manifest keep ending under the
 * request; it is answered 409 JOB_CONFLICT (retry), never 500.
 */
const HAND_OVER_ATTEMPTS = 5;

/**
 * Hands the ranges to the manifest's SCHEDULED or RUNNING job, or deploys a job that extracts them and
 * nothing else (one job of a manifest at a time, so two rebuilds at once end in one job). A job a concurrent
 * request scheduled but whose runner has not started takes them too: its runner keeps them until it starts.
 * Returns the job's id.
 */
export async function rebuildPartitions(env: Env, db: Db, request: RebuildRequest): Promise<number> {
  const { location, ranges } = request;
  const end = ranges.reduce((max, range) => Math.max(max, range.end), 0);
  for (let attempt = 1; attempt <= HAND_OVER_ATTEMPTS; attempt++) {
    const scheduled = await deployRevision(env, {
      namespace: request.namespace,
      name: request.name,
      revision: request.revision,
      endBlock: { kind: "absolute", block: end },
      parallelism: request.parallelism,
      rebuild: ranges,
    });
    const handedOver = scheduled.outcome === "scheduled" || (await jobRunnerStub(env.JOB_RUNNER, scheduled.jobId).takePartitions(scheduled.jobId, [...ranges]));
    if (handedOver) {
      await appendJobEvent(db, scheduled.jobId, {
        kind: "rebuild_requested",
        detail: {
          table: location.tableName,
          location_id: location.id,
          ranges: [...ranges],
          requested_by: request.requestedBy,
          ...(request.after ? { after: { manifest_hash: request.after.manifestHash, table: request.after.tableName, location_id: request.after.id } } : {}),
        },
      });
      return scheduled.jobId;
    }
  }
  throw new ApiError("JOB_CONFLICT", `jobs of manifest ${location.manifestHash} ended ${HAND_OVER_ATTEMPTS} times while the rebuild was being handed to them; try again`);
}
