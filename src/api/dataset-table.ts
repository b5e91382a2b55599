import { datasetKind, kindTables } from "../domain/dataset-kinds/registry";
import type { Manifest } from "../domain/manifest/kinds";
import type { Revision } from "../domain/revision";
import type { Db } from "../store/db";
import { pinDependencies } from "../store/dependency-pins";
import { findActiveLocation, type Location } from "../store/locations";
import type { ResolvedRevision } from "../store/revisions";
import { resolveDatasetRevision, revisionManifest } from "./dataset-params";
import { ApiError } from "./errors";

/** A table of a dataset revision, as the table routes (files, partitions) address it. */
export interface ResolvedTable {
  readonly resolved: ResolvedRevision;
  readonly manifest: Manifest;
  /** The first block of the dataset's chain (a derived dataset's from its dependencies). */
  readonly startBlock: number;
  /** The table's active location; undefined before the first deploy. */
  readonly location: Location | undefined;
}

/** The first block a dataset's jobs extract from: its own, or a derived dataset's from its dependencies as they resolve now. */
export async function datasetStartBlock(db: Db, bucket: R2Bucket, manifest: Manifest): Promise<number> {
  const kind = datasetKind(manifest.kind);
  const pinned = await pinDependencies(db, bucket, kind.dependencies(manifest));
  const chains = pinned.ok ? Object.fromEntries(Object.entries(pinned.datasets).map(([alias, dataset]) => [alias, dataset.chain])) : {};
  return kind.chain(manifest, chains).startBlock;
}

/** The start block of the manifest a location belongs to; 0 when that manifest is no longer stored. */
export async function locationStartBlock(db: Db, bucket: R2Bucket, location: Location): Promise<number> {
  const manifest = await revisionManifest(bucket, { hash: location.manifestHash, kind: "" });
  return manifest ? datasetStartBlock(db, bucket, manifest) : 0;
}

/** `{namespace}/{name}/versions/{revision}/tables/{table}`: 404 DATASET_NOT_FOUND or TABLE_NOT_FOUND when it names none. */
export async function resolveDatasetTable(
  db: Db,
  bucket: R2Bucket,
  params: { namespace: string; name: string; revision: Revision; table: string },
): Promise<ResolvedTable> {
  const { namespace, name, table } = params;
  const resolved = await resolveDatasetRevision(db, params);
  const manifest = await revisionManifest(bucket, resolved);
  if (!manifest || !kindTables(manifest).some((entry) => entry.name === table)) {
    throw new ApiError("TABLE_NOT_FOUND", `dataset ${namespace}/${name} has no table ${table}`);
  }
  return {
    resolved,
    manifest,
    startBlock: await datasetStartBlock(db, bucket, manifest),
    location: await findActiveLocation(db, resolved.hash, table),
  };
}
