/** Probes: queue messages that read the chain head and the block hashes of the tip check for the runner. */
import { resolveEndBlock } from "../src/domain/end-block";
import { logLine } from "../src/domain/log-line";
import { recordChainHead } from "../src/store/chain-heads";
import { appendJobEvent } from "../src/store/job-events";
import type { ProbeContext, ProbeResult, StepFailure, StepMessage } from "../src/domain/step-protocol";
import { type ReportOutcome, type RunnerContext, isActive, sourceContext } from "./runner-context";
import type { RunnerJob, RunnerState } from "./runner-storage";
import { DEFAULT_HEAD_POLL_MS } from "../src/domain/job-settings";
import { PROBE_LEASE_MS, retryDelay } from "./runner-timing";
import { checkForReorg, tipEnds } from "./tip-check";
import { failJob } from "./transitions";

/**
 * When the head must be read next: at once before the first head and while
 * the tip check waits for hashes, then every poll interval (not before a
 * failed probe's backoff ends); null once a finite job's head has reached
 * its end. A probe in flight is sent again when its lease runs out.
 */
export function nextProbeAt(job: RunnerJob, state: RunnerState): number | null {
  if (state.probe) return state.probe.deadline;
  if (typeof state.end === "number" && state.head !== null && state.head >= state.end) return null;
  const due = state.headAt === 0 || state.tipBlocks.length > 0 ? 0 : state.headAt + (job.headPollMs ?? DEFAULT_HEAD_POLL_MS);
  return Math.max(due, state.probeNotBefore);
}

export async function sendProbe(runner: RunnerContext, job: RunnerJob, state: RunnerState, now: number): Promise<void> {
  const lease = crypto.randomUUID();
  const blocks = state.tipBlocks.length > 0 || state.end !== null ? state.tipBlocks : tipEnds(runner.storage, job);
  state.probe = { lease, deadline: now + PROBE_LEASE_MS, blocks, attempt: state.probeFailures + 1 };
  await runner.storage.saveState(state);
  await runner.env.STEPS.send({ kind: "probe", jobId: job.jobId, lease } satisfies StepMessage);
}

export function onProbeClaim(job: RunnerJob, state: RunnerState, lease: string): ProbeContext | null {
  if (state.probe?.lease !== lease || !isActive(state.status)) return null;
  return {
    ...sourceContext(job),
    finalizedOnly: job.finalizedOnly,
    blocks: state.probe.blocks,
  };
}

/** The first head resolves a "latest" or "-N" end block; a continuous job's heads drive its tip check. */
export async function onProbeResult(
  runner: RunnerContext,
  job: RunnerJob,
  state: RunnerState,
  lease: string,
  result: ProbeResult,
): Promise<ReportOutcome> {
  if (!isActive(state.status) || state.probe?.lease !== lease) return "refused";
  state.probe = null;
  state.probeFailures = 0;
  state.head = result.head;
  state.headAt = Date.now();
  if (result.head !== null) {
    await recordChainHead(runner.db, { manifestHash: job.manifestHash, network: job.network, head: result.head });
    await runner.atPhase("runner:head-recorded", { jobId: job.jobId });
  }
  for (const [block, hash] of Object.entries(result.hashes)) state.tipHashes[Number(block)] = hash;
  if (state.end === undefined && result.head !== null) {
    const resolved = resolveEndBlock(job.endBlock, { start: job.startBlock, latest: result.head });
    if (!resolved.ok) {
      await failJob(runner, job, state, resolved.reason);
      return "failedJob";
    }
    state.end = resolved.end.kind === "continuous" ? null : resolved.end.block;
  }
  if (state.end === null) checkForReorg(runner.storage, job, state);
  return "recorded";
}

export async function onProbeFailure(
  runner: RunnerContext,
  job: RunnerJob,
  state: RunnerState,
  lease: string,
  failure: StepFailure,
): Promise<ReportOutcome> {
  const probe = state.probe;
  if (!isActive(state.status) || !probe || probe.lease !== lease) return "refused";
  const detail = { reason: failure.reason, error: failure.error, attempt: probe.attempt, retryable: failure.retryable };
  await appendJobEvent(runner.db, job.jobId, { kind: "head_read_failed", detail });
  console.log(logLine("head_read_failed", { job_id: job.jobId, dataset: job.dataset, provider: job.provider?.name, ...detail }));
  if (!failure.retryable || probe.attempt >= job.maxAttempts) {
    await failJob(runner, job, state, `reading the chain head failed after ${probe.attempt} attempt(s): ${failure.reason}`);
    return "failedJob";
  }
  state.probe = null;
  state.probeFailures = probe.attempt;
  state.probeNotBefore = Date.now() + retryDelay(probe.attempt);
  return "recorded";
}
