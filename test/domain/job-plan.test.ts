import { describe, expect, it } from "vitest";
import type { BlockRange } from "../../src/domain/block-range";
import type { Segment } from "../../src/domain/canonical-chain";
import { desiredRange, type JobPlanInput, type PlanTable, planJob, settleForced, settleRebuild, tableMissing } from "../../src/domain/job-plan";

const r = (start: number, end: number): BlockRange => ({ start, end });

const hash = (block: number, fork = "a") => `0x${fork}${block.toString(16).padStart(8, "0")}`;

let nextFileId = 1;

/** A file of one table: linked to the block before it on the same fork. */
function segment(start: number, end: number, fork = "a", parentFork = fork): Segment {
  return { fileId: nextFileId++, range: r(start, end), hash: hash(end, fork), prevHash: start === 0 ? null : hash(start - 1, parentFork), network: "anvil" };
}

/** Segments covering `ranges` on fork "a", one per range. */
const covered = (...ranges: BlockRange[]) => ranges.map((range) => segment(range.start, range.end));

/** A table with these files and no invalidations. */
const table = (segments: readonly Segment[] = []): PlanTable => ({ segments, invalidations: [] });

type PlanOverrides = Partial<Omit<JobPlanInput, "tables">> & { tables?: readonly (readonly Segment[])[] };

function plan({ tables, ...overrides }: PlanOverrides) {
  return planJob({
    startBlock: 0,
    end: 99,
    head: 1000,
    tables: (tables ?? [[]]).map(table),
    forced: [],
    rebuild: [],
    rebuildOnly: false,
    busy: [],
    stepSize: 10,
    parallelism: 1,
    ...overrides,
  });
}

const noExtra = (forced: BlockRange[] = []) => ({ forced, rebuild: [], rebuildOnly: false });

describe("desiredRange", () => {
  it("is nothing until the head is known", () => {
    expect(desiredRange(0, 99, null)).toBeNull();
    expect(desiredRange(0, null, null)).toBeNull();
  });
  it("runs from the start block to the end, or to the head when that is lower", () => {
    expect(desiredRange(5, 99, 1000)).toEqual(r(5, 99));
    expect(desiredRange(5, 99, 40)).toEqual(r(5, 40));
    expect(desiredRange(5, 99, 99)).toEqual(r(5, 99));
  });
  it("follows the head for a continuous job", () => {
    expect(desiredRange(5, null, 40)).toEqual(r(5, 40));
  });
  it("is nothing while the head is below the start block", () => {
    expect(desiredRange(50, 99, 49)).toBeNull();
    expect(desiredRange(50, null, 10)).toBeNull();
    expect(desiredRange(50, null, 50)).toEqual(r(50, 50));
  });
});

describe("tableMissing", () => {
  it("is the part of the range no file covers", () => {
    expect(tableMissing(r(0, 29), table(covered(r(0, 9), r(20, 24))), noExtra())).toEqual([r(10, 19), r(25, 29)]);
  });
  it("adds forced blocks inside the range, and only those", () => {
    expect(tableMissing(r(0, 29), table(covered(r(0, 29))), noExtra([r(5, 7), r(40, 50)]))).toEqual([r(5, 7)]);
    expect(tableMissing(r(0, 29), table(covered(r(0, 19))), noExtra([r(15, 22)]))).toEqual([r(15, 29)]);
  });
});

describe("planJob: a finite job", () => {
  it("hands out aligned steps from the start block, one per free slot", () => {
    const result = plan({ startBlock: 3, end: 45, parallelism: 3 });
    expect(result.missing).toEqual([r(3, 45)]);
    expect(result.steps).toEqual([r(3, 9), r(10, 19), r(20, 29)]);
    expect(result.complete).toBe(false);
  });

  it("never plans past the end block, however far the head is", () => {
    const result = plan({ end: 24, parallelism: 10 });
    expect(result.steps).toEqual([r(0, 9), r(10, 19), r(20, 24)]);
  });

  it("plans only up to the head while the head is below the end", () => {
    const result = plan({ end: 99, head: 14, parallelism: 10 });
    expect(result.missing).toEqual([r(0, 14)]);
    expect(result.steps).toEqual([r(0, 9), r(10, 14)]);
    expect(result.complete).toBe(false);
  });

  it("waits while the head is below the start block, or unknown", () => {
    for (const head of [null, 49]) {
      const result = plan({ startBlock: 50, end: 99, head });
      expect(result).toEqual({ missing: [], steps: [], complete: false });
    }
  });

  it("counts a block missing when any table lacks it (tables progress apart)", () => {
    const result = plan({ end: 29, tables: [covered(r(0, 29)), covered(r(0, 9)), covered(r(0, 19))], parallelism: 5 });
    expect(result.missing).toEqual([r(10, 29)]);
    expect(result.steps).toEqual([r(10, 19), r(20, 29)]);
  });

  it("skips what busy steps are doing and fills only the free slots", () => {
    const result = plan({ end: 59, busy: [r(0, 9), r(20, 29)], parallelism: 3 });
    expect(result.steps).toEqual([r(10, 19)]);
    expect(plan({ end: 59, busy: [r(0, 9), r(20, 29)], parallelism: 2 }).steps).toEqual([]);
    // Waiting retries count as busy too: more busy steps than slots plans nothing.
    expect(plan({ end: 59, busy: [r(0, 9), r(20, 29), r(30, 39)], parallelism: 2 }).steps).toEqual([]);
  });

  it("is complete only when no table misses anything and no step is busy", () => {
    const full = [covered(r(0, 49), r(50, 99)), covered(r(0, 99))];
    expect(plan({ tables: full }).complete).toBe(true);
    expect(plan({ tables: full, busy: [r(0, 9)] }).complete).toBe(false);
    expect(plan({ tables: [covered(r(0, 99)), covered(r(0, 98))] }).complete).toBe(false);
    expect(plan({ tables: full, forced: [r(90, 99)] }).complete).toBe(false);
  });

  it("is complete from the files alone: a head below the end or not known yet does not hold it back", () => {
    const full = [covered(r(0, 99))];
    expect(plan({ tables: full, head: null })).toEqual({ missing: [], steps: [], complete: true });
    expect(plan({ tables: full, head: 50 }).complete).toBe(true);
    expect(plan({ tables: [covered(r(0, 50))], head: 50 }).complete).toBe(false);
  });

  it("ignores files outside the job's range", () => {
    expect(plan({ startBlock: 10, end: 19, tables: [covered(r(0, 9), r(10, 19), r(20, 29))] }).complete).toBe(true);
  });
});

describe("planJob: a continuous job", () => {
  it("plans up to the head and is never complete", () => {
    const result = plan({ end: null, head: 25, parallelism: 5 });
    expect(result.steps).toEqual([r(0, 9), r(10, 19), r(20, 25)]);
    expect(plan({ end: null, head: 25, tables: [covered(r(0, 25))] })).toEqual({ missing: [], steps: [], complete: false });
  });

  it("picks up the blocks a moved head adds", () => {
    const tables = [covered(r(0, 25))];
    expect(plan({ end: null, head: 25, tables }).steps).toEqual([]);
    expect(plan({ end: null, head: 42, tables, parallelism: 5 }).steps).toEqual([r(26, 29), r(30, 39), r(40, 42)]);
  });
});

describe("planJob: reorgs", () => {
  it("extracts a covered range again while it is forced", () => {
    const tables = [covered(r(0, 9), r(10, 19), r(20, 29))];
    const result = plan({ end: null, head: 29, tables, forced: [r(10, 29)], parallelism: 5 });
    expect(result.missing).toEqual([r(10, 29)]);
    expect(result.steps).toEqual([r(10, 19), r(20, 29)]);
  });

  it("counts a range missing again when a fork ends above the canonical chain", () => {
    // 20..29 was extracted on fork b, whose block 19 differs from the stored one.
    const tables = [[segment(0, 9), segment(10, 19), segment(20, 29, "b", "b")]];
    const result = plan({ end: null, head: 29, tables });
    expect(result.missing).toEqual([r(10, 19)]);
    expect(result.steps).toEqual([r(10, 19)]);
    // Once 10..19 of fork b is there, the fork links up and nothing is missing.
    const repaired = [[...tables[0]!, segment(10, 19, "b", "a")]];
    expect(plan({ end: null, head: 29, tables: repaired }).missing).toEqual([]);
  });

  it("keeps a finite job from completing while a fork is unrepaired", () => {
    const tables = [[segment(0, 9), segment(10, 19), segment(20, 29, "b", "b")]];
    expect(plan({ end: 29, tables }).complete).toBe(false);
  });
});

describe("settleForced", () => {
  it("drops what a completed step extracted and keeps the rest", () => {
    expect(settleForced([r(10, 29)], r(10, 19))).toEqual([r(20, 29)]);
    expect(settleForced([r(10, 19), r(10, 19)], r(10, 19))).toEqual([]);
    expect(settleForced([r(10, 29)], r(40, 49))).toEqual([r(10, 29)]);
  });
});

describe("planJob: invalidated partitions and rebuilds", () => {
  /** 0..29 in three files, with 10..19 invalidated (every file registered so far). */
  function invalidatedMiddle(): PlanTable {
    const segments = covered(r(0, 9), r(10, 19), r(20, 29));
    const ceiling = Math.max(...segments.map((s) => s.fileId));
    return { segments, invalidations: [{ range: r(12, 14), fileIdCeiling: ceiling }] };
  }
  const planWith = (tables: PlanTable[], overrides: Partial<JobPlanInput> = {}) =>
    planJob({ startBlock: 0, end: 29, head: 100, tables, forced: [], rebuild: [], rebuildOnly: false, busy: [], stepSize: 10, parallelism: 5, ...overrides });

  it("does not extract an invalidated range again until a rebuild asks for it", () => {
    const result = planWith([invalidatedMiddle()]);
    expect(result.missing).toEqual([]);
    expect(result.complete).toBe(true);
  });

  it("extracts the whole invalidated file's range when a rebuild names part of it, and completes once a newer file holds it", () => {
    const table = invalidatedMiddle();
    const result = planWith([table], { rebuild: [r(12, 14)] });
    expect(result.missing).toEqual([r(12, 14)]);
    // The rebuild ranges come from rebuildRanges, which widens to whole files; planned as given.
    const widened = planWith([table], { rebuild: [r(10, 19)] });
    expect(widened.missing).toEqual([r(10, 19)]);
    expect(widened.complete).toBe(false);
    const rebuilt = { ...table, segments: [...table.segments, segment(10, 19)] };
    expect(planWith([rebuilt], { rebuild: [r(10, 19)] })).toEqual({ missing: [], steps: [], complete: true });
  });

  it("extracts rebuild ranges beyond a bounded job's end, but not beyond the head", () => {
    const table = invalidatedMiddle();
    expect(planWith([table], { end: 5, rebuild: [r(10, 19)] }).missing).toEqual([r(10, 19)]);
    expect(planWith([table], { end: 5, head: 15, rebuild: [r(10, 19)] }).missing).toEqual([r(10, 15)]);
  });

  it("a rebuild job extracts its ranges and nothing else, gaps elsewhere included", () => {
    const table = invalidatedMiddle();
    const withGap = { ...table, segments: table.segments.filter((s) => s.range.start !== 20) };
    const result = planWith([withGap], { rebuild: [r(10, 19)], rebuildOnly: true });
    expect(result.missing).toEqual([r(10, 19)]);
    const rebuilt = { ...withGap, segments: [...withGap.segments, segment(10, 19)] };
    expect(planWith([rebuilt], { rebuild: [r(10, 19)], rebuildOnly: true }).complete).toBe(true);
    expect(planWith([rebuilt], { rebuild: [r(10, 19)], rebuildOnly: false }).complete).toBe(false);
  });

  it("gives each table only the blocks it needs again", () => {
    const extra = { forced: [], rebuild: [r(10, 19)], rebuildOnly: false };
    expect(tableMissing(r(10, 19), invalidatedMiddle(), extra)).toEqual([r(10, 19)]);
    expect(tableMissing(r(10, 19), table(covered(r(0, 29))), extra)).toEqual([]);
  });

  it("settles rebuild ranges whose blocks count again in every table", () => {
    const waiting = invalidatedMiddle();
    const rebuilt = { ...waiting, segments: [...waiting.segments, segment(10, 19)] };
    expect(settleRebuild([r(10, 19)], [waiting, table(covered(r(0, 29)))])).toEqual([r(10, 19)]);
    expect(settleRebuild([r(10, 19)], [rebuilt, table(covered(r(0, 29)))])).toEqual([]);
  });
});
