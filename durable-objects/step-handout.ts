/** Extraction steps: handing them out with leases, and the consumers' claims and reports. */
import type { BlockRange } from "../src/domain/block-range";
import { isTerminal } from "../src/domain/job";
import { intersection } from "../src/domain/block-range";
import { settleForced, settleRebuild, tableMissing } from "../src/domain/job-plan";
import type { StepContext, StepFailure, StepMessage, StepResult, StepTable } from "../src/domain/step-protocol";
import { logLine } from "../src/domain/log-line";
import { appendJobEvent } from "../src/store/job-events";
import { extraWork, invalidateStaleFiles, markClaim, newestInvalidationId, refreshAllInvalidations } from "./partition-work";
import { heartbeat, recordFiles, saveProgress } from "./progress-mirror";
import { type ReportOutcome, type RunnerContext, isActive, sourceContext } from "./runner-context";
import type { RunnerJob, RunnerState, RunnerStorage } from "./runner-storage";
import { QUEUE_LEASE_MS, RUN_LEASE_MS, retryDelay } from "./runner-timing";
import { failJob } from "./transitions";

/** Messages one sendBatch call may carry (Cloudflare Queues' limit). */
const SEND_BATCH_LIMIT = 100;

export interface HandOut {
  readonly id: number;
  readonly range: BlockRange;
  readonly attempt: number;
}

/**
 * Leases the steps and sends their messages in one batch, so a queue that
 * delivers batches (wrangler dev's delivers one batch at a time) gets them
 * together and its consumer can run them side by side.
 */
export async function handOut(runner: RunnerContext, job: RunnerJob, steps: readonly HandOut[], now: number): Promise<void> {
  if (steps.length === 0) return;
  const messages = steps.map(({ id, range, attempt }) => {
    const lease = crypto.randomUUID();
    runner.storage.putStep({ id, range, attempt, lease, state: "leased", deadline: now + QUEUE_LEASE_MS });
    return { body: { kind: "extract", jobId: job.jobId, stepId: id, lease } satisfies StepMessage };
  });
  for (let i = 0; i < messages.length; i += SEND_BATCH_LIMIT) await runner.env.STEPS.sendBatch(messages.slice(i, i + SEND_BATCH_LIMIT));
}

/** Steps whose lease ran out are handed out again right away. */
export function reclaimExpired(storage: RunnerStorage, now: number): void {
  for (const step of storage.steps()) {
    if (step.state !== "waiting" && step.deadline <= now) storage.putStep({ ...step, state: "waiting", deadline: now });
  }
}

/** A step's current lease claims it, again too when its message is redelivered (its first consumer may have died). */
export async function onStepClaim(
  runner: RunnerContext,
  job: RunnerJob,
  state: RunnerState,
  stepId: number,
  lease: string,
): Promise<StepContext | null> {
  const step = runner.storage.step(stepId);
  if (!isActive(state.status) || !step || step.lease !== lease || step.state === "waiting") return null;
  runner.storage.putStep({ ...step, state: "claimed", deadline: Date.now() + RUN_LEASE_MS });
  // The step's shares are computed with the invalidations D1 has now; a newer one is caught when it reports.
  await refreshAllInvalidations(runner, job);
  markClaim(state, stepId, newestInvalidationId(runner, job));
  await runner.storage.saveState(state);
  await appendJobEvent(runner.db, job.jobId, { kind: "step_started", detail: { range: step.range, attempt: step.attempt } });
  await heartbeat(runner, state);
  return {
    ...sourceContext(job),
    stepId,
    attempt: step.attempt,
    range: step.range,
    kindTables: job.kindTables,
    finalizedOnly: job.finalizedOnly,
    verify: job.verify,
    tables: stepTables(runner.storage, job, state, step.range),
    sourceHints: (job.provider && state.sourceHints?.[job.provider.name]) ?? null,
  };
}

/** The claiming consumer's heartbeat: its current lease runs on while the job has not ended (a stopping job waits for it). */
export function onStepRenew(storage: RunnerStorage, state: RunnerState, stepId: number, lease: string, now: number): boolean {
  const step = storage.step(stepId);
  if (isTerminal(state.status) || !step || step.lease !== lease || step.state !== "claimed") return false;
  storage.putStep({ ...step, deadline: now + RUN_LEASE_MS });
  return true;
}

/**
 * Records a step's files and completes the step. A report of an expired
 * lease still counts its files (they are registered data), but completes
 * the step only if that leaves none of the step's blocks missing; otherwise
 * the current lease still has work to do. A step completes once: a second
 * report finds it gone. A job that has ended takes no more reports.
 */
export async function onStepResult(
  runner: RunnerContext,
  job: RunnerJob,
  state: RunnerState,
  stepId: number,
  lease: string,
  result: StepResult,
): Promise<ReportOutcome> {
  if (isTerminal(state.status)) return "refused";
  await recordFiles(runner, job, result.files);
  for (const locationId of await invalidateStaleFiles(runner, state, stepId, result.files)) await saveProgress(runner, job, locationId);
  const step = runner.storage.step(stepId);
  if (!step) return "refused";
  const extracted = stepTables(runner.storage, job, state, step.range).every((table) => table.ranges.length === 0);
  if (step.lease !== lease && !extracted) return "refused";
  runner.storage.deleteStep(stepId);
  state.forced = [...settleForced(state.forced, step.range)];
  if (state.rebuild) state.rebuild = [...settleRebuild(state.rebuild, job.locations.map((location) => runner.storage.table(location.locationId)))];
  if (result.sourceHints && job.provider) state.sourceHints = { ...state.sourceHints, [job.provider.name]: result.sourceHints };
  await runner.storage.saveState(state);
  const detail = {
    range: step.range,
    files: result.files.length,
    rows: result.files.reduce((sum, f) => sum + f.rows, 0),
    bytes: result.files.reduce((sum, f) => sum + f.bytes, 0),
    duration_ms: Math.round(result.durationMs),
    ...(result.requests === undefined ? {} : { requests: result.requests }),
    ...(result.heldBytes === undefined ? {} : { held_mb: Math.round((result.heldBytes / 2 ** 20) * 10) / 10 }),
  };
  await appendJobEvent(runner.db, job.jobId, { kind: "step_completed", detail });
  await runner.atPhase("runner:step-logged", { jobId: job.jobId });
  console.log(logLine("step_completed", { job_id: job.jobId, dataset: job.dataset, ...detail, attempt: step.attempt }));
  return "recorded";
}

/** Only the consumer that claimed the step with its current lease can fail it, once. */
export async function onStepFailure(
  runner: RunnerContext,
  job: RunnerJob,
  state: RunnerState,
  stepId: number,
  lease: string,
  failure: StepFailure,
): Promise<ReportOutcome> {
  const step = runner.storage.step(stepId);
  if (!step || step.lease !== lease || step.state !== "claimed") return "refused";
  const detail = { range: step.range, reason: failure.reason, error: failure.error, attempt: step.attempt, retryable: failure.retryable };
  await appendJobEvent(runner.db, job.jobId, { kind: "step_failed", detail });
  console.log(logLine("step_failed", { job_id: job.jobId, dataset: job.dataset, provider: job.provider?.name, ...detail }));
  if (!isActive(state.status)) {
    // Stopping: nothing is retried.
    runner.storage.deleteStep(stepId);
  } else if (failure.retryable && step.attempt < job.maxAttempts) {
    runner.storage.putStep({ ...step, state: "waiting", deadline: Date.now() + retryDelay(step.attempt) });
  } else {
    const reason = `step ${step.range.start}..=${step.range.end} failed after ${step.attempt} attempt(s): ${failure.reason}`;
    await failJob(runner, job, state, reason);
    return "failedJob";
  }
  return "recorded";
}

/**
 * Each table's share of a step: the step's blocks it does not have yet (tables may progress apart). Files of
 * blocks an invalidation covers are named after the newest such invalidation: a rebuild of a range whose data
 * did not change would otherwise get the invalidated file's name, and with it that file's row.
 */
function stepTables(storage: RunnerStorage, job: RunnerJob, state: RunnerState, range: BlockRange): StepTable[] {
  return job.locations.map((location) => {
    const table = storage.table(location.locationId);
    const ranges = tableMissing(range, table, extraWork(job, state));
    const covering = table.invalidations.filter((i) => intersection([i.range], ranges).length > 0);
    const rebuildOf = covering.reduce((max, i) => Math.max(max, i.id), 0);
    return {
      table: location.table,
      locationId: location.locationId,
      path: location.path,
      ranges,
      ...(rebuildOf === 0 ? {} : { rebuildOf }),
    };
  });
}
