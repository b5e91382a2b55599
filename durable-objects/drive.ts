/** The runner's state machine, run after every change and at every alarm. */
import { planJob } from "../src/domain/job-plan";
import { prepare } from "./job-start";
import { drain } from "./job-stop";
import { nextProbeAt, sendProbe } from "./probes";
import { extraWork } from "./partition-work";
import { heartbeat } from "./progress-mirror";
import type { RunnerContext } from "./runner-context";
import type { RunnerJob, RunnerState } from "./runner-storage";
import { handOut, reclaimExpired } from "./step-handout";
import { transition } from "./transitions";

/** Moves the job forward as far as it can go now, then sets the next alarm. */
export async function drive(runner: RunnerContext, job: RunnerJob, state: RunnerState): Promise<void> {
  const now = Date.now();
  if (state.status === "SCHEDULED" && !(await prepare(runner, job, state))) return;
  if (state.status === "STOP_REQUESTED") {
    if (!(await transition(runner, job, state, "STOPPING", { kind: "stopping" }))) return;
  }
  if (state.status === "STOPPING") {
    await drain(runner, job, state, now);
    return;
  }
  if (state.status !== "RUNNING") {
    await runner.alarms.deleteAlarm();
    return;
  }
  await heartbeat(runner, state);
  reclaimExpired(runner.storage, now);
  // The end is known unless it is "latest" or "-N" and no head has been read yet.
  if (state.end !== undefined) {
    const busy = runner.storage.steps();
    const plan = planJob({
      startBlock: job.startBlock,
      end: state.end,
      head: state.head,
      tables: job.locations.map((location) => runner.storage.table(location.locationId)),
      ...extraWork(job, state),
      busy: busy.map((step) => step.range),
      stepSize: job.stepSize,
      parallelism: job.parallelism,
    });
    if (plan.complete) {
      await transition(runner, job, state, "COMPLETED", { kind: "completed" });
      await runner.alarms.deleteAlarm();
      return;
    }
    const retries = busy.filter((step) => step.state === "waiting" && step.deadline <= now);
    await handOut(runner, job, [
      ...retries.map((step) => ({ id: step.id, range: step.range, attempt: step.attempt + 1 })),
      ...plan.steps.map((range) => ({ id: state.nextStepId++, range, attempt: 1 })),
    ], now);
  }
  const probeAt = nextProbeAt(job, state);
  if (probeAt !== null && probeAt <= now) await sendProbe(runner, job, state, now);
  await runner.storage.saveState(state);
  await scheduleAlarm(runner, job, state, now);
}

/** Wakes the runner at the first step deadline or when the head is due, whichever comes first. */
async function scheduleAlarm(runner: RunnerContext, job: RunnerJob, state: RunnerState, now: number): Promise<void> {
  const times = runner.storage.steps().map((step) => step.deadline);
  const probeAt = nextProbeAt(job, state);
  if (probeAt !== null) times.push(probeAt);
  if (times.length === 0) await runner.alarms.deleteAlarm();
  else await runner.alarms.setAlarm(Math.max(now, Math.min(...times)));
}
