/** Keeps D1's view of a working job current: each table's progress and the runner's worker heartbeat. */
import { tableProgress } from "../src/domain/canonical-chain";
import type { StepFile } from "../src/domain/step-protocol";
import { jobNodeId } from "../src/store/jobs";
import { saveLocationProgress } from "../src/store/location-progress";
import { WORKER_HEARTBEAT_MS } from "../src/domain/worker";
import { heartbeatWorker } from "../src/store/workers";
import { refreshInvalidations } from "./partition-work";
import type { RunnerContext } from "./runner-context";
import type { RunnerJob, RunnerState } from "./runner-storage";

/** Adds reported files to their tables (registered data counts whoever reports it) and refreshes those tables' progress. */
export async function recordFiles(runner: RunnerContext, job: RunnerJob, files: readonly StepFile[]): Promise<void> {
  const touched = new Set<number>();
  for (const file of files) {
    runner.storage.addSegment(file.locationId, {
      fileId: file.fileId,
      range: file.range,
      hash: file.hash,
      prevHash: file.prevHash,
      network: file.network,
      objectSize: file.bytes,
    });
    touched.add(file.locationId);
  }
  for (const locationId of touched) {
    await saveProgress(runner, job, locationId);
    const table = job.locations.find((location) => location.locationId === locationId)?.table;
    await runner.atPhase("runner:progress-saved", { jobId: job.jobId, ...(table === undefined ? {} : { table }) });
  }
}

/** Saves a location's progress, with its invalidations read from D1 first. */
export async function saveProgress(runner: RunnerContext, job: RunnerJob, locationId: number): Promise<void> {
  await refreshInvalidations(runner, locationId);
  const table = runner.storage.table(locationId);
  await saveLocationProgress(runner.db, job.jobId, locationId, tableProgress(table.segments, job.startBlock, table.invalidations));
}

export async function heartbeat(runner: RunnerContext, state: RunnerState): Promise<void> {
  const now = Date.now();
  if (now - state.lastHeartbeat < WORKER_HEARTBEAT_MS) return;
  state.lastHeartbeat = now;
  await runner.storage.saveState(state);
  const job = await runner.storage.job();
  if (job) await heartbeatWorker(runner.db, jobNodeId(job.jobId));
}
