/**
 * A raw (or derived) table's rebuild also rebuilds the derived tables reading it that were invalidated with it
 * (`POST .../partitions/invalidate` invalidates them over the same blocks): each dependant's invalidated files
 * that overlap the blocks being rebuilt are handed to a job of its own manifest, as its own rebuild would. That
 * job derives them only once the dependency's canonical chain holds them again: a derived job's head is the lowest
 * canonical end of the tables it reads, and rebuild ranges are extracted up to the head only.
 */
import { type BlockRange, intersection, normalize } from "../domain/block-range";
import { isInvalidated } from "../domain/canonical-chain";
import { rebuildRanges } from "../domain/partitions";
import type { Env } from "../env";
import type { Db } from "../store/db";
import { readLocationChain } from "../store/invalidations";
import type { Location } from "../store/locations";
import { locationStartBlock } from "./dataset-table";
import { rebuildPartitions } from "./partition-actions";
import { dependantLocations } from "./partition-dependants";

/** One dependant table handed to a job. */
export interface DependantRebuild {
  readonly location: Location;
  readonly jobId: number;
  readonly ranges: readonly BlockRange[];
}

/**
 * The dependant's blocks to rebuild: each invalidated file that overlaps `rebuilt`, whole, where its blocks do not
 * count. Files are taken one by one, so an invalidated file of the dependant next to them but outside `rebuilt`
 * (an invalidation of its own) is left to its own rebuild.
 */
async function dependantRanges(env: Env, db: Db, location: Location, rebuilt: readonly BlockRange[]): Promise<BlockRange[]> {
  const chain = await readLocationChain(db, location.id);
  const startBlock = await locationStartBlock(db, env.BUCKET, location);
  const overlapping = chain.files.filter((file) => isInvalidated(file, chain.invalidations) && intersection([file.range], rebuilt).length > 0);
  return [...normalize(overlapping.flatMap((file) => [...rebuildRanges(chain.files, chain.invalidations, file.range, startBlock)]))];
}

export async function rebuildDependants(
  env: Env,
  db: Db,
  origin: Location,
  rebuilt: readonly BlockRange[],
  options: { parallelism: number; requestedBy: string },
): Promise<DependantRebuild[]> {
  const dependants = await dependantLocations(db, env.BUCKET, env.JOB_RUNNER, { manifestHash: origin.manifestHash, table: origin.tableName });
  const handed: DependantRebuild[] = [];
  for (const location of dependants) {
    const ranges = await dependantRanges(env, db, location, rebuilt);
    if (ranges.length === 0) continue;
    const jobId = await rebuildPartitions(env, db, {
      namespace: location.datasetNamespace,
      name: location.datasetName,
      revision: { kind: "hash", hash: location.manifestHash },
      location,
      ranges,
      parallelism: options.parallelism,
      requestedBy: options.requestedBy,
      after: origin,
    });
    handed.push({ location, jobId, ranges });
  }
  return handed;
}
