import { describe, expect, it } from "vitest";
import { type BlockRange, difference, intersection, normalize, totalLength } from "../../src/domain/block-range";
import { nextSteps } from "../../src/domain/step-plan";
import { prng } from "../support/prng";

const r = (start: number, end: number): BlockRange => ({ start, end });

/** Every step the missing blocks split into: nextSteps with nothing in flight and more slots than steps. */
const allSteps = (missing: readonly BlockRange[], stepSize: number) =>
  nextSteps({ missing, inFlight: [], stepSize, parallelism: Number.MAX_SAFE_INTEGER });

describe("nextSteps cuts the missing blocks into aligned steps", () => {
  it("is empty for no missing blocks", () => {
    expect(allSteps([], 1000)).toEqual([]);
  });
  it("keeps a range smaller than a step whole", () => {
    expect(allSteps([r(5, 9)], 1000)).toEqual([r(5, 9)]);
  });
  it("cuts at multiples of the step size", () => {
    expect(allSteps([r(0, 2999)], 1000)).toEqual([r(0, 999), r(1000, 1999), r(2000, 2999)]);
    expect(allSteps([r(1500, 3100)], 1000)).toEqual([r(1500, 1999), r(2000, 2999), r(3000, 3100)]);
  });
  it("gives single-block steps with step size 1", () => {
    expect(allSteps([r(3, 5)], 1)).toEqual([r(3, 3), r(4, 4), r(5, 5)]);
  });
  it("handles single blocks and ranges on a step boundary", () => {
    expect(allSteps([r(999, 1000)], 1000)).toEqual([r(999, 999), r(1000, 1000)]);
    expect(allSteps([r(1000, 1000)], 1000)).toEqual([r(1000, 1000)]);
  });
  it("normalizes its input first", () => {
    expect(allSteps([r(1200, 1300), r(900, 1250), r(10, 5)], 1000)).toEqual([r(900, 999), r(1000, 1300)]);
  });
  it("gives the same steps for the same blocks however the gaps were found", () => {
    expect(allSteps([r(0, 1499)], 1000)).toEqual(allSteps([r(0, 499), r(500, 1499)], 1000));
  });
  it("works near the largest safe block", () => {
    const top = Number.MAX_SAFE_INTEGER;
    // top - 2 is odd, so with steps of 2 it ends a step on its own.
    expect(allSteps([r(top - 2, top)], 2)).toEqual([r(top - 2, top - 2), r(top - 1, top)]);
    expect(allSteps([r(top - 3, top)], 1000)).toEqual([r(top - 3, top)]);
  });
  it("refuses a step size that is not a positive integer", () => {
    for (const size of [0, -1, 1.5, Number.NaN]) expect(() => allSteps([r(0, 1)], size)).toThrow(RangeError);
  });
});

describe("nextSteps", () => {
  it("starts nothing when nothing is missing", () => {
    expect(nextSteps({ missing: [], inFlight: [], stepSize: 1000, parallelism: 4 })).toEqual([]);
  });
  it("with parallelism 1 starts the lowest step only", () => {
    expect(nextSteps({ missing: [r(0, 4999)], inFlight: [], stepSize: 1000, parallelism: 1 })).toEqual([r(0, 999)]);
  });
  it("with parallelism 1 and a step in flight starts nothing", () => {
    expect(nextSteps({ missing: [r(0, 4999)], inFlight: [r(0, 999)], stepSize: 1000, parallelism: 1 })).toEqual([]);
  });
  it("with parallelism 2 fills the free slot with the next step after the one in flight", () => {
    expect(nextSteps({ missing: [r(0, 4999)], inFlight: [r(0, 999)], stepSize: 1000, parallelism: 2 })).toEqual([
      r(1000, 1999),
    ]);
  });
  it("with many slots hands out every remaining step, and no more", () => {
    expect(nextSteps({ missing: [r(0, 2499)], inFlight: [], stepSize: 1000, parallelism: 64 })).toEqual([
      r(0, 999),
      r(1000, 1999),
      r(2000, 2499),
    ]);
  });
  it("hands out at most the free slots", () => {
    const steps = nextSteps({ missing: [r(0, 99_999)], inFlight: [r(0, 999), r(1000, 1999)], stepSize: 1000, parallelism: 5 });
    expect(steps).toEqual([r(2000, 2999), r(3000, 3999), r(4000, 4999)]);
  });
  it("starts nothing when more steps are in flight than allowed (parallelism lowered)", () => {
    expect(nextSteps({ missing: [r(0, 9999)], inFlight: [r(0, 999), r(1000, 1999), r(2000, 2999)], stepSize: 1000, parallelism: 2 })).toEqual([]);
  });
  it("skips blocks an in-flight step covers, even when not aligned", () => {
    expect(nextSteps({ missing: [r(0, 2999)], inFlight: [r(500, 1499)], stepSize: 1000, parallelism: 4 })).toEqual([
      r(0, 499),
      r(1500, 1999),
      r(2000, 2999),
    ]);
  });
  it("counts in-flight steps outside the missing ranges against the slots", () => {
    expect(nextSteps({ missing: [r(5000, 5999)], inFlight: [r(0, 999)], stepSize: 1000, parallelism: 2 })).toEqual([
      r(5000, 5999),
    ]);
    expect(nextSteps({ missing: [r(5000, 5999)], inFlight: [r(0, 999)], stepSize: 1000, parallelism: 1 })).toEqual([]);
  });
  it("fills gaps lowest first, then the tail", () => {
    const missing = [r(120, 130), r(2000, 2002), r(9000, 12_000)];
    expect(nextSteps({ missing, inFlight: [], stepSize: 1000, parallelism: 4 })).toEqual([
      r(120, 130),
      r(2000, 2002),
      r(9000, 9999),
      r(10_000, 10_999),
    ]);
  });
  it("follows the head of a continuous job with small steps", () => {
    expect(nextSteps({ missing: [r(5001, 5003)], inFlight: [], stepSize: 1000, parallelism: 1 })).toEqual([r(5001, 5003)]);
  });
  it("refuses a parallelism or step size that is not a positive integer", () => {
    expect(() => nextSteps({ missing: [r(0, 1)], inFlight: [], stepSize: 1000, parallelism: 0 })).toThrow(RangeError);
    expect(() => nextSteps({ missing: [r(0, 1)], inFlight: [], stepSize: 0, parallelism: 1 })).toThrow(RangeError);
    expect(() => nextSteps({ missing: [], inFlight: [r(0, 1)], stepSize: 1000, parallelism: 1.5 })).toThrow(RangeError);
  });
  it("does not build every step of a huge range to hand out a few", () => {
    // Four billion steps: building them all would run out of memory or time.
    const steps = nextSteps({ missing: [r(0, 4_000_000_000_000)], inFlight: [], stepSize: 1000, parallelism: 3 });
    expect(steps).toEqual([r(0, 999), r(1000, 1999), r(2000, 2999)]);
  });
});

describe("nextSteps driven to the end", () => {
  for (const seed of [5, 6, 7]) {
    it(`extracts every missing block exactly once, never above the parallelism (seed ${seed})`, () => {
      const rand = prng(seed);
      for (let sample = 0; sample < 100; sample++) {
        const missing = normalize(
          Array.from({ length: rand.int(0, 5) }, () => {
            const start = rand.int(0, 5000);
            return r(start, start + rand.int(0, 3000));
          }),
        );
        const stepSize = rand.int(1, 1500);
        const parallelism = rand.int(1, 6);
        let remaining = missing;
        let inFlight: BlockRange[] = [];
        const done: BlockRange[] = [];
        for (let tick = 0; tick < 100_000 && (remaining.length > 0 || inFlight.length > 0); tick++) {
          const started = nextSteps({ missing: remaining, inFlight, stepSize, parallelism });
          inFlight = [...inFlight, ...started];
          expect(inFlight.length).toBeLessThanOrEqual(parallelism);
          for (const step of started) {
            expect(step.end - step.start + 1).toBeLessThanOrEqual(stepSize);
            expect(Math.floor(step.start / stepSize)).toBe(Math.floor(step.end / stepSize));
          }
          // A random in-flight step finishes.
          const [finished] = inFlight.splice(rand.int(0, inFlight.length - 1), 1);
          if (finished) {
            expect(intersection(done, [finished])).toEqual([]);
            done.push(finished);
            remaining = difference(remaining, [finished]);
          }
        }
        expect(normalize(done)).toEqual(missing);
        expect(done.reduce((n, s) => n + s.end - s.start + 1, 0)).toBe(totalLength(missing));
      }
    });
  }
});
