import { DurableObject } from "cloudflare:workers";
import { type BlockRange, union } from "../src/domain/block-range";
import { type Segment, canonicalChain, checkTip } from "../src/domain/canonical-chain";
import { needsChainHead, resolveEndBlock } from "../src/domain/end-block";
import { isTerminal, stopOutcome } from "../src/domain/job";
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_STEP_SIZE } from "../src/domain/job-settings";
import { planJob, settleForced, tableMissing } from "../src/domain/job-plan";
import { selectProvider } from "../src/domain/provider";
import type {
  ProbeContext,
  ProbeResult,
  StepContext,
  StepCoordinator,
  StepFailure,
  StepMessage,
  StepResult,
  StepTable,
} from "../src/domain/steps";
import { workerMetadataFromVersion } from "../src/domain/worker";
import { type Env, envVariables } from "../src/env";
import { checkLocationConsistency } from "../src/store/consistency";
import { openDb } from "../src/store/db";
import { listFileSegments } from "../src/store/files";
import { appendJobEvent } from "../src/store/job-events";
import { getJob, jobNodeId } from "../src/store/jobs";
import { listProvidersFor } from "../src/store/providers";
import { registerWorker } from "../src/store/workers";
import { loadJobSetup } from "./job-setup";
import { heartbeat, recordFiles, saveProgress } from "./progress";
import { type RunnerContext, isActive } from "./runner-context";
import { type RunnerJob, type RunnerState, RunnerStorage } from "./runner-storage";
import { HEAD_POLL_MS, PROBE_LEASE_MS, QUEUE_LEASE_MS, RUN_LEASE_MS, retryDelay } from "./runner-timing";
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
    await this.serial(async () => {
      const job = await this.runner.storage.job();
      const state = await this.runner.storage.state();
      if (job && state) await this.drive(job, state);
    });
  }

  // ---- consumers ---------------------------------------------------------

  /** A step's current lease claims it, again too when its message is redelivered (its first consumer may have died). */
  claimStep(stepId: number, lease: string): Promise<StepContext | null> {
    return this.serial(async () => {
      const job = await this.runner.storage.job();
      const state = await this.runner.storage.state();
      const step = this.runner.storage.step(stepId);
      if (!job || !state || !isActive(state.status) || !step || step.lease !== lease || step.state === "waiting") return null;
      this.runner.storage.putStep({ ...step, state: "claimed", deadline: Date.now() + RUN_LEASE_MS });
      await appendJobEvent(this.runner.db, job.jobId, { kind: "step_started", detail: { range: step.range, attempt: step.attempt } });
      await heartbeat(this.runner, state);
      return {
        jobId: job.jobId,
        stepId,
        attempt: step.attempt,
        range: step.range,
        datasetKind: job.datasetKind,
        network: job.network,
        finalizedOnly: job.finalizedOnly,
        tables: this.stepTables(job, state, step.range),
      };
    });
  }

  /**
   * Records a step's files and completes the step. A report of an expired
   * lease still counts its files (they are registered data), but completes
   * the step only if that leaves none of the step's blocks missing; otherwise
   * the current lease still has work to do. A step completes once: a second
   * report finds it gone. A job that has ended takes no more reports.
   */
  completeStep(stepId: number, lease: string, result: StepResult): Promise<boolean> {
    return this.serial(async () => {
      const job = await this.runner.storage.job();
      const state = await this.runner.storage.state();
      if (!job || !state || isTerminal(state.status)) return false;
      await recordFiles(this.runner, job, result.files);
      const step = this.runner.storage.step(stepId);
      if (!step) return false;
      const extracted = this.stepTables(job, state, step.range).every((table) => table.ranges.length === 0);
      if (step.lease !== lease && !extracted) return false;
      this.runner.storage.deleteStep(stepId);
      state.forced = [...settleForced(state.forced, step.range)];
      await this.runner.storage.saveState(state);
      await appendJobEvent(this.runner.db, job.jobId, {
        kind: "step_completed",
        detail: {
          range: step.range,
          files: result.files.length,
          rows: result.files.reduce((sum, f) => sum + f.rows, 0),
          bytes: result.files.reduce((sum, f) => sum + f.bytes, 0),
          duration_ms: Math.round(result.durationMs),
        },
      });
      await this.drive(job, state);
      return true;
    });
  }

  /** Only the consumer that claimed the step with its current lease can fail it, once. */
  failStep(stepId: number, lease: string, failure: StepFailure): Promise<boolean> {
    return this.serial(async () => {
      const job = await this.runner.storage.job();
      const state = await this.runner.storage.state();
      const step = this.runner.storage.step(stepId);
      if (!job || !state || !step || step.lease !== lease || step.state !== "claimed") return false;
      await appendJobEvent(this.runner.db, job.jobId, {
        kind: "step_failed",
        detail: { range: step.range, reason: failure.reason, attempt: step.attempt, retryable: failure.retryable },
      });
      if (!isActive(state.status)) {
        // Stopping: nothing is retried.
        this.runner.storage.deleteStep(stepId);
      } else if (failure.retryable && step.attempt < job.maxAttempts) {
        this.runner.storage.putStep({ ...step, state: "waiting", deadline: Date.now() + retryDelay(step.attempt) });
      } else {
        const reason = `step ${step.range.start}..=${step.range.end} failed after ${step.attempt} attempt(s): ${failure.reason}`;
        await failJob(this.runner, job, state, reason);
        return true;
      }
      await this.drive(job, state);
      return true;
    });
  }

  claimProbe(lease: string): Promise<ProbeContext | null> {
    return this.serial(async () => {
      const job = await this.runner.storage.job();
      const state = await this.runner.storage.state();
      if (!job || !state || state.probe?.lease !== lease || !isActive(state.status)) return null;
      return {
        jobId: job.jobId,
        datasetKind: job.datasetKind,
        network: job.network,
        finalizedOnly: job.finalizedOnly,
        blocks: state.probe.blocks,
      };
    });
  }

  completeProbe(lease: string, result: ProbeResult): Promise<boolean> {
    return this.serial(async () => {
      const job = await this.runner.storage.job();
      const state = await this.runner.storage.state();
      if (!job || !state || !isActive(state.status) || state.probe?.lease !== lease) return false;
      state.probe = null;
      state.probeFailures = 0;
      state.head = result.head;
      state.headAt = Date.now();
      for (const [block, hash] of Object.entries(result.hashes)) state.tipHashes[Number(block)] = hash;
      if (state.end === undefined && result.head !== null) {
        const resolved = resolveEndBlock(job.endBlock, { start: job.startBlock, latest: result.head });
        if (!resolved.ok) {
          await failJob(this.runner, job, state, resolved.reason);
          return true;
        }
        state.end = resolved.end.kind === "continuous" ? null : resolved.end.block;
      }
      if (state.end === null) this.checkForReorg(job, state);
      await this.drive(job, state);
      return true;
    });
  }

  failProbe(lease: string, failure: StepFailure): Promise<boolean> {
    return this.serial(async () => {
      const job = await this.runner.storage.job();
      const state = await this.runner.storage.state();
      const probe = state?.probe;
      if (!job || !state || !isActive(state.status) || !probe || probe.lease !== lease) return false;
      if (!failure.retryable || probe.attempt >= job.maxAttempts) {
        await failJob(this.runner, job, state, `reading the chain head failed after ${probe.attempt} attempt(s): ${failure.reason}`);
        return true;
      }
      state.probe = null;
      state.probeFailures = probe.attempt;
      state.probeNotBefore = Date.now() + retryDelay(probe.attempt);
      await this.drive(job, state);
      return true;
    });
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
    this.reclaimExpired(now);
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
        await this.handOut(job, waiting.id, waiting.range, waiting.attempt + 1, now);
      }
      for (const range of plan.steps) {
        const id = state.nextStepId++;
        await this.handOut(job, id, range, 1, now);
      }
    }
    const probeAt = this.nextProbeAt(state);
    if (probeAt !== null && probeAt <= now) await this.sendProbe(job, state, now);
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

  /** Steps whose lease ran out are handed out again right away. */
  private reclaimExpired(now: number): void {
    for (const step of this.runner.storage.steps()) {
      if (step.state !== "waiting" && step.deadline <= now) this.runner.storage.putStep({ ...step, state: "waiting", deadline: now });
    }
  }

  /**
   * When the head must be read next: at once before the first head and while
   * the tip check waits for hashes, then every poll interval (not before a
   * failed probe's backoff ends); null once a finite job's head has reached
   * its end. A probe in flight is sent again when its lease runs out.
   */
  private nextProbeAt(state: RunnerState): number | null {
    if (state.probe) return state.probe.deadline;
    if (typeof state.end === "number" && state.head !== null && state.head >= state.end) return null;
    const due = state.headAt === 0 || state.tipBlocks.length > 0 ? 0 : state.headAt + HEAD_POLL_MS;
    return Math.max(due, state.probeNotBefore);
  }

  private async sendProbe(job: RunnerJob, state: RunnerState, now: number): Promise<void> {
    const lease = crypto.randomUUID();
    const blocks = state.tipBlocks.length > 0 || state.end !== null ? state.tipBlocks : this.tipEnds(job);
    state.probe = { lease, deadline: now + PROBE_LEASE_MS, blocks, attempt: state.probeFailures + 1 };
    await this.runner.storage.saveState(state);
    await this.env.STEPS.send({ kind: "probe", jobId: job.jobId, lease } satisfies StepMessage);
  }

  private async handOut(job: RunnerJob, id: number, range: BlockRange, attempt: number, now: number): Promise<void> {
    const lease = crypto.randomUUID();
    this.runner.storage.putStep({ id, range, attempt, lease, state: "leased", deadline: now + QUEUE_LEASE_MS });
    await this.env.STEPS.send({ kind: "extract", jobId: job.jobId, stepId: id, lease } satisfies StepMessage);
  }

  /** The last block of each table's canonical chain: the first hashes a tip check asks for. */
  private tipEnds(job: RunnerJob): number[] {
    const ends = new Set<number>();
    for (const location of job.locations) {
      const canonical = canonicalChain(this.runner.storage.segments(location.locationId), job.startBlock);
      const last = canonical[canonical.length - 1];
      if (last) ends.add(last.range.end);
    }
    return [...ends];
  }

  /**
   * For a continuous job: compares each table's newest files with the node's
   * hashes and forces re-extraction after a reorg. A table whose files reach
   * past the node's head is left alone for now: the node may only lag behind
   * the one that served the step (providers sit behind load balancers), and
   * would make good files look stale; the check runs once the head caught up.
   */
  private checkForReorg(job: RunnerJob, state: RunnerState): void {
    const head = state.head;
    if (head === null) return;
    const node = { head, hashes: new Map(Object.entries(state.tipHashes).map(([k, v]) => [Number(k), v])) };
    const wanted = new Set<number>();
    for (const location of job.locations) {
      const canonical: readonly Segment[] = canonicalChain(this.runner.storage.segments(location.locationId), job.startBlock);
      if ((canonical.at(-1)?.range.end ?? -1) > head) continue;
      const check = checkTip(canonical, node);
      if (check.status === "needHashes") for (const block of check.blocks) wanted.add(block);
      if (check.status === "reorged" && check.reextract) state.forced = [...union(state.forced, [check.reextract])];
    }
    state.tipBlocks = [...wanted].sort((a, b) => a - b);
    if (state.tipBlocks.length === 0) state.tipHashes = {};
  }

  /** Each table's share of a step: the step's blocks it does not have yet (tables may progress apart). */
  private stepTables(job: RunnerJob, state: RunnerState, range: BlockRange): StepTable[] {
    return job.locations.map((location) => ({
      table: location.table,
      locationId: location.locationId,
      path: location.path,
      ranges: tableMissing(range, this.runner.storage.segments(location.locationId), state.forced),
    }));
  }

  /** Wakes the runner at the first step deadline or when the head is due, whichever comes first. */
  private async scheduleAlarm(state: RunnerState, now: number): Promise<void> {
    const times = this.runner.storage.steps().map((step) => step.deadline);
    const probeAt = this.nextProbeAt(state);
    if (probeAt !== null) times.push(probeAt);
    if (times.length === 0) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(Math.max(now, Math.min(...times)));
  }
}

/** The runner of a job: one Durable Object per job id. */
export function jobRunnerStub(namespace: DurableObjectNamespace<JobRunner>, jobId: number): DurableObjectStub<JobRunner> {
  return namespace.get(namespace.idFromName(`job-${jobId}`));
}
