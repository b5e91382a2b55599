import { JobRunner, jobRunnerStub, stepCoordinator } from "../durable-objects/job-runner";
import { createApp } from "./api/app";
import { runDueSchedules } from "./api/schedule-sweep";
import { type AtPhase, ignorePhase } from "./domain/crash-points";
import { jobSettings } from "./domain/job-settings";
import type { ProbeContext, StepContext, StepCoordinator, StepMessage } from "./domain/step-protocol";
import { derivedSource } from "./derive/derived-source";
import { stepRequestBudget } from "./domain/rpc-tuning";
import { workerMetadataFromVersion } from "./domain/worker";
import { type Env, envVariables } from "./env";
import { handleStepMessage } from "./extract/consumer";
import { invocationConnections } from "./extract/limits";
import { openDb } from "./store/db";
import { dailyGcHour, runScheduledGc } from "./store/gc-runs";
import { listUnfinishedJobIds } from "./store/scheduling";

export { JobRunner };

const app = createApp();

/** This isolate's identity as an executor of steps, made on first use (no randomness at global scope). */
let nodeId: string | undefined;
function consumerNodeId(): string {
  nodeId ??= `consumer-${crypto.randomUUID().slice(0, 8)}`;
  return nodeId;
}

/**
 * Cron's reconcile: every unfinished job's runner gets its alarm back if it
 * lost it, and a job whose deploy died before starting its runner is started
 * with the settings deploy uses (left alone while those vars are invalid, as
 * deploy then schedules nothing either).
 */
async function reconcileJobs(env: Env): Promise<void> {
  const settings = jobSettings(env);
  for (const jobId of await listUnfinishedJobIds(openDb(env.DB))) {
    const runner = jobRunnerStub(env.JOB_RUNNER, jobId);
    if (settings.ok) await runner.poke(jobId, settings.settings.stepSize, settings.settings.maxAttempts, settings.settings.headPollMs);
    else await runner.poke();
  }
}

/**
 * The Worker's handlers around the steps' crash-point hook (src/domain/crash-points.ts). The deployed Worker is
 * the default export below, with `ignorePhase`; the crash campaign's entry (test/chaos/crash/crash-entry.ts)
 * builds its own with a hook that kills the invocation.
 */
export function createWorker(atPhase: AtPhase) {
  return {
    fetch: (request, env, ctx) => app.fetch(request, env, ctx),

    async queue(batch, env) {
      const db = openDb(env.DB);
      const deps = {
        db,
        bucket: env.BUCKET,
        variables: envVariables(env),
        worker: { nodeId: consumerNodeId(), metadata: workerMetadataFromVersion(env.VERSION) },
        coordinator: (jobId: number): StepCoordinator => stepCoordinator(env.JOB_RUNNER, jobId),
        requestBudget: stepRequestBudget(env.AMP_SUBREQUEST_LIMIT, batch.messages.length),
        datasetSource: (context: ProbeContext | StepContext) => derivedSource(db, env.BUCKET, context),
        // The limit is the invocation's, so the batch's steps share one (src/extract/limits.ts says why not the isolate's).
        connections: invocationConnections(),
        atPhase,
      };
      // The steps of a batch run side by side: wrangler dev delivers one batch at a time, so this is
      // where `parallelism` becomes concurrency locally. A failure retries its own message only.
      await Promise.all(
        batch.messages.map(async (message) => {
          try {
            await handleStepMessage(message.body as StepMessage, deps);
            message.ack();
          } catch (error) {
            console.error(`step message ${message.id} failed, to be retried: ${error instanceof Error ? error.message : String(error)}`);
            message.retry();
          }
        }),
      );
    },

    async scheduled(controller, env, ctx) {
      ctx.waitUntil(reconcileJobs(env));
      // The trigger's scheduled time, not the clock: a late run still claims the due times up to when it was meant to run.
      ctx.waitUntil(runDueSchedules(env, new Date(controller.scheduledTime)));
      ctx.waitUntil(runScheduledGc(openDb(env.DB), env.BUCKET, dailyGcHour(env.AMP_GC_DAILY_HOUR_UTC), new Date(controller.scheduledTime)));
    },
  } satisfies ExportedHandler<Env, StepMessage>;
}

export default createWorker(ignorePhase);
