/**
 * The queue consumer (src/extract/consumer.ts) against a real JobRunner, real D1 and R2 and the shared anvil (through
 * the fault proxy). The test plays the queue: it hands the consumer each message the runner sent to STEPS, and a
 * message whose handling throws is handed over again, as src/index.ts retries it. The runner is reached through a
 * coordinator that lets one kind of report fail once before it reaches the runner, as an overloaded Durable Object
 * refuses a call (`retryable` and `overloaded`: the reset retry of jobRunnerStub does not send that one again); the
 * runner and its stub stay sound. A report that did not arrive is no verdict on the work: the read or step that
 * worked must not be reported as failed, and a failure must be reported once, on the redelivery.
 *
 * It runs in the `jobs` project (vitest.config.ts), whose queue handler only records messages, so no consumer of the
 * Worker's own takes them first.
 */
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { stepCoordinator } from "../../durable-objects/job-runner";
import { ignorePhase } from "../../src/domain/crash-points";
import type { StepCoordinator, StepMessage } from "../../src/domain/step-protocol";
import { workerMetadataFrom } from "../../src/domain/worker";
import { type ConsumerDeps, handleStepMessage } from "../../src/extract/consumer";
import { invocationConnections } from "../../src/extract/limits";
import { listChainFiles } from "../../src/store/files";
import { deliveredMessages } from "../durable-objects/runner-entry";
import { db, deploy, type Deployed, events, fireAlarm, freezeClock, jobStatus, runnerState, runnerSteps } from "../durable-objects/runner-harness";
import { FaultScenario } from "../support/fault-control";
import { harness } from "../support/provided-context";

const { harnessUrl, chain } = harness();

beforeEach(() => {
  freezeClock();
  return () => {
    vi.useRealTimers();
  };
});

type Report = "completeProbe" | "failProbe" | "completeStep" | "failStep";

/** The real runner, but the first `report` of the given kind fails before reaching it; `refused` counts those. */
function refusingOnce(runner: StepCoordinator, report: Report): StepCoordinator & { refused: number } {
  let refused = 0;
  const refuseFirst = async <T>(kind: Report, call: () => Promise<T>): Promise<T> => {
    if (kind === report && refused === 0) {
      refused++;
      throw Object.assign(new Error("Durable Object is overloaded. Too many requests queued."), { retryable: true, overloaded: true });
    }
    return call();
  };
  return {
    get refused() {
      return refused;
    },
    claimStep: (stepId, lease) => runner.claimStep(stepId, lease),
    renewStep: (stepId, lease) => runner.renewStep(stepId, lease),
    claimProbe: (lease) => runner.claimProbe(lease),
    completeStep: (stepId, lease, result) => refuseFirst("completeStep", () => runner.completeStep(stepId, lease, result)),
    failStep: (stepId, lease, failure) => refuseFirst("failStep", () => runner.failStep(stepId, lease, failure)),
    completeProbe: (lease, result) => refuseFirst("completeProbe", () => runner.completeProbe(lease, result)),
    failProbe: (lease, failure) => refuseFirst("failProbe", () => runner.failProbe(lease, failure)),
  };
}

/** What src/index.ts hands the consumer, with `coordinator` for the job's runner. */
function consumerDeps(coordinator: StepCoordinator): ConsumerDeps {
  return {
    db: db(),
    bucket: env.BUCKET,
    variables: {},
    worker: { nodeId: "consumer-test", metadata: workerMetadataFrom({ version: "consumer-test" }) },
    coordinator: () => coordinator,
    requestBudget: null,
    datasetSource: () => {
      throw new Error("an evm-rpc job reads its provider");
    },
    connections: invocationConnections(),
    atPhase: ignorePhase,
  };
}

/** One delivery of `message` to the consumer, and what src/index.ts then tells the queue: ack, or retry after a throw (and why). */
async function deliver(message: StepMessage, deps: ConsumerDeps): Promise<string> {
  try {
    await handleStepMessage(message, deps);
    return "ack";
  } catch (error) {
    return `retry: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** The answer of a delivery whose report the refusing coordinator failed. */
const RETRIED_REFUSED = /^retry: Durable Object is overloaded/;

/** The message of the given kind the runner sent last for the job, once the STEPS queue has delivered it. */
async function delivered(jobId: number, kind: StepMessage["kind"], lease: string): Promise<StepMessage> {
  return vi.waitFor(
    () => {
      const message = deliveredMessages.find((sent) => sent.jobId === jobId && sent.kind === kind && sent.lease === lease);
      if (!message) throw new Error(`no ${kind} message with lease ${lease} yet`);
      return message;
    },
    { timeout: 10_000, interval: 20 },
  );
}

async function eventsOf(jobId: number, kind: string) {
  return (await events(jobId)).filter((event) => event.kind === kind);
}

/** A job of blocks 0..=9 in one step, RUNNING, its provider the scenario's route to anvil, its first probe sent. */
async function runningJob(scenario: FaultScenario): Promise<Deployed & { probe: StepMessage }> {
  const job = await deploy({ endBlock: { kind: "absolute", block: 9 }, stepSize: 10, providerUrl: scenario.rpcUrl });
  await fireAlarm(job.stub);
  expect(await jobStatus(job.jobId)).toBe("RUNNING");
  const lease = (await runnerState(job.stub)).probe?.lease;
  if (!lease) throw new Error("the runner sent no probe");
  return { ...job, probe: await delivered(job.jobId, "probe", lease) };
}

/** Reads the head through the consumer, then waits for the one step it lets the runner hand out. */
async function stepMessage(job: Deployed & { probe: StepMessage }): Promise<StepMessage> {
  await handleStepMessage(job.probe, consumerDeps(stepCoordinator(env.JOB_RUNNER, job.jobId)));
  const [step] = await runnerSteps(job.stub);
  if (!step) throw new Error("the runner handed out no step");
  return delivered(job.jobId, "extract", step.lease);
}

/** The provider rate-limits the next `times` requests and asks for a wait longer than the client's: a retryable failure at once. */
const rateLimited = (times: number) => ({ kind: "status", status: 429, retryAfter: "120", times }) as const;

describe("the consumer when the runner does not take its report", () => {
  it("does not report a head read that worked as failed: the message goes back to the queue and its redelivery reports the head", async () => {
    const job = await runningJob(new FaultScenario(harnessUrl));
    const coordinator = refusingOnce(stepCoordinator(env.JOB_RUNNER, job.jobId), "completeProbe");
    const deps = consumerDeps(coordinator);

    const first = await deliver(job.probe, deps);
    expect(coordinator.refused).toBe(1);
    // The runner heard of no failure: the probe is out under the same lease, no attempt is used up.
    expect(await eventsOf(job.jobId, "head_read_failed")).toEqual([]);
    const waiting = await runnerState(job.stub);
    expect(waiting.probe).toMatchObject({ lease: job.probe.lease, attempt: 1 });
    expect(waiting.probeFailures).toBe(0);
    expect(waiting.head).toBeNull();
    expect(first).toMatch(RETRIED_REFUSED);

    expect(await deliver(job.probe, deps)).toBe("ack");
    const read = await runnerState(job.stub);
    expect(read.probe).toBeNull();
    expect(read.head).toBeGreaterThanOrEqual(chain.head);
    expect(read.end).toBe(9);
    expect((await runnerSteps(job.stub)).map((step) => step.range)).toEqual([{ start: 0, end: 9 }]);
    expect(await eventsOf(job.jobId, "head_read_failed")).toEqual([]);
  });

  it("reports a failed head read once, on the redelivery, when its failure report did not arrive", async () => {
    const scenario = new FaultScenario(harnessUrl);
    await scenario.inject(rateLimited(2));
    const job = await runningJob(scenario);
    const coordinator = refusingOnce(stepCoordinator(env.JOB_RUNNER, job.jobId), "failProbe");
    const deps = consumerDeps(coordinator);

    expect(await deliver(job.probe, deps)).toMatch(RETRIED_REFUSED);
    expect(coordinator.refused).toBe(1);
    expect((await runnerState(job.stub)).probe).toMatchObject({ lease: job.probe.lease, attempt: 1 });
    expect(await eventsOf(job.jobId, "head_read_failed")).toEqual([]);

    expect(await deliver(job.probe, deps)).toBe("ack");
    const failed = await eventsOf(job.jobId, "head_read_failed");
    expect(failed.map((event) => event.detail)).toEqual([expect.objectContaining({ error: "rate_limited", attempt: 1, retryable: true })]);
    const state = await runnerState(job.stub);
    expect(state.probe).toBeNull();
    expect(state.probeFailures).toBe(1);
    expect(await jobStatus(job.jobId)).toBe("RUNNING");
    // Both deliveries read the head: the provider saw the two rate-limited requests and nothing else.
    expect((await scenario.log()).requests.map((request) => request.status)).toEqual([429, 429]);
  });

  it("does not fail a step that worked: its files stay registered once and its redelivery completes it", async () => {
    const job = await runningJob(new FaultScenario(harnessUrl));
    const message = await stepMessage(job);
    const coordinator = refusingOnce(stepCoordinator(env.JOB_RUNNER, job.jobId), "completeStep");
    const deps = consumerDeps(coordinator);

    const first = await deliver(message, deps);
    expect(coordinator.refused).toBe(1);
    expect(await eventsOf(job.jobId, "step_failed")).toEqual([]);
    expect(await runnerSteps(job.stub)).toMatchObject([{ state: "claimed", attempt: 1, lease: message.lease }]);
    expect(first).toMatch(RETRIED_REFUSED);
    // The files of the step are complete and registered: the report is all that is missing.
    for (const location of job.locations) expect((await listChainFiles(db(), location.locationId)).map((file) => file.range)).toEqual([{ start: 0, end: 9 }]);

    expect(await deliver(message, deps)).toBe("ack");
    expect(await runnerSteps(job.stub)).toEqual([]);
    expect(await jobStatus(job.jobId)).toBe("COMPLETED");
    expect(await eventsOf(job.jobId, "step_failed")).toEqual([]);
    expect(await eventsOf(job.jobId, "step_completed")).toHaveLength(1);
    // The redelivery wrote the same objects and found their rows: one file per table.
    for (const location of job.locations) expect(await listChainFiles(db(), location.locationId)).toHaveLength(1);
  });

  it("reports a failed step once, on the redelivery, when its failure report did not arrive", async () => {
    const scenario = new FaultScenario(harnessUrl);
    const job = await runningJob(scenario);
    const message = await stepMessage(job);
    await scenario.inject(rateLimited(2));
    const coordinator = refusingOnce(stepCoordinator(env.JOB_RUNNER, job.jobId), "failStep");
    const deps = consumerDeps(coordinator);

    expect(await deliver(message, deps)).toMatch(RETRIED_REFUSED);
    expect(coordinator.refused).toBe(1);
    expect(await runnerSteps(job.stub)).toMatchObject([{ state: "claimed", attempt: 1, lease: message.lease }]);
    expect(await eventsOf(job.jobId, "step_failed")).toEqual([]);

    expect(await deliver(message, deps)).toBe("ack");
    const failed = await eventsOf(job.jobId, "step_failed");
    expect(failed.map((event) => event.detail)).toEqual([expect.objectContaining({ error: "rate_limited", attempt: 1, retryable: true })]);
    // Waiting for its retry, with a new attempt to come; the job goes on.
    expect(await runnerSteps(job.stub)).toMatchObject([{ state: "waiting", attempt: 1 }]);
    expect(await jobStatus(job.jobId)).toBe("RUNNING");
  });
});
