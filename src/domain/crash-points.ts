/**
 * The moments between two durable effects of a step (the queue consumer) and
 * of a job's runner, named once: where a crash leaves the most half-done
 * state, and where the crash campaign (test/chaos/crash/) kills the
 * invocation. The code passes each point to an injected `AtPhase` hook.
 * Production's entry (src/index.ts) and JobRunner pass `ignorePhase`, which
 * does nothing; only the campaign's own Worker entry
 * (test/chaos/crash/crash-entry.ts, never bundled by `wrangler deploy`, whose
 * main is src/index.ts) passes a hook that crashes. No var or binding turns
 * it on in a deployed Worker.
 */
import type { JobStatus } from "./job";

/** A step's points, in the order a step meets them. */
export const STEP_CRASH_POINTS = [
  /** A chunk of blocks came from the provider; nothing of it is written. */
  "step:fetched",
  /** A part of a table's multipart upload is in R2; the object is not complete. */
  "step:part-uploaded",
  /** A table's object is complete in R2; it has no file row. */
  "step:object-put",
  /** A table's file row is in D1; the runner does not know it. */
  "step:file-registered",
  /** Every file row is in D1; the report to the runner is not sent. */
  "step:before-report",
] as const;

/** A runner's points: each follows one of its D1 writes and comes before the storage write that goes with it. */
export const RUNNER_CRASH_POINTS = [
  /** A status change is in D1 (the jobs row and its event); the runner's own state still has the old status. */
  "runner:status-mirrored",
  /** A table's progress row is in D1 after a step's report; the step is still in the runner's storage. */
  "runner:progress-saved",
  /** The step_completed event is in D1; the runner has not handed out the next steps. */
  "runner:step-logged",
  /** A chain head read is in D1 (chain_heads); the probe is still pending in the runner's state. */
  "runner:head-recorded",
] as const;

export type StepCrashPoint = (typeof STEP_CRASH_POINTS)[number];
export type RunnerCrashPoint = (typeof RUNNER_CRASH_POINTS)[number];
export type CrashPoint = StepCrashPoint | RunnerCrashPoint;

/** Where in a job a point was reached. */
export interface PhasePlace {
  readonly jobId: number;
  /** The table whose file it concerns (step:part-uploaded, step:object-put, step:file-registered). */
  readonly table?: string;
  /** The status a status change goes to (runner:status-mirrored). */
  readonly status?: JobStatus;
}

/** Called at each point; the work goes on when it resolves. A crashing hook never lets it go on. */
export type AtPhase = (point: CrashPoint, place: PhasePlace) => Promise<void>;

/** The hook as a step's code sees it: the job is the step's, bound by the consumer. */
export type StepPhase = (point: StepCrashPoint, table?: string) => Promise<void>;

/** Production's hook: every point passes. */
export const ignorePhase: AtPhase = async () => {};
