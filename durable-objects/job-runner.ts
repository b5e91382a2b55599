import { DurableObject } from "cloudflare:workers";
import type { BlockRange } from "../src/domain/block-range";
import { type CrashPoint, ignorePhase, type PhasePlace } from "../src/domain/crash-points";
import { isTerminal } from "../src/domain/job";
import { DEFAULT_HEAD_POLL_MS, DEFAULT_MAX_ATTEMPTS, DEFAULT_STEP_SIZE } from "../src/domain/job-settings";
import type { PinnedDependency, ProbeContext, ProbeResult, StepContext, StepCoordinator, StepFailure, StepResult } from "../src/domain/step-protocol";
import { openDb } from "../src/store/db";
import { drive } from "./drive";
import { startJob } from "./job-start";
import { type StopResult, stopStarted, stopUnstarted } from "./job-stop";
import { addRebuild, holdForStart, refreshInvalidations } from "./partition-work";
import { onProbeClaim, onProbeFailure, onProbeResult } from "./probes";
import { saveProgress } from "./progress-mirror";
import type { ReportOutcome, RunnerContext, RunnerEnv } from "./runner-context";
import { type RunnerJob, type RunnerState, RunnerStorage } from "./runner-storage";
import { onStepClaim, onStepFailure, onStepRenew, onStepResult } from "./step-handout";
import { retryingResets } from "./reset-retry";

/**
 * One per job: the only writer of that job's state. It resolves the end block,
 * hands out steps (block range x all tables) with leases, at most
 * `parallelism` at once, records what they wrote, follows the chain head of a
 * continuous job, and mirrors every transition to D1 with a compare-and-set.
 * All provider I/O happens in queue consumers (steps and probes), so the
 * runner only schedules and keeps books.
 */
export class JobRunner extends DurableObject<RunnerEnv> implements StepCoordinator {
  private readonly runner: RunnerContext;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: RunnerEnv) {
    super(ctx, env);
    this.runner = {
      storage: new RunnerStorage(ctx.storage),
      alarms: ctx.storage,
      db: openDb(env.DB),
      env,
      atPhase: (point, place) => this.atPhase(point, place),
    };
  }

  /**
   * The runner's crash points (src/domain/crash-points.ts): all pass here. The crash campaign's Worker entry
   * (test/chaos/crash/crash-entry.ts) exports a subclass that resets the object at a chosen one.
   */
  protected atPhase(point: CrashPoint, place: PhasePlace): Promise<void> {
    return ignorePhase(point, place);
  }

  /** Runs mutations one at a time: each reads and writes state across awaits. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Runs `work` on the job one mutation at a time, or answers `absent` when the runner holds no job. */
  private withJob<T>(absent: T, work: (job: RunnerJob, state: RunnerState) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      const job = await this.runner.storage.job();
      const state = await this.runner.storage.state();
      return job && state ? work(job, state) : absent;
    });
  }

  /** Whether a consumer's report was taken; one that leaves the job running moves it forward. */
  private async settle(job: RunnerJob, state: RunnerState, report: Promise<ReportOutcome>): Promise<boolean> {
    const outcome = await report;
    if (outcome === "recorded") await drive(this.runner, job, state);
    return outcome !== "refused";
  }

  /** Takes charge of a freshly scheduled job. Idempotent. */
  start(
    jobId: number,
    stepSize: number = DEFAULT_STEP_SIZE,
    maxAttempts: number = DEFAULT_MAX_ATTEMPTS,
    headPollMs: number = DEFAULT_HEAD_POLL_MS,
  ): Promise<void> {
    return this.serial(() => startJob(this.runner, jobId, { stepSize, maxAttempts, headPollMs }));
  }

  /** `PUT /jobs/{id}/stop`: SCHEDULED or RUNNING → STOP_REQUESTED, then STOPPING and STOPPED as steps drain. */
  requestStop(jobId: number): Promise<StopResult> {
    return this.serial(async () => {
      const job = await this.runner.storage.job();
      const state = await this.runner.storage.state();
      if (!job || !state) return stopUnstarted(this.runner, jobId);
      const result = await stopStarted(this.runner, job, state);
      if (result === "requested") await drive(this.runner, job, state);
      return result;
    });
  }

  /**
   * Cron's reconcile: makes sure an unfinished job has an alarm. Given the
   * job id, it also takes charge of a job whose `start` never arrived (the
   * deploy died between its D1 batch and the call), which would otherwise
   * stay SCHEDULED and block every later deploy of its manifest.
   */
  async poke(jobId?: number, stepSize?: number, maxAttempts?: number, headPollMs?: number): Promise<void> {
    const state = await this.runner.storage.state();
    if (!state) {
      if (jobId !== undefined) await this.start(jobId, stepSize, maxAttempts, headPollMs);
    } else if (!isTerminal(state.status)) {
      // Re-armed at its own time (now if it has none), not only when missing: a local Durable Object keeps its
      // alarm's time across a `wrangler dev` restart but never runs it, and the job stalled.
      await this.ctx.storage.setAlarm((await this.ctx.storage.getAlarm()) ?? Date.now());
    }
  }

  /**
   * `POST .../partitions/invalidate` and `.../rebuild`: the job's tables' invalidations changed in D1, and
   * `rebuild` (possibly empty) are ranges to extract again. The runner reads the invalidations, saves its
   * tables' progress without the invalidated files and takes the ranges on. A job scheduled in D1 whose runner
   * has not started yet takes them too, when it starts (holdForStart). False when the job is not SCHEDULED or
   * RUNNING: it will not extract them, so the caller deploys a job that will.
   */
  takePartitions(jobId: number, rebuild: BlockRange[]): Promise<boolean> {
    return this.serial(async () => {
      const job = await this.runner.storage.job();
      const state = await this.runner.storage.state();
      if (!job || !state) return holdForStart(this.runner, jobId, rebuild);
      if (state.status !== "RUNNING" && state.status !== "SCHEDULED") return false;
      for (const location of job.locations) await refreshInvalidations(this.runner, location.locationId);
      addRebuild(state, rebuild);
      await this.runner.storage.saveState(state);
      if (state.status === "RUNNING") for (const location of job.locations) await saveProgress(this.runner, job, location.locationId);
      await drive(this.runner, job, state);
      return true;
    });
  }

  override async alarm(): Promise<void> {
    await this.withJob(undefined, (job, state) => drive(this.runner, job, state));
  }

  /**
   * Where the job is heading, for progress readers (`GET /jobs/{id}/progress`):
   * null while the runner holds no job. It only reads, so it does not wait
   * behind mutations.
   */
  async target(): Promise<JobTarget | null> {
    const job = await this.runner.storage.job();
    const state = await this.runner.storage.state();
    if (!job || !state) return null;
    return {
      startBlock: job.startBlock,
      continuous: job.endBlock.kind === "continuous",
      endBlock: state.end ?? null,
      head: state.head,
      headAt: state.headAt === 0 ? null : state.headAt,
    };
  }

  /**
   * The manifests a derived job reads, by alias, as pinned when it started (what its files were derived from):
   * `POST .../partitions/invalidate` finds a table's dependants through them. Null while the runner holds no
   * job, or for a job saved before pins existed. Read only, like `target`.
   */
  async pins(): Promise<Record<string, PinnedDependency> | null> {
    return (await this.runner.storage.job())?.dependencies ?? null;
  }

  // ---- consumers ---------------------------------------------------------

  claimStep(stepId: number, lease: string): Promise<StepContext | null> {
    return this.withJob(null, (job, state) => onStepClaim(this.runner, job, state, stepId, lease));
  }

  completeStep(stepId: number, lease: string, result: StepResult): Promise<boolean> {
    return this.withJob(false, (job, state) => this.settle(job, state, onStepResult(this.runner, job, state, stepId, lease, result)));
  }

  renewStep(stepId: number, lease: string): Promise<boolean> {
    return this.withJob(false, async (_job, state) => onStepRenew(this.runner.storage, state, stepId, lease, Date.now()));
  }

  failStep(stepId: number, lease: string, failure: StepFailure): Promise<boolean> {
    return this.withJob(false, (job, state) => this.settle(job, state, onStepFailure(this.runner, job, state, stepId, lease, failure)));
  }

  claimProbe(lease: string): Promise<ProbeContext | null> {
    return this.withJob(null, async (job, state) => onProbeClaim(job, state, lease));
  }

  completeProbe(lease: string, result: ProbeResult): Promise<boolean> {
    return this.withJob(false, (job, state) => this.settle(job, state, onProbeResult(this.runner, job, state, lease, result)));
  }

  failProbe(lease: string, failure: StepFailure): Promise<boolean> {
    return this.withJob(false, (job, state) => this.settle(job, state, onProbeFailure(this.runner, job, state, lease, failure)));
  }
}

/** A job's block range as its runner knows it. */
export interface JobTarget {
  /** The first block the job extracts: the dataset's start block. */
  startBlock: number;
  /** Whether the job follows the head forever. */
  continuous: boolean;
  /** The last block it extracts, once resolved (a "latest" or "-N" end needs the first head); null for a continuous job or before. */
  endBlock: number | null;
  /** The chain head the runner read last; null before the first read. */
  head: number | null;
  /** When it read it (ms since epoch); null before the first read. */
  headAt: number | null;
}

/**
 * The runner of a job as the queue consumer sees it. RPC's result types turn
 * tuples into plain arrays (a Decimal128 field's [precision, scale]), which
 * structured clone does not: the values arrive as the runner sent them.
 */
export function stepCoordinator(namespace: DurableObjectNamespace, jobId: number): StepCoordinator {
  return jobRunnerStub(namespace, jobId) as unknown as StepCoordinator;
}

/** The runner of a job, one Durable Object per job id, as callers reach it: a call its reset cut off is sent again (reset-retry.ts). */
export function jobRunnerStub(namespace: DurableObjectNamespace, jobId: number): DurableObjectStub<JobRunner> {
  return retryingResets(() => jobRunnerObject(namespace, jobId));
}

/** The runner's plain stub, for what needs the runtime's own object (the tests' runInDurableObject). */
export function jobRunnerObject(namespace: DurableObjectNamespace, jobId: number): DurableObjectStub<JobRunner> {
  // wrangler.toml binds the namespace to the JobRunner class; the binding's type cannot say so without src/env.ts naming this layer.
  return namespace.get(namespace.idFromName(`job-${jobId}`)) as unknown as DurableObjectStub<JobRunner>;
}
