import { jobRunnerStub } from "../../durable-objects/job-runner";
import type { BlockRange } from "../domain/block-range";
import type { EndBlock } from "../domain/end-block";
import { dumpDescriptor } from "../domain/job";
import { logLine } from "../domain/log-line";
import { jobSettings } from "../domain/job-settings";
import type { Revision } from "../domain/revision";
import type { Env } from "../env";
import { chooseWorker, LIVE_WORKER_MS, type WorkerSelector } from "../domain/worker";
import { type Db, openDb } from "../store/db";
import { type ScheduleOutcome, scheduleJob } from "../store/scheduling";
import { listLiveWorkerNodeIds } from "../store/workers";
import { resolveDatasetRevision, revisionManifest, revisionTables } from "./dataset-params";
import { ApiError } from "./errors";
import { refuseNonIncremental } from "./valid-manifest";

export interface RevisionDeploy {
  namespace: string;
  name: string;
  revision: Revision;
  endBlock: EndBlock;
  parallelism: number;
  /** Check every fetched block before writing it (deploy's `verify`); false when absent. */
  verify?: boolean;
  /** Deploy's `worker_id`: which live worker the job is meant for. */
  worker?: WorkerSelector;
  /** The schedule deploying, for the job's `scheduled` event. */
  schedule?: Record<string, unknown>;
  /** A partition rebuild: the job extracts these ranges again, and nothing else. */
  rebuild?: readonly BlockRange[];
}

/**
 * The live worker a `worker_id` selector picks. Steps run in whichever queue consumer Cloudflare hands them
 * to, so the choice is checked and recorded with the job rather than enforced step by step.
 */
async function chosenWorker(db: Db, selector: WorkerSelector): Promise<string> {
  const choice = chooseWorker(selector, await listLiveWorkerNodeIds(db, LIVE_WORKER_MS), Math.random);
  if (choice.ok) return choice.nodeId;
  // The original answers 500 SCHEDULER_ERROR for a glob that matches no live worker; a request must never be
  // answered 5xx here (README, differences), and it is the caller's selector that failed, so both forms are a 400.
  const named = selector.kind === "prefix" ? `${selector.prefix}*` : selector.nodeId;
  throw new ApiError("WORKER_NOT_AVAILABLE", `no worker matching worker_id '${named}' has sent a heartbeat in the last ${LIVE_WORKER_MS / 1000} s`);
}

/**
 * A deploy, by request or by a schedule: the job is created SCHEDULED and its
 * runner started, or the SCHEDULED or RUNNING job of the same manifest is
 * returned (`existing`). Throws ApiError DATASET_NOT_FOUND or SCHEDULER_ERROR
 * before writing anything.
 */
export async function deployRevision(env: Env, deploy: RevisionDeploy): Promise<ScheduleOutcome> {
  const { namespace, name } = deploy;
  const db = openDb(env.DB);
  const resolved = await resolveDatasetRevision(db, deploy);
  // A manifest registered before its SQL was checked is refused here, before anything is written.
  const manifest = await revisionManifest(env.BUCKET, resolved);
  if (manifest) refuseNonIncremental(manifest);
  // Checked before anything is written: a misconfigured Worker schedules nothing.
  const settings = jobSettings(env);
  if (!settings.ok) throw new ApiError("SCHEDULER_ERROR", settings.reason);
  const workerId = deploy.worker === undefined ? undefined : await chosenWorker(db, deploy.worker);
  const descriptor = dumpDescriptor({
    endBlock: deploy.endBlock,
    maxWriters: deploy.parallelism,
    datasetNamespace: namespace,
    datasetName: name,
    manifestHash: resolved.hash,
    verify: deploy.verify ?? false,
    ...(workerId === undefined ? {} : { workerId }),
    ...(deploy.rebuild === undefined ? {} : { rebuild: deploy.rebuild }),
  });
  const scheduled = await scheduleJob(db, {
    manifestHash: resolved.hash,
    datasetNamespace: namespace,
    datasetName: name,
    tables: await revisionTables(env.BUCKET, resolved),
    bucketName: env.BUCKET_NAME,
    descriptor,
    ...(deploy.schedule ? { schedule: deploy.schedule } : {}),
  });
  if (scheduled.outcome === "scheduled") {
    console.log(logLine("job_transition", { job_id: scheduled.jobId, dataset: `${namespace}/${name}`, to: "SCHEDULED", by: deploy.schedule ? "schedule" : "request" }));
    await jobRunnerStub(env.JOB_RUNNER, scheduled.jobId).start(scheduled.jobId, settings.settings.stepSize, settings.settings.maxAttempts, settings.settings.headPollMs);
  }
  return scheduled;
}
