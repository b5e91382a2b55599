/** What the parts of a JobRunner share, so each can live in a module of its own. */
import type { AtPhase } from "../src/domain/crash-points";
import type { JobStatus } from "../src/domain/job";
import type { StepSourceContext } from "../src/domain/step-protocol";
import type { RunnerJob, RunnerStorage } from "./runner-storage";
import type { Db } from "../src/store/db";

/**
 * The bindings and vars a JobRunner uses, as wrangler.toml declares them for
 * the Worker: a narrower view of its environment, so the runner depends on
 * nothing above its layer.
 */
export type RunnerEnv = {
  readonly DB: D1Database;
  readonly BUCKET: R2Bucket;
  readonly STEPS: Queue<unknown>;
  readonly VERSION?: WorkerVersionMetadata;
  /** Vars and secrets: the `${VAR}` placeholders of provider configs resolve against them. */
  readonly [name: string]: unknown;
};

export interface RunnerContext {
  readonly storage: RunnerStorage;
  /** The Durable Object's own storage, for its alarm: the runner's only clock. */
  readonly alarms: Pick<DurableObjectStorage, "setAlarm" | "deleteAlarm">;
  readonly db: Db;
  readonly env: RunnerEnv;
  /** Reached after a D1 write whose storage write is still to come (src/domain/crash-points.ts); a no-op but in the crash campaign. */
  readonly atPhase: AtPhase;
}

/**
 * What became of a consumer's report: `refused` (a stale lease, or a job that
 * no longer takes it), `recorded` (the job goes on, so it is driven forward)
 * or `failedJob` (the report ended the job, so there is nothing to drive).
 */
export type ReportOutcome = "refused" | "recorded" | "failedJob";

/** Claims, retries and probes are for a RUNNING job only; a stopping one just lets claimed steps finish. */
export function isActive(status: JobStatus): boolean {
  return status === "RUNNING";
}

/** Where the job's steps and probes read their blocks from, as the consumers are told. */
export function sourceContext(job: RunnerJob): StepSourceContext {
  return {
    jobId: job.jobId,
    manifestHash: job.manifestHash,
    datasetKind: job.datasetKind,
    provider: job.provider,
    dependencies: job.dependencies ?? {},
    network: job.network,
    startBlock: job.startBlock,
  };
}
