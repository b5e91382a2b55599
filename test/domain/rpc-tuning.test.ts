import { describe, expect, it } from "vitest";
import {
  type AnswerOutcome,
  busyMs,
  learnedTuning,
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
 * flight answered side by side: feeds one window's worth of answers. After
 * each round of answers the client has nothing in flight for `idleMsPerCall`
 * per call answered (building their rows, writing files).
 */
function feedWindow(
  controller: RpcController,
  clock: { now: number },
  latencyMs: (c: RpcController) => number,
  outcome: AnswerOutcome = "ok",
  idleMsPerCall = 0,
): RpcController {
  const { batchSize, inFlight } = controller.tuning;
  const { generation } = controller;
  const latency = latencyMs(controller);
  let next = controller;
  for (let i = 0; i < 4 * inFlight; i++) {
    if (i % inFlight === 0) clock.now += latency;
    next = observeAnswer(next, { outcome, calls: batchSize, latencyMs: latency, at: clock.now, generation });
    if (i % inFlight === inFlight - 1) clock.now += idleMsPerCall * batchSize * inFlight;
  }
  return next;
}

function run(controller: RpcController, windows: number, latencyMs: (c: RpcController) => number, idleMsPerCall = 0): RpcController {
  const clock = { now: 0 };
  let next = controller;
  for (let i = 0; i < windows && !next.settled; i++) next = feedWindow(next, clock, latencyMs, "ok", idleMsPerCall);
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

  it("measures throughput over the time requests were in flight, not over the gaps between them", () => {
    // Each round of answers is followed by 1 ms per call answered with nothing in flight (the client building
    // rows): over wall time the gaps grow with the calls and soon every growth looks like nothing (at batch 40,
    // doubling gains 6 %), while the node answers each request in 10 ms whatever its size.
    const settled = run(startController(LIMITS, null), 50, () => 10, 1);
    expect(settled.tuning).toEqual({ batchSize: 100, inFlight: 6, batchCap: null });
  });

  it("keeps a bigger batch that is as fast (fewer requests), and adds requests in flight only while they pay", () => {
    // A node working one call at a time (0.25 ms each, 10 ms at least per request): batches up to 40 pay,
    // beyond that they are as fast, and requests in flight just queue behind each other.
    const latency = (c: RpcController) => Math.max(10, c.tuning.batchSize / 4) * c.tuning.inFlight;
    const settled = run(startController(LIMITS, null), 50, latency);
    expect(settled.settled).toBe(true);
    expect(settled.tuning).toEqual({ batchSize: 100, inFlight: 2, batchCap: null });
  });

  it("steps a slower batch back to the one before it and grows the requests in flight from there", () => {
    // Batches above 40 calls are much slower (a node that handles large batches badly); requests in flight
    // are answered side by side up to 4 of them.
    const latency = (c: RpcController) => (c.tuning.batchSize <= 40 ? 10 : c.tuning.batchSize) * Math.max(1, c.tuning.inFlight / 4);
    const settled = run(startController(LIMITS, null), 50, latency);
    expect(settled.settled).toBe(true);
    expect(settled.tuning).toEqual({ batchSize: 40, inFlight: 4, batchCap: null });
  });

  it("goes back exactly to the tuning before a growth that did not pay, also when the batch was clamped to its maximum", () => {
    // 10, 20, 40, 80, then 100 (clamped): 100 is slower, so back to 80, not to 50.
    const latency = (c: RpcController) => (c.tuning.batchSize <= 80 ? 10 : 1_000);
    const settled = run(startController({ ...LIMITS, maxInFlight: 2 }, null), 50, latency);
    expect(settled.tuning).toEqual({ batchSize: 80, inFlight: 2, batchCap: null });
  });

  it("a step that ended while probing hands `probing` on, and the next step goes on growing from there", () => {
    const partway = run(startController(LIMITS, null), 2, () => 10);
    expect(partway.settled).toBe(false);
    const learned = learnedTuning(partway);
    expect(learned).toEqual({ ...partway.tuning, probing: true });
    expect(parseTuning(JSON.parse(JSON.stringify(learned)))).toEqual(learned);
    const next = startController(LIMITS, learned);
    expect(next.settled).toBe(false);
    const settled = run(next, 50, () => 10);
    expect(settled.tuning).toEqual({ batchSize: 100, inFlight: 6, batchCap: null });
    // Settled: nothing of `probing` goes on, and the next step holds.
    expect(learnedTuning(settled)).toEqual({ batchSize: 100, inFlight: 6, batchCap: null });
    expect(startController(LIMITS, learnedTuning(settled)).settled).toBe(true);
  });

  it("a window counts only requests made under the current tuning", () => {
    // A growth while requests of the old tuning are still out: their answers do not make the new tuning's window.
    const clock = { now: 0 };
    const grown = feedWindow(startController(LIMITS, null), clock, () => 10);
    expect(grown.tuning.batchSize).toBe(20);
    let next = grown;
    for (let i = 0; i < 10; i++) {
      next = observeAnswer(next, { outcome: "ok", calls: 10, latencyMs: 1000, at: (clock.now += 1000), generation: grown.generation - 1 });
    }
    expect(next).toEqual(grown);
    // Nor do a 429 or a slow answer to a request made before a shrink shrink it again.
    const shrunk = observeAnswer(grown, { outcome: "rate_limited", calls: 20, latencyMs: 5, at: 1, generation: grown.generation });
    expect(shrunk.tuning).toEqual({ batchSize: 10, inFlight: 1, batchCap: null });
    const stale = { calls: 20, latencyMs: SLOW_MS + 1, at: 2, generation: grown.generation };
    expect(observeAnswer(shrunk, { ...stale, outcome: "rate_limited" })).toEqual(shrunk);
    expect(observeAnswer(shrunk, { ...stale, outcome: "ok" })).toEqual(shrunk);
    // A refused batch is a fact about the node whenever it was made: it caps the batch size.
    const capped = observeAnswer(shrunk, { ...stale, outcome: "batch_refused", calls: 12 });
    expect(capped.tuning).toEqual({ batchSize: 6, inFlight: 1, batchCap: 6 });
    // One that says no more than is known already changes nothing.
    expect(observeAnswer(capped, { ...stale, outcome: "batch_refused", calls: 40 })).toEqual(capped);
    // The subrequest budget's floor is a new tuning too.
    expect(withMinBatch(capped, 4)).toEqual({ ...capped, limits: { ...capped.limits, minBatchSize: 4 } });
    expect(withMinBatch(shrunk, 15).tuning.batchSize).toBe(15);
    expect(withMinBatch(shrunk, 15).generation).toBe(shrunk.generation + 1);
  });

  it("a 429 halves the requests in flight and the batch, and measures again", () => {
    const start = { ...startController(LIMITS, { batchSize: 64, inFlight: 6, batchCap: null }) };
    const next = observeAnswer(start, { outcome: "rate_limited", calls: 64, latencyMs: 5, at: 1, generation: 0 });
    expect(next.tuning).toEqual({ batchSize: 32, inFlight: 3, batchCap: null });
    expect(next.settled).toBe(false);
    expect(next.bestRate).toBeNull();
  });

  it.each(["server_error", "timeout"] as const)("%s halves the batch only", (outcome) => {
    const next = observeAnswer(startController(LIMITS, { batchSize: 64, inFlight: 4, batchCap: null }), { outcome, calls: 64, latencyMs: 5, at: 1, generation: 0 });
    expect(next.tuning).toEqual({ batchSize: 32, inFlight: 4, batchCap: null });
  });

  it("an answer slower than SLOW_MS halves the batch", () => {
    const next = observeAnswer(startController(LIMITS, { batchSize: 50, inFlight: 2, batchCap: null }), { outcome: "ok", calls: 50, latencyMs: SLOW_MS + 1, at: 1, generation: 0 });
    expect(next.tuning.batchSize).toBe(25);
  });

  it("never goes below one call and one request", () => {
    let controller = startController(LIMITS, { batchSize: 1, inFlight: 1, batchCap: null });
    for (const outcome of ["rate_limited", "server_error", "timeout", "batch_refused"] as const) {
      controller = observeAnswer(controller, { outcome, calls: 1, latencyMs: 1, at: 1, generation: controller.generation });
    }
    expect(controller.tuning).toEqual({ batchSize: 1, inFlight: 1, batchCap: 1 });
  });

  it("a refused batch caps the batch size below it for good: growth stops at the cap", () => {
    let controller = observeAnswer(startController(LIMITS, { batchSize: 40, inFlight: 1, batchCap: null }), { outcome: "batch_refused", calls: 40, latencyMs: 1, at: 1, generation: 0 });
    expect(controller.tuning).toEqual({ batchSize: 20, inFlight: 1, batchCap: 20 });
    controller = run(controller, 50, () => 10);
    expect(controller.tuning.batchSize).toBe(20);
    expect(controller.tuning.inFlight).toBe(6);
  });

  it("a node that takes no batches at all ends at single calls", () => {
    let controller = startController(LIMITS, null);
    while (controller.tuning.batchSize > 1) {
      controller = observeAnswer(controller, { outcome: "batch_refused", calls: controller.tuning.batchSize, latencyMs: 1, at: 1, generation: controller.generation });
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
    expect(observeAnswer(controller, { outcome: "server_error", calls: 25, latencyMs: 1, at: 1, generation: controller.generation }).tuning.batchSize).toBe(25);
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

describe("busyMs", () => {
  it("is the length of the union of the intervals, in any order", () => {
    expect(busyMs([])).toBe(0);
    expect(busyMs([[0, 10]])).toBe(10);
    // Disjoint: the gap between them does not count.
    expect(busyMs([[0, 10], [100, 110]])).toBe(20);
    // Overlapping and nested requests count once.
    expect(busyMs([[0, 10], [5, 15], [6, 7]])).toBe(15);
    // A later answer of an earlier request covers a gap between two others.
    expect(busyMs([[0, 1], [2, 3], [0.5, 4]])).toBe(4);
    expect(busyMs([[50, 60], [0, 10], [55, 70], [10, 20]])).toBe(40);
  });
});

describe("parseTuning", () => {
  it("takes valid tunings and nothing else", () => {
    expect(parseTuning({ batchSize: 5, inFlight: 2, batchCap: null, probing: true })).toEqual({ batchSize: 5, inFlight: 2, batchCap: null, probing: true });
    expect(parseTuning({ batchSize: 5, inFlight: 2, batchCap: null, probing: false })).toEqual({ batchSize: 5, inFlight: 2, batchCap: null });
    expect(parseTuning({ batchSize: 5, inFlight: 2, batchCap: null, probing: "yes" })).toBeNull();
    expect(parseTuning({ batchSize: 5, inFlight: 2, batchCap: null })).toEqual({ batchSize: 5, inFlight: 2, batchCap: null });
    expect(parseTuning({ batchSize: 5, inFlight: 2, batchCap: 8 })).toEqual({ batchSize: 5, inFlight: 2, batchCap: 8 });
    for (const bad of [null, undefined, 3, "x", {}, { batchSize: 0, inFlight: 1, batchCap: null }, { batchSize: 1.5, inFlight: 1, batchCap: null }, { batchSize: 2, inFlight: 1 }]) {
      expect(parseTuning(bad)).toBeNull();
    }
  });
});
