import { jobRunnerStub } from "../../durable-objects/job-runner";
import type { EndBlock } from "../domain/end-block";
import { dumpDescriptor } from "../domain/job";
import { logLine } from "../domain/log-line";
import { jobSettings } from "../domain/job-settings";
import type { Revision } from "../domain/revision";
import type { Env } from "../env";
import { openDb } from "../store/db";
import { type ScheduleOutcome, scheduleJob } from "../store/scheduling";
import { resolveDatasetRevision, revisionTables } from "./dataset-params";
import { ApiError } from "./errors";

export interface RevisionDeploy {
  namespace: string;
  name: string;
  revision: Revision;
  endBlock: EndBlock;
  parallelism: number;
  /** The schedule deploying, for the job's `scheduled` event. */
  schedule?: Record<string, unknown>;
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
  // Checked before anything is written: a misconfigured Worker schedules nothing.
  const settings = jobSettings(env);
  if (!settings.ok) throw new ApiError("SCHEDULER_ERROR", settings.reason);
  const descriptor = dumpDescriptor({
    endBlock: deploy.endBlock,
    maxWriters: deploy.parallelism,
    datasetNamespace: namespace,
    datasetName: name,
    manifestHash: resolved.hash,
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
    await jobRunnerStub(env.JOB_RUNNER, scheduled.jobId).start(scheduled.jobId, settings.settings.stepSize, settings.settings.maxAttempts);
  }
  return scheduled;
}
