/** The Worker's bindings and vars, as declared in wrangler.toml. */
export interface Env {
  DB: D1Database;
  BUCKET: R2Bucket;
  /** The name of BUCKET's bucket, for location URLs. */
  BUCKET_NAME: string;
  /** The JobRunner Durable Objects: durable-objects/job-runner.ts's jobRunnerStub gives a typed stub. */
  JOB_RUNNER: DurableObjectNamespace;
  STEPS: Queue<unknown>;
  VERSION?: WorkerVersionMetadata;
  /** Read and write token. */
  AMP_ADMIN_TOKEN?: string;
  /** Read-only token. */
  AMP_READ_TOKEN?: string;
  /** "disabled" lets the API run without tokens (local development only). */
  AMP_AUTH?: string;
  /** Blocks per extraction step (default 1000), checked when a job is scheduled. */
  AMP_STEP_SIZE?: string;
  /** Tries of a failing step or chain-head read before the job fails (default 10), checked when a job is scheduled. */
  AMP_STEP_MAX_ATTEMPTS?: string;
  /** Milliseconds between head reads of a job waiting for new blocks (default 10000), checked when a job is scheduled. */
  AMP_HEAD_POLL_MS?: string;
  /** Subrequests one invocation may make (default 10000, the paid plan's; a free plan sets 50), shared by the steps of a queue batch. */
  AMP_SUBREQUEST_LIMIT?: string;
  /** The UTC hour (0..23) from which the Cron trigger runs the day's garbage collection; unset: no daily run. */
  AMP_GC_DAILY_HOUR_UTC?: string;
}

/** The string vars and secrets of the environment, for `${VAR}` placeholders in provider configs. */
export function envVariables(env: Env): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}
