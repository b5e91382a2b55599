/** The start of a job: the runner takes charge of it, then SCHEDULED → RUNNING once it can run. */
import { union } from "../src/domain/block-range";
import { needsChainHead, resolveEndBlock } from "../src/domain/end-block";
import type { JobSettings } from "../src/domain/job-settings";
import { datasetKind } from "../src/domain/dataset-kinds/registry";
import { selectProvider } from "../src/domain/provider";
import { workerMetadataFromVersion } from "../src/domain/worker";
import { checkLocationConsistency } from "../src/store/consistency";
import { listFileSegments } from "../src/store/files";
import { jobNodeId } from "../src/store/jobs";
import { listProvidersFor } from "../src/store/providers";
import { registerWorker } from "../src/store/workers";
import { loadJobSetup } from "./job-setup";
import { saveProgress } from "./progress-mirror";
import type { RunnerContext } from "./runner-context";
import type { RunnerJob, RunnerState } from "./runner-storage";
import { failJob, mirror, transition } from "./transitions";

/** Takes charge of a freshly scheduled job; a runner that holds a job already keeps it. */
export async function startJob(runner: RunnerContext, jobId: number, settings: JobSettings): Promise<void> {
  if (await runner.storage.job()) return;
  const setup = await loadJobSetup(runner.db, runner.env.BUCKET, jobId, settings);
  if (!setup.ok) {
    if (setup.failJob) await mirror(runner, jobId, "FAILED", { kind: "failed", detail: { reason: setup.reason } }, setup.reason);
    return;
  }
  await registerWorker(runner.db, jobNodeId(jobId), workerMetadataFromVersion(runner.env.VERSION));
  // Rebuild ranges handed over while the job waited for this start (JobRunner.takePartitions) join its own.
  const pending = await runner.storage.pendingRebuild();
  await runner.storage.saveStarted(setup.job, {
    status: "SCHEDULED",
    head: null,
    headAt: 0,
    probe: null,
    probeNotBefore: 0,
    forced: [],
    rebuild: [...union(setup.job.rebuildRanges ?? [], pending)],
    tipHashes: {},
    tipBlocks: [],
    probeFailures: 0,
    lastHeartbeat: Date.now(),
    nextStepId: 1,
  });
  await runner.alarms.setAlarm(Date.now());
}

/**
 * SCHEDULED → RUNNING once the job can run: a provider exists, the end
 * block (unless it needs the head) is not below the start, and the tables
 * are consistent. What cannot succeed on retry fails the job at once.
 */
export async function prepare(runner: RunnerContext, job: RunnerJob, state: RunnerState): Promise<boolean> {
  const providerKind = datasetKind(job.datasetKind).providerKind;
  if (providerKind !== null && job.provider === null) {
    const providers = await listProvidersFor(runner.db, providerKind, job.network);
    const selected = selectProvider(providers, { kind: providerKind, network: job.network }, runner.env);
    if (!selected.ok) {
      await failJob(runner, job, state, selected.message);
      return false;
    }
    // The registration as stored, placeholders and all: each consumer resolves it against its own vars.
    job.provider = providers.find((provider) => provider.name === selected.provider.name) ?? null;
    await runner.storage.save(job, state);
  }
  if (!needsChainHead(job.endBlock)) {
    const resolved = resolveEndBlock(job.endBlock, { start: job.startBlock });
    if (!resolved.ok) {
      await failJob(runner, job, state, resolved.reason);
      return false;
    }
    state.end = resolved.end.kind === "continuous" ? null : resolved.end.block;
  }
  if (job.locations.length === 0) {
    // Another deploy took over every location: there is nothing left for this job to write.
    await transition(runner, job, state, "RUNNING", { kind: "running" });
    if (state.status === "RUNNING") {
      await transition(runner, job, state, "COMPLETED", { kind: "completed", detail: { reason: "no locations to write" } });
    }
    return false;
  }
  for (const location of job.locations) {
    const report = await checkLocationConsistency(runner.db, runner.env.BUCKET, { id: location.locationId, path: location.path });
    if (report.missingObjects.length > 0) {
      const reason = `table ${location.table} is corrupted: ${report.missingObjects.length} registered file(s) are missing from R2, e.g. ${report.missingObjects[0]}`;
      await failJob(runner, job, state, reason);
      return false;
    }
    for (const segment of await listFileSegments(runner.db, location.locationId)) {
      runner.storage.addSegment(location.locationId, segment);
    }
    await saveProgress(runner, job, location.locationId);
  }
  const provider = job.provider?.name;
  await transition(runner, job, state, "RUNNING", { kind: "running", detail: provider === undefined ? {} : { provider } }, undefined, provider);
  // D1's status, not whether this call applied it: a runner that died after D1's RUNNING and before its own
  // storage write meets RUNNING in D1 when its alarm runs again, and must go on running the job.
  return state.status === "RUNNING";
}
