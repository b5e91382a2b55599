/** Stopping a job: SCHEDULED or RUNNING → STOP_REQUESTED → STOPPING → STOPPED once its claimed steps are done. */
import { stopOutcome } from "../src/domain/job";
import { getJob } from "../src/store/jobs";
import type { RunnerContext } from "./runner-context";
import type { RunnerJob, RunnerState } from "./runner-storage";
import { mirror, transition } from "./transitions";

export type StopResult = "requested" | "unchanged" | "not_found" | "conflict";

/** STOP_REQUESTED for a job the runner holds; on "requested" the runner drives it on to STOPPING. */
export async function stopStarted(runner: RunnerContext, job: RunnerJob, state: RunnerState): Promise<StopResult> {
  const outcome = stopOutcome(state.status);
  if (outcome === "conflict") return "conflict";
  if (outcome !== "request") return "unchanged";
  if (!(await transition(runner, job, state, "STOP_REQUESTED", { kind: "stop_requested" }))) return "unchanged";
  return "requested";
}

/** A job whose runner never took charge (it failed to load): stop it straight from D1. */
export async function stopUnstarted(runner: RunnerContext, jobId: number): Promise<StopResult> {
  const row = await getJob(runner.db, jobId);
  if (!row) return "not_found";
  const outcome = stopOutcome(row.status);
  if (outcome === "conflict") return "conflict";
  if (outcome !== "request") return "unchanged";
  for (const [to, kind] of [
    ["STOP_REQUESTED", "stop_requested"],
    ["STOPPING", "stopping"],
    ["STOPPED", "stopped"],
  ] as const) {
    await mirror(runner, jobId, to, { kind });
  }
  return "requested";
}

/**
 * STOPPING: nothing new is handed out. Steps not claimed yet are withdrawn
 * (their claim would be refused anyway), and so are waiting retries; then
 * STOPPED once the claimed steps have reported or their leases ran out.
 */
export async function drain(runner: RunnerContext, job: RunnerJob, state: RunnerState, now: number): Promise<void> {
  for (const step of runner.storage.steps()) {
    if (step.state !== "claimed" || step.deadline <= now) runner.storage.deleteStep(step.id);
  }
  state.probe = null;
  const running = runner.storage.steps();
  if (running.length === 0) {
    await transition(runner, job, state, "STOPPED", { kind: "stopped" });
    await runner.alarms.deleteAlarm();
    return;
  }
  await runner.storage.saveState(state);
  await runner.alarms.setAlarm(Math.min(...running.map((step) => step.deadline)));
}
