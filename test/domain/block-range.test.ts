import { describe, expect, it } from "vitest";
import {
  type BlockRange,
  contains,
  covers,
  difference,
  intersection,
  isBlockNumber,
  isEmptyRange,
  normalize,
  rangeLength,
  totalLength,
  union,
} from "../../src/domain/block-range";
import { prng } from "../support/prng";

const r = (start: number, end: number): BlockRange => ({ start, end });

describe("isBlockNumber", () => {
  it.each([0, 1, 15_000_000, Number.MAX_SAFE_INTEGER])("accepts %s", (n) => {
    expect(isBlockNumber(n)).toBe(true);
  });
  it.each([-1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, Number.POSITIVE_INFINITY, "1", null, undefined, 1n])(
    "rejects %s",
    (n) => {
      expect(isBlockNumber(n)).toBe(false);
    },
  );
});

describe("rangeLength and isEmptyRange", () => {
  it("counts both ends", () => {
    expect(rangeLength(r(0, 0))).toBe(1);
    expect(rangeLength(r(5, 9))).toBe(5);
    expect(rangeLength(r(0, Number.MAX_SAFE_INTEGER - 1))).toBe(Number.MAX_SAFE_INTEGER);
  });
  it("treats start above end as empty", () => {
    expect(isEmptyRange(r(5, 4))).toBe(true);
    expect(isEmptyRange(r(5, 5))).toBe(false);
    expect(rangeLength(r(5, 4))).toBe(0);
  });
});

describe("normalize", () => {
  it("keeps the empty set empty", () => {
    expect(normalize([])).toEqual([]);
  });
  it("drops empty ranges", () => {
    expect(normalize([r(3, 2), r(10, 0)])).toEqual([]);
    expect(normalize([r(3, 2), r(4, 4)])).toEqual([r(4, 4)]);
  });
  it("sorts", () => {
    expect(normalize([r(20, 29), r(0, 9)])).toEqual([r(0, 9), r(20, 29)]);
  });
  it("merges overlapping ranges", () => {
    expect(normalize([r(0, 10), r(5, 15)])).toEqual([r(0, 15)]);
    expect(normalize([r(0, 10), r(2, 3)])).toEqual([r(0, 10)]);
    expect(normalize([r(2, 3), r(0, 10)])).toEqual([r(0, 10)]);
  });
  it("merges adjacent ranges but keeps a one-block gap", () => {
    expect(normalize([r(0, 9), r(10, 19)])).toEqual([r(0, 19)]);
    expect(normalize([r(0, 9), r(11, 19)])).toEqual([r(0, 9), r(11, 19)]);
  });
  it("merges single-block ranges into a run", () => {
    expect(normalize([r(3, 3), r(1, 1), r(2, 2), r(5, 5)])).toEqual([r(1, 3), r(5, 5)]);
  });
  it("merges duplicates", () => {
    expect(normalize([r(4, 8), r(4, 8), r(4, 8)])).toEqual([r(4, 8)]);
  });
  it("does not mutate its input", () => {
    const input = [r(10, 12), r(0, 1)];
    normalize(input);
    expect(input).toEqual([r(10, 12), r(0, 1)]);
  });
  it("handles the largest safe block", () => {
    const top = Number.MAX_SAFE_INTEGER;
    expect(normalize([r(top, top), r(top - 1, top - 1)])).toEqual([r(top - 1, top)]);
  });
});

describe("union", () => {
  it("of empty sets is empty", () => {
    expect(union([], [])).toEqual([]);
  });
  it("with the empty set is the other set, normalized", () => {
    expect(union([r(5, 6), r(0, 1)], [])).toEqual([r(0, 1), r(5, 6)]);
    expect(union([], [r(0, 1)])).toEqual([r(0, 1)]);
  });
  it("joins adjacent and overlapping ranges across sets", () => {
    expect(union([r(0, 4)], [r(5, 9)])).toEqual([r(0, 9)]);
    expect(union([r(0, 4), r(20, 30)], [r(3, 8), r(10, 19)])).toEqual([r(0, 8), r(10, 30)]);
  });
});

describe("difference", () => {
  it("from the empty set is empty", () => {
    expect(difference([], [r(0, 10)])).toEqual([]);
  });
  it("of the empty set is the set", () => {
    expect(difference([r(0, 10)], [])).toEqual([r(0, 10)]);
  });
  it("cuts a hole in the middle", () => {
    expect(difference([r(0, 10)], [r(3, 7)])).toEqual([r(0, 2), r(8, 10)]);
  });
  it("cuts the start or the end", () => {
    expect(difference([r(0, 10)], [r(0, 4)])).toEqual([r(5, 10)]);
    expect(difference([r(0, 10)], [r(6, 15)])).toEqual([r(0, 5)]);
  });
  it("removes everything when covered", () => {
    expect(difference([r(3, 7)], [r(0, 10)])).toEqual([]);
    expect(difference([r(3, 7)], [r(3, 7)])).toEqual([]);
    expect(difference([r(0, 4), r(6, 9)], [r(0, 9)])).toEqual([]);
  });
  it("leaves disjoint ranges alone", () => {
    expect(difference([r(10, 20)], [r(0, 5), r(25, 30)])).toEqual([r(10, 20)]);
  });
  it("removes single blocks", () => {
    expect(difference([r(0, 4)], [r(0, 0), r(2, 2), r(4, 4)])).toEqual([r(1, 1), r(3, 3)]);
  });
  it("works when one cut spans several ranges", () => {
    expect(difference([r(0, 2), r(5, 7), r(10, 12)], [r(1, 11)])).toEqual([r(0, 0), r(12, 12)]);
  });
  it("accepts unsorted, overlapping input on both sides", () => {
    expect(difference([r(8, 12), r(0, 9)], [r(5, 6), r(4, 5)])).toEqual([r(0, 3), r(7, 12)]);
  });
  it("matches the original's missing_block_ranges cases", () => {
    expect(difference([r(0, 5)], [r(10, 20)])).toEqual([r(0, 5)]);
    expect(difference([r(10, 20)], [r(0, 5)])).toEqual([r(10, 20)]);
    expect(difference([r(5, 10)], [r(0, 20)])).toEqual([]);
    expect(difference([r(0, 10)], [r(5, 15)])).toEqual([r(0, 4)]);
  });
});

describe("intersection", () => {
  it("with the empty set is empty", () => {
    expect(intersection([], [r(0, 10)])).toEqual([]);
    expect(intersection([r(0, 10)], [])).toEqual([]);
  });
  it("of disjoint or merely adjacent ranges is empty", () => {
    expect(intersection([r(0, 4)], [r(5, 9)])).toEqual([]);
    expect(intersection([r(0, 4)], [r(10, 19)])).toEqual([]);
  });
  it("of overlapping ranges is the overlap", () => {
    expect(intersection([r(0, 10)], [r(5, 15)])).toEqual([r(5, 10)]);
    expect(intersection([r(0, 10)], [r(10, 15)])).toEqual([r(10, 10)]);
  });
  it("clips several ranges to a window", () => {
    expect(intersection([r(0, 3), r(6, 9), r(12, 20)], [r(2, 13)])).toEqual([r(2, 3), r(6, 9), r(12, 13)]);
  });
});

describe("contains and covers", () => {
  it("nothing is in the empty set", () => {
    expect(contains([], 0)).toBe(false);
    expect(covers([], r(0, 0))).toBe(false);
  });
  it("checks both ends inclusively", () => {
    expect(contains([r(5, 9)], 5)).toBe(true);
    expect(contains([r(5, 9)], 9)).toBe(true);
    expect(contains([r(5, 9)], 4)).toBe(false);
    expect(contains([r(5, 9)], 10)).toBe(false);
  });
  it("covers a range split across adjacent ranges", () => {
    expect(covers([r(0, 4), r(5, 9)], r(2, 7))).toBe(true);
    expect(covers([r(0, 4), r(6, 9)], r(2, 7))).toBe(false);
  });
  it("covers an empty range always", () => {
    expect(covers([], r(5, 4))).toBe(true);
  });
});

describe("totalLength", () => {
  it("counts distinct blocks", () => {
    expect(totalLength([])).toBe(0);
    expect(totalLength([r(0, 9), r(5, 14), r(20, 20)])).toBe(16);
  });
});

/**
 * Property checks against a model: a set of blocks in a small universe as an
 * array of booleans, so every operation can be checked block by block.
 */
describe("range arithmetic against a block-by-block model", () => {
  const UNIVERSE = 64;
  const randomRanges = (rand: ReturnType<typeof prng>): BlockRange[] =>
    Array.from({ length: rand.int(0, 6) }, () => {
      const start = rand.int(0, UNIVERSE - 1);
      // Now and then an empty (inverted) range, which must count for nothing.
      const end = rand.chance(0.1) ? start - 1 : Math.min(UNIVERSE - 1, start + rand.int(0, 12));
      return r(start, end);
    });
  const model = (ranges: readonly BlockRange[]): boolean[] =>
    Array.from({ length: UNIVERSE }, (_, b) => ranges.some((x) => x.start <= b && b <= x.end));
  const isNormalized = (set: readonly BlockRange[]): boolean =>
    set.every((x, i) => x.start <= x.end && (i === 0 || set[i - 1]!.end + 1 < x.start));

  for (const seed of [1, 2, 3, 42, 1234]) {
    it(`holds for 400 random cases (seed ${seed})`, () => {
      const rand = prng(seed);
      for (let i = 0; i < 400; i++) {
        const a = randomRanges(rand);
        const b = randomRanges(rand);
        const ma = model(a);
        const mb = model(b);
        const u = union(a, b);
        const d = difference(a, b);
        const n = intersection(a, b);
        for (const set of [normalize(a), u, d, n]) expect(isNormalized(set)).toBe(true);
        expect(model(normalize(a))).toEqual(ma);
        expect(model(u)).toEqual(ma.map((x, k) => x || mb[k]));
        expect(model(d)).toEqual(ma.map((x, k) => x && !mb[k]));
        expect(model(n)).toEqual(ma.map((x, k) => x && mb[k]));
        // Difference then union restores the set; the pieces do not overlap.
        expect(union(d, n)).toEqual(normalize(a));
        expect(intersection(d, b)).toEqual([]);
        expect(totalLength(a)).toBe(ma.filter(Boolean).length);
        const block = rand.int(0, UNIVERSE - 1);
        expect(contains(normalize(a), block)).toBe(ma[block]);
      }
    });
  }
});
