import { describe, expect, it } from "vitest";
import {
  type AnswerOutcome,
  minBatchForBudget,
  observeAnswer,
  parseTuning,
  type RpcController,
  type RpcTuningLimits,
  SLOW_MS,
  START_TUNING,
  startController,
  stepRequestBudget,
  withMinBatch,
} from "../../src/domain/rpc-tuning";

const LIMITS: RpcTuningLimits = { maxBatchSize: 100, maxInFlight: 6, minBatchSize: 1 };

/**
 * A node whose answers take `latencyMs(tuning)` each, with the requests in
 * flight answered side by side: feeds one window's worth of answers.
 */
function feedWindow(controller: RpcController, clock: { now: number }, latencyMs: (c: RpcController) => number, outcome: AnswerOutcome = "ok"): RpcController {
  const { batchSize, inFlight } = controller.tuning;
  const latency = latencyMs(controller);
  let next = controller;
  for (let i = 0; i < 4 * inFlight; i++) {
    if (i % inFlight === 0) clock.now += latency;
    next = observeAnswer(next, { outcome, calls: batchSize, latencyMs: latency, at: clock.now });
  }
  return next;
}

function run(controller: RpcController, windows: number, latencyMs: (c: RpcController) => number): RpcController {
  const clock = { now: 0 };
  let next = controller;
  for (let i = 0; i < windows && !next.settled; i++) next = feedWindow(next, clock, latencyMs);
  return next;
}

describe("rpc tuning controller", () => {
  it("starts small, within the limits", () => {
    expect(startController(LIMITS, null).tuning).toEqual(START_TUNING);
    expect(startController({ maxBatchSize: 4, maxInFlight: 1, minBatchSize: 1 }, null).tuning).toEqual({ batchSize: 4, inFlight: 1, batchCap: null });
    expect(startController({ ...LIMITS, minBatchSize: 30 }, null).tuning.batchSize).toBe(30);
  });

  it("grows the batch, then the requests in flight, while throughput rises, up to the limits", () => {
    // A node with a fixed cost per request and nothing per call: bigger and more requests always pay.
    const settled = run(startController(LIMITS, null), 50, () => 10);
    expect(settled.tuning).toEqual({ batchSize: 100, inFlight: 6, batchCap: null });
    expect(settled.settled).toBe(true);
  });

  it("steps back a growth that brought nothing and holds", () => {
    // Cost per call only beyond 40 calls a request: batches of 80 bring no more than 40; more in flight neither.
    const latency = (c: RpcController) => Math.max(10, c.tuning.batchSize / 4) * c.tuning.inFlight;
    const settled = run(startController(LIMITS, null), 50, latency);
    expect(settled.settled).toBe(true);
    expect(settled.tuning.batchSize).toBe(40);
    expect(settled.tuning.inFlight).toBe(2);
  });

  it("a 429 halves the requests in flight and the batch, and measures again", () => {
    const start = { ...startController(LIMITS, { batchSize: 64, inFlight: 6, batchCap: null }) };
    const next = observeAnswer(start, { outcome: "rate_limited", calls: 64, latencyMs: 5, at: 1 });
    expect(next.tuning).toEqual({ batchSize: 32, inFlight: 3, batchCap: null });
    expect(next.settled).toBe(false);
    expect(next.lastRate).toBeNull();
  });

  it.each(["server_error", "timeout"] as const)("%s halves the batch only", (outcome) => {
    const next = observeAnswer(startController(LIMITS, { batchSize: 64, inFlight: 4, batchCap: null }), { outcome, calls: 64, latencyMs: 5, at: 1 });
    expect(next.tuning).toEqual({ batchSize: 32, inFlight: 4, batchCap: null });
  });

  it("an answer slower than SLOW_MS halves the batch", () => {
    const next = observeAnswer(startController(LIMITS, { batchSize: 50, inFlight: 2, batchCap: null }), { outcome: "ok", calls: 50, latencyMs: SLOW_MS + 1, at: 1 });
    expect(next.tuning.batchSize).toBe(25);
  });

  it("never goes below one call and one request", () => {
    let controller = startController(LIMITS, { batchSize: 1, inFlight: 1, batchCap: null });
    for (const outcome of ["rate_limited", "server_error", "timeout", "batch_refused"] as const) {
      controller = observeAnswer(controller, { outcome, calls: 1, latencyMs: 1, at: 1 });
    }
    expect(controller.tuning).toEqual({ batchSize: 1, inFlight: 1, batchCap: 1 });
  });

  it("a refused batch caps the batch size below it for good: growth stops at the cap", () => {
    let controller = observeAnswer(startController(LIMITS, { batchSize: 40, inFlight: 1, batchCap: null }), { outcome: "batch_refused", calls: 40, latencyMs: 1, at: 1 });
    expect(controller.tuning).toEqual({ batchSize: 20, inFlight: 1, batchCap: 20 });
    controller = run(controller, 50, () => 10);
    expect(controller.tuning.batchSize).toBe(20);
    expect(controller.tuning.inFlight).toBe(6);
  });

  it("a node that takes no batches at all ends at single calls", () => {
    let controller = startController(LIMITS, null);
    while (controller.tuning.batchSize > 1) {
      controller = observeAnswer(controller, { outcome: "batch_refused", calls: controller.tuning.batchSize, latencyMs: 1, at: 1 });
    }
    expect(controller.tuning.batchCap).toBe(1);
    expect(run(controller, 50, () => 10).tuning.batchSize).toBe(1);
  });

  it("starts where earlier steps settled, and holds there until trouble", () => {
    const learned = { batchSize: 50, inFlight: 3, batchCap: null };
    const controller = startController(LIMITS, learned);
    expect(controller.tuning).toEqual(learned);
    expect(run(controller, 10, () => 10).tuning).toEqual(learned);
    // Learned values outside this client's limits are brought inside them.
    expect(startController({ maxBatchSize: 10, maxInFlight: 2, minBatchSize: 1 }, learned).tuning).toEqual({ batchSize: 10, inFlight: 2, batchCap: null });
  });

  it("withMinBatch raises the floor and the batch with it", () => {
    const controller = withMinBatch(startController(LIMITS, null), 25);
    expect(controller.tuning.batchSize).toBe(25);
    expect(observeAnswer(controller, { outcome: "server_error", calls: 25, latencyMs: 1, at: 1 }).tuning.batchSize).toBe(25);
    expect(withMinBatch(startController(LIMITS, null), 500).tuning.batchSize).toBe(100);
  });
});

describe("subrequest budget", () => {
  it("minBatchForBudget: two calls per block within three quarters of the budget", () => {
    expect(minBatchForBudget(1000, 2400)).toBe(2);
    expect(minBatchForBudget(1000, 10_000)).toBe(1);
    expect(minBatchForBudget(1000, 40)).toBe(67);
    expect(minBatchForBudget(10, 0)).toBe(20);
  });

  it("stepRequestBudget: the paid plan's 10,000 shared by the batch's steps, less what storage needs (100, at most a fifth)", () => {
    expect(stepRequestBudget(undefined, 1)).toBe(9_900);
    expect(stepRequestBudget(undefined, 4)).toBe(2_400);
    // The free plan: a fifth kept, the rest for the provider.
    expect(stepRequestBudget("50", 1)).toBe(40);
    expect(stepRequestBudget("1", 1)).toBe(1);
    expect(stepRequestBudget("1000", 2)).toBe(400);
    expect(stepRequestBudget("not a number", 4)).toBe(2_400);
    expect(stepRequestBudget("-5", 0)).toBe(9_900);
  });
});

describe("parseTuning", () => {
  it("takes valid tunings and nothing else", () => {
    expect(parseTuning({ batchSize: 5, inFlight: 2, batchCap: null })).toEqual({ batchSize: 5, inFlight: 2, batchCap: null });
    expect(parseTuning({ batchSize: 5, inFlight: 2, batchCap: 8 })).toEqual({ batchSize: 5, inFlight: 2, batchCap: 8 });
    for (const bad of [null, undefined, 3, "x", {}, { batchSize: 0, inFlight: 1, batchCap: null }, { batchSize: 1.5, inFlight: 1, batchCap: null }, { batchSize: 2, inFlight: 1 }]) {
      expect(parseTuning(bad)).toBeNull();
    }
  });
});
