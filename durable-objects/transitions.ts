/** The job's status changes: compare-and-set in D1, which keeps the job's event log, mirrored in the runner's state. */
import { JOB_TRANSITIONS, type JobStatus } from "../src/domain/job";
import type { JobEvent } from "../src/store/job-events";
import { type TransitionResult, transitionJob } from "../src/store/jobs";
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
  const result = await mirror(runner, job.jobId, to, event, reason, providerName);
  state.status = result.status ?? "FAILED";
  await runner.storage.saveState(state);
  return result.applied;
}

/** A transition in D1 alone, for a job the runner never loaded. */
export function mirror(
  runner: RunnerContext,
  jobId: number,
  to: JobStatus,
  event: JobEvent,
  reason?: string,
  providerName?: string,
): Promise<TransitionResult> {
  return transitionJob(runner.db, jobId, JOB_TRANSITIONS[to], to, {
    event,
    ...(reason === undefined ? {} : { reason }),
    ...(providerName === undefined ? {} : { providerName }),
  });
}

export async function failJob(runner: RunnerContext, job: RunnerJob, state: RunnerState, reason: string): Promise<void> {
  state.probe = null;
  await transition(runner, job, state, "FAILED", { kind: "failed", detail: { reason } }, reason);
  runner.storage.clearSteps();
  await runner.alarms.deleteAlarm();
}
