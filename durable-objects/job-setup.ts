/** Reads what a JobRunner needs about its job from D1 and R2 when the job starts. */
import { parseDumpDescriptor } from "../src/domain/job";
import { parseManifest } from "../src/domain/manifest/parse";
import type { Db } from "../src/store/db";
import { listJobLocations } from "../src/store/scheduling";
import { getJob } from "../src/store/jobs";
import { readManifestObject } from "../src/store/manifests";
import type { RunnerJob } from "./runner-storage";

export type JobSetup = { ok: true; job: RunnerJob } | { ok: false; reason: string; missing?: boolean };

export async function loadJobSetup(db: Db, bucket: R2Bucket, jobId: number, stepSize: number): Promise<JobSetup> {
  const row = await getJob(db, jobId);
  if (!row) return { ok: false, reason: `job ${jobId} does not exist`, missing: true };
  const descriptor = parseDumpDescriptor(row.descriptor);
  if (!descriptor.ok) return { ok: false, reason: descriptor.reason };
  const text = await readManifestObject(bucket, row.manifestHash);
  if (text === null) return { ok: false, reason: `manifest ${row.manifestHash} is missing from the object store` };
  const parsed = parseManifest(JSON.parse(text));
  if (!parsed.ok) return { ok: false, reason: `manifest ${row.manifestHash}: ${parsed.message}` };
  const manifest = parsed.manifest;
  if (manifest.kind === "manifest") return { ok: false, reason: "derived datasets (kind manifest) are not extracted by amp-edge yet" };
  const locations = await listJobLocations(db, jobId);
  return {
    ok: true,
    job: {
      jobId,
      manifestHash: row.manifestHash,
      datasetKind: manifest.kind,
      network: manifest.network,
      startBlock: manifest.start_block,
      finalizedOnly: manifest.finalized_blocks_only,
      endBlock: descriptor.job.endBlock,
      parallelism: descriptor.job.maxWriters,
      stepSize,
      locations,
    },
  };
}
