/**
 * The crash campaign's Worker (vitest.config.ts, project chaos-crash): the production Worker and JobRunner with
 * a crash-point hook (src/domain/crash-points.ts) that kills them at the points crash-plan.ts arms. Only this
 * project runs it; `wrangler deploy` bundles src/index.ts, whose hook does nothing.
 *
 * A crash is the end of the invocation, not an error the code could handle:
 * - a queue invocation: the step is frozen at the point (the hook never returns, so no catch, cleanup, abort of
 *   an upload or report runs after it) and the invocation fails at once, as a killed one does; the queue then
 *   delivers the batch's messages again;
 * - a JobRunner: `ctx.abort()` resets the Durable Object, which no code of it can catch: what it had not written
 *   to its storage is gone, and the call in progress (an alarm, or a consumer's report) fails.
 */
import { JobRunner as ProductionJobRunner } from "../../../durable-objects/job-runner";
import type { AtPhase, CrashPoint, PhasePlace } from "../../../src/domain/crash-points";
import type { StepMessage } from "../../../src/domain/step-protocol";
import type { Env } from "../../../src/env";
import production, { createWorker } from "../../../src/index";
import { crashAt } from "./crash-plan";

/** Ample for the console forwarding's one local call, even on a loaded 2-core machine. */
const FORWARDING_GRACE_MS = 1_000;

export class JobRunner extends ProductionJobRunner {
  protected override async atPhase(point: CrashPoint, place: PhasePlace): Promise<void> {
    const crash = await crashAt(this.env.DB, point, place);
    if (!crash) return;
    // The pool forwards a Durable Object's console output to vitest by a call that cannot finish once the object
    // is broken, and then hangs at teardown (workers-sdk#14180, fixed in a pool release that needs vitest 4): the
    // runner logged before this point (its transition, its step), so the forwarding gets time to finish first.
    // Nothing of the runner runs meanwhile: every call that changes the job waits behind this one.
    await scheduler.wait(FORWARDING_GRACE_MS);
    this.ctx.abort(`crash campaign: job ${place.jobId}'s runner died at ${point}`);
  }
}

/** One queue invocation: its hook, and a promise that fails when the hook crashes it. */
function invocation(db: D1Database): { atPhase: AtPhase; died: Promise<never> } {
  let die: (error: Error) => void = () => {};
  const died = new Promise<never>((_resolve, reject) => {
    die = reject;
  });
  const atPhase: AtPhase = async (point, place) => {
    const crash = await crashAt(db, point, place);
    if (!crash) return;
    die(new Error(`crash campaign: the queue invocation died at ${point} of job ${place.jobId}${place.table ? ` (${place.table})` : ""}`));
    // The step never goes on from here.
    await new Promise<never>(() => {});
  };
  return { atPhase, died };
}

export default {
  fetch: production.fetch,
  scheduled: production.scheduled,
  async queue(batch, env) {
    const { atPhase, died } = invocation(env.DB);
    await Promise.race([createWorker(atPhase).queue(batch, env), died]);
  },
} satisfies ExportedHandler<Env, StepMessage>;
