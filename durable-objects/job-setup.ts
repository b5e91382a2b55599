/** Reads what a JobRunner needs about its job from D1 and R2 when the job starts. */
import { datasetKind } from "../src/domain/dataset-kinds/registry";
import { parseDumpDescriptor } from "../src/domain/job";
import type { JobSettings } from "../src/domain/job-settings";
import { parseManifest } from "../src/domain/manifest/parse";
import type { Db } from "../src/store/db";
import { listJobLocations } from "../src/store/scheduling";
import { pinDependencies } from "../src/store/dependency-pins";
import { getJob } from "../src/store/jobs";
import { readManifestObject } from "../src/store/manifests";
import type { RunnerJob } from "./runner-storage";

/**
 * `failJob`: the job cannot run and must be failed with `reason`; false when
 * there is nothing to take charge of (no such job, or it left SCHEDULED
 * without its runner, e.g. stopped before it started).
 */
export type JobSetup = { ok: true; job: RunnerJob } | { ok: false; reason: string; failJob: boolean };

export async function loadJobSetup(db: Db, bucket: R2Bucket, jobId: number, settings: JobSettings): Promise<JobSetup> {
  const row = await getJob(db, jobId);
  if (!row) return { ok: false, reason: `job ${jobId} does not exist`, failJob: false };
  if (row.status !== "SCHEDULED") return { ok: false, reason: `job ${jobId} is ${row.status}, not SCHEDULED`, failJob: false };
  const fail = (reason: string): JobSetup => ({ ok: false, reason, failJob: true });
  const descriptor = parseDumpDescriptor(row.descriptor);
  if (!descriptor.ok) return fail(descriptor.reason);
  const text = await readManifestObject(bucket, row.manifestHash);
  if (text === null) return fail(`manifest ${row.manifestHash} is missing from the object store`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail(`manifest ${row.manifestHash} in the object store is not valid JSON`);
  }
  const parsed = parseManifest(json);
  if (!parsed.ok) return fail(`manifest ${row.manifestHash}: ${parsed.message}`);
  const manifest = parsed.manifest;
  const kind = datasetKind(manifest.kind);
  if (kind.cannotRun !== null) return fail(kind.cannotRun);
  // Pinned once: every step and probe of the job reads the manifests its dependencies name now.
  const pinned = await pinDependencies(db, bucket, kind.dependencies(manifest));
  if (!pinned.ok) return fail(pinned.reason);
  const chain = kind.chain(manifest, Object.fromEntries(Object.entries(pinned.datasets).map(([alias, dataset]) => [alias, dataset.chain])));
  const locations = await listJobLocations(db, jobId);
  return {
    ok: true,
    job: {
      jobId,
      manifestHash: row.manifestHash,
      dataset: `${descriptor.job.datasetNamespace}/${descriptor.job.datasetName}`,
      datasetKind: manifest.kind,
      kindTables: kind.tables(manifest),
      provider: null,
      dependencies: Object.fromEntries(Object.entries(pinned.datasets).map(([alias, dataset]) => [alias, dataset.pin])),
      network: chain.network,
      startBlock: chain.startBlock,
      finalizedOnly: chain.finalizedOnly,
      verify: descriptor.job.verify,
      endBlock: descriptor.job.endBlock,
      parallelism: descriptor.job.maxWriters,
      stepSize: settings.stepSize,
      maxAttempts: settings.maxAttempts,
      headPollMs: settings.headPollMs,
      locations,
      ...(descriptor.job.rebuild === undefined ? {} : { rebuildRanges: [...descriptor.job.rebuild] }),
    },
  };
}
