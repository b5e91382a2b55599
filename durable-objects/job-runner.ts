import { DurableObject } from "cloudflare:workers";
import { needsChainHead, resolveEndBlock } from "../src/domain/end-block";
import { isTerminal, stopOutcome } from "../src/domain/job";
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_STEP_SIZE } from "../src/domain/job-settings";
import { planJob } from "../src/domain/job-plan";
import { selectProvider } from "../src/domain/provider";
import type { ProbeContext, ProbeResult, StepContext, StepCoordinator, StepFailure, StepResult } from "../src/domain/steps";
import { workerMetadataFromVersion } from "../src/domain/worker";
import { type Env, envVariables } from "../src/env";
import { checkLocationConsistency } from "../src/store/consistency";
import { openDb } from "../src/store/db";
import { listFileSegments } from "../src/store/files";
import { getJob, jobNodeId } from "../src/store/jobs";
import { listProvidersFor } from "../src/store/providers";
import { registerWorker } from "../src/store/workers";
import { loadJobSetup } from "./job-setup";
import { nextProbeAt, onProbeClaim, onProbeFailure, onProbeResult, sendProbe } from "./probes";
import { heartbeat, saveProgress } from "./progress";
import type { ReportOutcome, RunnerContext } from "./runner-context";
import { type RunnerJob, type RunnerState, RunnerStorage } from "./runner-storage";
import { handOut, onStepClaim, onStepFailure, onStepResult, reclaimExpired } from "./steps";
import { failJob, mirror, transition } from "./transitions";

export type StopResult = "requested" | "unchanged" | "not_found" | "conflict";

/**
 * One per job: the only writer of that job's state. It resolves the end block,
 * hands out steps (block range x all tables) with leases, at most
 * `parallelism` at once, records what they wrote, follows the chain head of a
 * continuous job, and mirrors every transition to D1 with a compare-and-set.
 * All provider I/O happens in queue consumers (steps and probes), so the
 * runner only schedules and keeps books.
 */
export class JobRunner extends DurableObject<Env> implements StepCoordinator {
  private readonly runner: RunnerContext;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.runner = { storage: new RunnerStorage(ctx.storage), alarms: ctx.storage, db: openDb(env.DB), env };
  }

  /** Runs mutations one at a time: each reads and writes state across awaits. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Takes charge of a freshly scheduled job. Idempotent. */
  start(jobId: number, stepSize: number = DEFAULT_STEP_SIZE, maxAttempts: number = DEFAULT_MAX_ATTEMPTS): Promise<void> {
    return this.serial(async () => {
      if (await this.runner.storage.job()) return;
      const setup = await loadJobSetup(this.runner.db, this.env.BUCKET, jobId, { stepSize, maxAttempts });
      if (!setup.ok) {
        if (setup.failJob) await mirror(this.runner, jobId, "FAILED", { kind: "failed", detail: { reason: setup.reason } }, setup.reason);
        return;
      }
      await registerWorker(this.runner.db, jobNodeId(jobId), workerMetadataFromVersion(this.env.VERSION));
      await this.runner.storage.save(setup.job, {
        status: "SCHEDULED",
        head: null,
        headAt: 0,
        probe: null,
        probeNotBefore: 0,
        forced: [],
        tipHashes: {},
        tipBlocks: [],
        probeFailures: 0,
        lastHeartbeat: Date.now(),
        nextStepId: 1,
      });
      await this.ctx.storage.setAlarm(Date.now());
    });
  }

  /** `PUT /jobs/{id}/stop`: SCHEDULED or RUNNING → STOP_REQUESTED, then STOPPING and STOPPED as steps drain. */
  requestStop(jobId: number): Promise<StopResult> {
    return this.serial(async () => {
      const job = await this.runner.storage.job();
      const state = await this.runner.storage.state();
      if (!job || !state) return this.stopUnstarted(jobId);
      const outcome = stopOutcome(state.status);
      if (outcome === "conflict") return "conflict";
      if (outcome !== "request") return "unchanged";
      if (!(await transition(this.runner, job, state, "STOP_REQUESTED", { kind: "stop_requested" }))) return "unchanged";
      await this.drive(job, state);
      return "requested";
    });
  }

  /** A job whose runner never took charge (it failed to load): stop it straight from D1. */
  private async stopUnstarted(jobId: number): Promise<StopResult> {
    const row = await getJob(this.runner.db, jobId);
    if (!row) return "not_found";
    const outcome = stopOutcome(row.status);
    if (outcome === "conflict") return "conflict";
    if (outcome !== "request") return "unchanged";
    for (const [to, kind] of [
      ["STOP_REQUESTED", "stop_requested"],
      ["STOPPING", "stopping"],
      ["STOPPED", "stopped"],
    ] as const) {
      await mirror(this.runner, jobId, to, { kind });
    }
    return "requested";
  }

  /**
   * Cron's reconcile: makes sure an unfinished job has an alarm. Given the
   * job id, it also takes charge of a job whose `start` never arrived (the
   * deploy died between its D1 batch and the call), which would otherwise
   * stay SCHEDULED and block every later deploy of its manifest.
   */
  async poke(jobId?: number, stepSize?: number, maxAttempts?: number): Promise<void> {
    const state = await this.runner.storage.state();
    if (!state) {
      if (jobId !== undefined) await this.start(jobId, stepSize, maxAttempts);
    } else if (!isTerminal(state.status) && (await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now());
    }
  }

  override async alarm(): Promise<void> {
    await this.withJob(undefined, (job, state) => this.drive(job, state));
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
    if (outcome === "recorded") await this.drive(job, state);
    return outcome !== "refused";
  }

  // ---- consumers ---------------------------------------------------------

  claimStep(stepId: number, lease: string): Promise<StepContext | null> {
    return this.withJob(null, (job, state) => onStepClaim(this.runner, job, state, stepId, lease));
  }

  completeStep(stepId: number, lease: string, result: StepResult): Promise<boolean> {
    return this.withJob(false, (job, state) => this.settle(job, state, onStepResult(this.runner, job, state, stepId, lease, result)));
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

  // ---- the state machine -------------------------------------------------

  /** Moves the job forward as far as it can go now, then sets the next alarm. */
  private async drive(job: RunnerJob, state: RunnerState): Promise<void> {
    const now = Date.now();
    if (state.status === "SCHEDULED" && !(await this.prepare(job, state))) return;
    if (state.status === "STOP_REQUESTED") {
      if (!(await transition(this.runner, job, state, "STOPPING", { kind: "stopping" }))) return;
    }
    if (state.status === "STOPPING") {
      await this.drain(job, state, now);
      return;
    }
    if (state.status !== "RUNNING") {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    await heartbeat(this.runner, state);
    reclaimExpired(this.runner.storage, now);
    // The end is known unless it is "latest" or "-N" and no head has been read yet.
    if (state.end !== undefined) {
      const busy = this.runner.storage.steps();
      const plan = planJob({
        startBlock: job.startBlock,
        end: state.end,
        head: state.head,
        tables: job.locations.map((location) => this.runner.storage.segments(location.locationId)),
        forced: state.forced,
        busy: busy.map((step) => step.range),
        stepSize: job.stepSize,
        parallelism: job.parallelism,
      });
      if (plan.complete) {
        await transition(this.runner, job, state, "COMPLETED", { kind: "completed" });
        await this.ctx.storage.deleteAlarm();
        return;
      }
      for (const waiting of busy.filter((step) => step.state === "waiting" && step.deadline <= now)) {
        await handOut(this.runner, job, waiting.id, waiting.range, waiting.attempt + 1, now);
      }
      for (const range of plan.steps) {
        const id = state.nextStepId++;
        await handOut(this.runner, job, id, range, 1, now);
      }
    }
    const probeAt = nextProbeAt(state);
    if (probeAt !== null && probeAt <= now) await sendProbe(this.runner, job, state, now);
    await this.runner.storage.saveState(state);
    await this.scheduleAlarm(state, now);
  }

  /**
   * SCHEDULED → RUNNING once the job can run: a provider exists, the end
   * block (unless it needs the head) is not below the start, and the tables
   * are consistent. What cannot succeed on retry fails the job at once.
   */
  private async prepare(job: RunnerJob, state: RunnerState): Promise<boolean> {
    const providers = await listProvidersFor(this.runner.db, job.datasetKind, job.network);
    const provider = selectProvider(providers, { kind: job.datasetKind, network: job.network }, envVariables(this.env));
    if (!provider.ok) {
      await failJob(this.runner, job, state, provider.message);
      return false;
    }
    if (job.datasetKind !== "evm-rpc") {
      await failJob(this.runner, job, state, `extraction of ${job.datasetKind} datasets is not supported yet; only evm-rpc is`);
      return false;
    }
    if (!needsChainHead(job.endBlock)) {
      const resolved = resolveEndBlock(job.endBlock, { start: job.startBlock });
      if (!resolved.ok) {
        await failJob(this.runner, job, state, resolved.reason);
        return false;
      }
      state.end = resolved.end.kind === "continuous" ? null : resolved.end.block;
    }
    if (job.locations.length === 0) {
      // Another deploy took over every location: there is nothing left for this job to write.
      if (await transition(this.runner, job, state, "RUNNING", { kind: "running" })) {
        await transition(this.runner, job, state, "COMPLETED", { kind: "completed", detail: { reason: "no locations to write" } });
      }
      return false;
    }
    for (const location of job.locations) {
      const report = await checkLocationConsistency(this.runner.db, this.env.BUCKET, { id: location.locationId, path: location.path });
      if (report.missingObjects.length > 0) {
        const reason = `table ${location.table} is corrupted: ${report.missingObjects.length} registered file(s) are missing from R2, e.g. ${report.missingObjects[0]}`;
        await failJob(this.runner, job, state, reason);
        return false;
      }
      for (const segment of await listFileSegments(this.runner.db, location.locationId)) {
        this.runner.storage.addSegment(location.locationId, segment);
      }
      await saveProgress(this.runner, job, location.locationId);
    }
    return transition(this.runner, job, state, "RUNNING", { kind: "running" });
  }

  /**
   * STOPPING: nothing new is handed out. Steps not claimed yet are withdrawn
   * (their claim would be refused anyway), and so are waiting retries; then
   * STOPPED once the claimed steps have reported or their leases ran out.
   */
  private async drain(job: RunnerJob, state: RunnerState, now: number): Promise<void> {
    for (const step of this.runner.storage.steps()) {
      if (step.state !== "claimed" || step.deadline <= now) this.runner.storage.deleteStep(step.id);
    }
    state.probe = null;
    const running = this.runner.storage.steps();
    if (running.length === 0) {
      await transition(this.runner, job, state, "STOPPED", { kind: "stopped" });
      await this.ctx.storage.deleteAlarm();
      return;
    }
    await this.runner.storage.saveState(state);
    await this.ctx.storage.setAlarm(Math.min(...running.map((step) => step.deadline)));
  }

  /** Wakes the runner at the first step deadline or when the head is due, whichever comes first. */
  private async scheduleAlarm(state: RunnerState, now: number): Promise<void> {
    const times = this.runner.storage.steps().map((step) => step.deadline);
    const probeAt = nextProbeAt(state);
    if (probeAt !== null) times.push(probeAt);
    if (times.length === 0) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(Math.max(now, Math.min(...times)));
  }
}

/** The runner of a job: one Durable Object per job id. */
export function jobRunnerStub(namespace: DurableObjectNamespace<JobRunner>, jobId: number): DurableObjectStub<JobRunner> {
  return namespace.get(namespace.idFromName(`job-${jobId}`));
}
