/** The job's status changes: compare-and-set in D1, which keeps the job's event log, mirrored in the runner's state. */
import { JOB_TRANSITIONS, type JobStatus } from "../src/domain/job";
import type { JobEvent } from "../src/store/job-events";
import { logLine } from "../src/domain/log-line";
import { type TransitionOptions, type TransitionResult, transitionJob } from "../src/store/jobs";
import type { RunnerContext } from "./runner-context";
import type { RunnerJob, RunnerState } from "./runner-storage";

/**
 * Compare-and-set of the job's status, mirrored to D1 with its event. When D1
 * disagrees (the row changed or vanished), the runner adopts D1's status.
 */
export async function transition(
  runner: RunnerContext,
  job: RunnerJob,
  state: RunnerState,
  to: JobStatus,
  event: JobEvent,
  reason?: string,
  providerName?: string,
): Promise<boolean> {
  const result = await transitionJob(runner.db, job.jobId, JOB_TRANSITIONS[to], to, transitionOptions(event, reason, providerName));
  if (result.applied) {
    logTransition(job.jobId, job.dataset, to, reason, providerName);
    await runner.atPhase("runner:status-mirrored", { jobId: job.jobId, status: to });
  }
  state.status = result.status ?? "FAILED";
  await runner.storage.saveState(state);
  return result.applied;
}

/** A transition in D1 alone, for a job the runner never loaded. */
export async function mirror(runner: RunnerContext, jobId: number, to: JobStatus, event: JobEvent, reason?: string): Promise<TransitionResult> {
  const result = await transitionJob(runner.db, jobId, JOB_TRANSITIONS[to], to, transitionOptions(event, reason));
  if (result.applied) logTransition(jobId, undefined, to, reason);
  return result;
}

function transitionOptions(event: JobEvent, reason?: string, providerName?: string): TransitionOptions {
  return { event, ...(reason === undefined ? {} : { reason }), ...(providerName === undefined ? {} : { providerName }) };
}

function logTransition(jobId: number, dataset: string | undefined, to: JobStatus, reason?: string, provider?: string): void {
  console.log(logLine("job_transition", { job_id: jobId, dataset, to, reason, provider }));
}

export async function failJob(runner: RunnerContext, job: RunnerJob, state: RunnerState, reason: string): Promise<void> {
  state.probe = null;
  await transition(runner, job, state, "FAILED", { kind: "failed", detail: { reason } }, reason);
  runner.storage.clearSteps();
  await runner.alarms.deleteAlarm();
}
