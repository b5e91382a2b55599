import { describe, expect, it } from "vitest";
import type { BlockRange } from "../../src/domain/block-range";
import { canonicalChain, type Invalidation, tableProgress } from "../../src/domain/canonical-chain";
import { blockRangeProblem, type PartitionFile, partitionPage, rebuildRanges, tablePartitions } from "../../src/domain/partitions";

const r = (start: number, end: number): BlockRange => ({ start, end });
const h = (block: number, branch = 0): string => `0x${block.toString(16).padStart(8, "0")}${branch.toString(16).padStart(56, "0")}`;

function file(fileId: number, start: number, end: number, branch = 0, parent = branch): PartitionFile {
  return { fileId, range: r(start, end), hash: h(end, branch), prevHash: start === 0 ? null : h(start - 1, parent), network: "anvil", rowCount: end - start + 1, objectSize: 100 };
}

const invalidate = (start: number, end: number, fileIdCeiling: number): Invalidation => ({ range: r(start, end), fileIdCeiling });
const shape = (list: readonly { range: BlockRange; status: string; files: number }[]) => list.map((p) => `${p.status} ${p.range.start}..${p.range.end} x${p.files}`);

describe("invalidations as an input of the canonical chain", () => {
  const files = [file(1, 0, 9), file(2, 10, 19), file(3, 20, 29)];

  it("takes out every file registered by then that holds a block of the range, whole", () => {
    expect(canonicalChain(files, 0, [invalidate(15, 15, 3)]).map((f) => f.fileId)).toEqual([1]);
    expect(canonicalChain(files, 0, [invalidate(0, 0, 3)])).toEqual([]);
    expect(tableProgress(files, 0, [invalidate(15, 15, 3)])).toEqual({ startBlock: 0, currentBlock: 9, filesCount: 1, totalSizeBytes: 100 });
  });

  it("counts files registered after the invalidation: a rebuild links the chain up again", () => {
    const rebuilt = [...files, file(4, 10, 19)];
    expect(canonicalChain(rebuilt, 0, [invalidate(15, 15, 3)]).map((f) => f.fileId)).toEqual([1, 4, 3]);
  });

  it("leaves files outside the range alone", () => {
    expect(canonicalChain(files, 0, [invalidate(30, 40, 3)]).map((f) => f.fileId)).toEqual([1, 2, 3]);
  });
});

describe("tablePartitions", () => {
  it("lists materialized files, gaps up to the target end, orphans and invalidated files in block order", () => {
    const files = [
      file(1, 0, 9),
      file(2, 10, 19, 1, 0), // a reorg's losing branch, replaced by 3
      file(3, 10, 19, 2, 0),
      file(4, 20, 29, 2),
      file(5, 40, 49, 2, 2), // past a gap: joins once 30..39 is there
    ];
    const partitions = tablePartitions(files, [invalidate(20, 20, 5)], 0, 59);
    expect(shape(partitions)).toEqual([
      "materialized 0..9 x1",
      "materialized 10..19 x1",
      "orphaned 10..19 x1",
      "invalidated 20..29 x1",
      "missing 30..39 x0",
      "materialized 40..49 x1",
      "missing 50..59 x0",
    ]);
    expect(partitions[3]).toMatchObject({ rows: 10, bytes: 100, endHash: h(29, 2), invalidation: { range: r(20, 20) } });
    expect(partitions[4]).toMatchObject({ rows: 0, bytes: 0, endHash: null });
  });

  it("groups files of the same status and range, and shows a rebuilt range beside its invalidated files", () => {
    const files = [file(1, 0, 9), file(2, 0, 9), file(3, 0, 9)];
    expect(shape(tablePartitions(files, [invalidate(0, 9, 2)], 0, null))).toEqual(["materialized 0..9 x1", "invalidated 0..9 x2"]);
  });

  it("starts missing ranges at the start block, and has none without files or target", () => {
    expect(shape(tablePartitions([file(1, 10, 19)], [], 5, null))).toEqual(["missing 5..9 x0", "materialized 10..19 x1"]);
    expect(tablePartitions([], [], 0, null)).toEqual([]);
    expect(shape(tablePartitions([], [], 0, 4))).toEqual(["missing 0..4 x0"]);
  });
});

describe("partitionPage", () => {
  const at = (start: number) => ({ range: r(start, start + 9) });
  const list = [at(0), at(0), at(10), at(20), at(20), at(20), at(30)];

  it("cuts at a block where a new start begins, and the cursor is that block", () => {
    expect(partitionPage(list, 0, 3)).toEqual({ items: list.slice(0, 3), nextFromBlock: 20 });
    expect(partitionPage(list, 0, 4)).toEqual({ items: list.slice(0, 3), nextFromBlock: 20 });
    expect(partitionPage(list, 20, 10)).toEqual({ items: list.slice(3) });
  });

  it("makes a page longer rather than empty when more than the limit start at one block", () => {
    expect(partitionPage(list, 20, 2)).toEqual({ items: list.slice(3, 6), nextFromBlock: 30 });
    expect(partitionPage([at(0), at(0)], 0, 1)).toEqual({ items: [at(0), at(0)] });
  });
});

describe("rebuildRanges", () => {
  const files = [file(1, 0, 9), file(2, 10, 19), file(3, 20, 29), file(4, 40, 49)];
  const invalidations = [invalidate(12, 12, 4), invalidate(25, 25, 4)];

  it("takes every invalidated range without a request, whole files", () => {
    expect(rebuildRanges(files, invalidations, null, 0)).toEqual([r(10, 29)]);
  });

  it("widens a request to the invalidated files it touches and adds its gaps, not its materialized blocks", () => {
    expect(rebuildRanges(files, invalidations, r(12, 12), 0)).toEqual([r(10, 19)]);
    expect(rebuildRanges(files, [], r(0, 45), 0)).toEqual([r(30, 39)]);
    expect(rebuildRanges(files, [], r(0, 9), 0)).toEqual([]);
  });

  it("stops at the highest block any file holds and at the start block", () => {
    expect(rebuildRanges(files, [], r(45, 100), 0)).toEqual([]);
    expect(rebuildRanges([file(1, 10, 19)], [], r(0, 19), 5)).toEqual([r(5, 9)]);
  });

  it("answers nothing once a rebuild's files count", () => {
    expect(rebuildRanges([...files, file(5, 10, 19), file(6, 20, 29)], invalidations, null, 0)).toEqual([]);
  });
});

describe("blockRangeProblem", () => {
  it("accepts integer ranges from 0 with start at most end", () => {
    expect(blockRangeProblem(0, 0)).toBeNull();
    expect(blockRangeProblem(5, Number.MAX_SAFE_INTEGER)).toBeNull();
  });
  it.each([
    [10, 9],
    [-1, 5],
    [1.5, 5],
    [0, 2 ** 53],
    ["0", 5],
  ])("refuses %j..%j", (start, end) => {
    expect(blockRangeProblem(start, end)).toMatch(/start/);
  });
});
