import { describe, expect, it } from "vitest";
import { type BlockRange, difference, intersection, normalize, union } from "../../src/domain/block-range";
import {
  type NodeView,
  type Segment,
  type SizedSegment,
  type TipCheck,
  adjacent,
  canonicalChain,
  chainRange,
  chains,
  checkTip,
  missingRanges,
  reorgRange,
  tableProgress,
} from "../../src/domain/canonical-chain";
import { prng } from "../support/prng";

/** A block hash per (block, branch): branches of a chain differ in every block hash. */
const h = (block: number, branch: number): string =>
  `0x${block.toString(16).padStart(8, "0")}${branch.toString(16).padStart(56, "0")}`;

interface SegmentSpec {
  /** Branch of the range's blocks (its end hash). */
  branch?: number;
  /** Branch of the parent of the start block; defaults to `branch`. */
  parent?: number | null;
  network?: string;
  size?: number | null;
}

/** A file of blocks start..=end extracted from `branch`, whose start's parent is on `parent`. */
function seg(fileId: number, start: number, end: number, spec: SegmentSpec = {}): SizedSegment {
  const branch = spec.branch ?? 0;
  const parent = spec.parent === undefined ? branch : spec.parent;
  return {
    fileId,
    range: { start, end },
    hash: h(end, branch),
    prevHash: start === 0 || parent === null ? null : h(start - 1, parent),
    network: spec.network ?? "anvil",
    objectSize: spec.size === undefined ? 100 : spec.size,
  };
}

const ids = (chain: readonly Segment[] | null | undefined): number[] | null => (chain ? chain.map((s) => s.fileId) : null);
const r = (start: number, end: number): BlockRange => ({ start, end });

function chainIds(segments: readonly Segment[]): { canonical: number[] | null; fork: number[] | null } {
  const found = chains(segments);
  return { canonical: ids(found?.canonical), fork: ids(found?.fork) };
}

describe("adjacent", () => {
  it("needs the next block and a matching parent hash", () => {
    expect(adjacent(seg(1, 0, 9), seg(2, 10, 19))).toBe(true);
    expect(adjacent(seg(1, 0, 9), seg(2, 11, 19))).toBe(false);
    expect(adjacent(seg(1, 0, 9), seg(2, 9, 19))).toBe(false);
    expect(adjacent(seg(1, 0, 9), seg(2, 10, 19, { branch: 1 }))).toBe(false);
    expect(adjacent(seg(1, 0, 9), seg(2, 10, 19, { branch: 1, parent: 0 }))).toBe(true);
  });
  it("accepts any parent when the next segment's parent hash is unknown", () => {
    expect(adjacent(seg(1, 0, 9, { branch: 3 }), seg(2, 10, 19, { parent: null }))).toBe(true);
  });
  it("never links different networks", () => {
    expect(adjacent(seg(1, 0, 9), seg(2, 10, 19, { network: "mainnet" }))).toBe(false);
    expect(adjacent(seg(1, 0, 9), seg(2, 10, 19, { parent: null, network: "mainnet" }))).toBe(false);
  });
  it("compares hashes regardless of letter case", () => {
    const prev = { ...seg(1, 0, 9), hash: "0xABCDEF" };
    expect(adjacent(prev, { ...seg(2, 10, 19), prevHash: "0xabcdef" })).toBe(true);
  });
  it("is directional", () => {
    expect(adjacent(seg(2, 10, 19), seg(1, 0, 9))).toBe(false);
  });
});

describe("chains: canonical chain", () => {
  it("is null without segments", () => {
    expect(chains([])).toBeNull();
  });
  it("is a single segment on its own", () => {
    expect(chainIds([seg(1, 0, 0)])).toEqual({ canonical: [1], fork: null });
    expect(chainIds([seg(1, 7, 7)])).toEqual({ canonical: [1], fork: null });
  });
  it("orders adjacent segments oldest first, whatever the input order", () => {
    const segments = [seg(3, 20, 29), seg(1, 0, 9), seg(2, 10, 19)];
    expect(chainIds(segments)).toEqual({ canonical: [1, 2, 3], fork: null });
    expect(chainIds([...segments].reverse())).toEqual({ canonical: [1, 2, 3], fork: null });
  });
  it("links single-block segments", () => {
    expect(chainIds([seg(1, 0, 0), seg(2, 1, 1), seg(3, 2, 2)])).toEqual({ canonical: [1, 2, 3], fork: null });
  });
  it("stops at a gap: the contiguous prefix from the earliest block", () => {
    expect(chainIds([seg(1, 0, 9), seg(2, 10, 19), seg(3, 30, 39)])).toEqual({ canonical: [1, 2], fork: null });
    expect(chainIds([seg(1, 0, 2), seg(2, 5, 7), seg(3, 10, 12)])).toEqual({ canonical: [1], fork: null });
  });
  it("starts at the lowest start even when it is not block 0", () => {
    expect(chainIds([seg(1, 100, 199), seg(2, 200, 299)])).toEqual({ canonical: [1, 2], fork: null });
  });
  it("stops at a segment that does not link by hash", () => {
    expect(chainIds([seg(1, 0, 9), seg(2, 10, 19, { branch: 1 })])).toEqual({ canonical: [1], fork: [2] });
  });
  it("stops at a segment of another network", () => {
    expect(chainIds([seg(1, 0, 9), seg(2, 10, 19, { network: "mainnet" })])).toEqual({ canonical: [1], fork: [2] });
  });
  it("ignores orphaned overlaps that end no higher than the chain", () => {
    // Two smaller files inside a bigger one (as compaction or a redone step leaves them).
    const segments = [seg(1, 0, 2), seg(2, 3, 5), seg(3, 4, 5), seg(4, 4, 6), seg(5, 3, 6)];
    expect(chainIds(segments)).toEqual({ canonical: [1, 5], fork: null });
    // With the ids of the last two swapped, the result is the same chain.
    const swapped = [seg(1, 0, 2), seg(2, 3, 5), seg(3, 4, 5), seg(5, 4, 6), seg(4, 3, 6)];
    expect(chainIds(swapped)).toEqual({ canonical: [1, 4], fork: null });
  });
});

describe("chains: ties on the end block", () => {
  it("the highest file id wins between two files of the same range", () => {
    const older = seg(2, 10, 19, { branch: 1, parent: 0 });
    const newer = seg(3, 10, 19, { branch: 2, parent: 0 });
    expect(chainIds([seg(1, 0, 9), older, newer])).toEqual({ canonical: [1, 3], fork: null });
    expect(chainIds([newer, seg(1, 0, 9), older])).toEqual({ canonical: [1, 3], fork: null });
  });
  it("the highest file id wins even if it is listed first or is the smaller range", () => {
    const segments = [seg(9, 5, 19, { parent: 0 }), seg(4, 0, 4), seg(2, 0, 19)];
    // 9 ends at 19 with the highest id; it links to 4, and the chain reaches block 0.
    expect(chainIds(segments)).toEqual({ canonical: [4, 9], fork: null });
  });
  it("a tie at the tip goes to the re-extracted file: the newest branch replaces the old tip", () => {
    const segments = [seg(1, 0, 9), seg(2, 10, 19), seg(3, 10, 19, { branch: 1, parent: 0 })];
    expect(chainIds(segments)).toEqual({ canonical: [1, 3], fork: null });
  });
  it("while walking back, the highest-id adjacent file wins, skipping higher ids that do not link", () => {
    const segments = [
      seg(1, 0, 9),
      seg(5, 0, 9, { branch: 1 }),
      seg(3, 0, 9),
      seg(4, 10, 19), // parent on branch 0: links to 1 or 3, not to 5
    ];
    expect(chainIds(segments)).toEqual({ canonical: [3, 4], fork: null });
  });
});

describe("chains: forks", () => {
  it("a longer branch that links back is simply the canonical chain", () => {
    const segments = [seg(1, 0, 9), seg(2, 10, 19), seg(3, 10, 24, { branch: 1, parent: 0 })];
    expect(chainIds(segments)).toEqual({ canonical: [1, 3], fork: null });
  });
  it("a longer branch that does not link back is a fork", () => {
    const segments = [seg(1, 0, 9), seg(2, 10, 19), seg(3, 10, 24, { branch: 1 })];
    expect(chainIds(segments)).toEqual({ canonical: [1, 2], fork: [3] });
  });
  it("a fork may start right after the canonical end", () => {
    expect(chainIds([seg(1, 0, 9), seg(2, 10, 19, { branch: 1 })])).toEqual({ canonical: [1], fork: [2] });
  });
  it("a chain that ends higher but leaves a gap is no fork", () => {
    expect(chainIds([seg(1, 0, 9), seg(2, 11, 19, { branch: 1 })])).toEqual({ canonical: [1], fork: null });
  });
  it("a branch that ends no higher than the canonical chain is no fork", () => {
    const segments = [seg(1, 0, 9), seg(2, 10, 19), seg(3, 10, 19, { branch: 1 })];
    // 3 has the highest id at end 19 but does not link back; 2 does, so the canonical chain is 1, 2.
    expect(chainIds(segments)).toEqual({ canonical: [1, 2], fork: null });
  });
  it("a fork of several segments", () => {
    const segments = [
      seg(1, 0, 2),
      seg(2, 3, 5),
      seg(3, 3, 5, { branch: 1 }),
      seg(4, 6, 9, { branch: 1 }),
      seg(5, 6, 8),
    ];
    expect(chainIds(segments)).toEqual({ canonical: [1, 2, 5], fork: [3, 4] });
  });
  it("two orphaned branches of the same height: the canonical one links, no fork", () => {
    const segments = [
      seg(1, 0, 2),
      seg(2, 3, 5),
      seg(3, 3, 5, { branch: 1 }),
      seg(4, 6, 8, { branch: 1 }),
      seg(5, 6, 8),
    ];
    expect(chainIds(segments)).toEqual({ canonical: [1, 2, 5], fork: null });
  });
  it("the fork is the first chain in pick order (highest end, then highest id) that qualifies", () => {
    const segments = [
      seg(1, 0, 3),
      seg(2, 4, 6, { branch: 1 }),
      seg(3, 4, 8),
      seg(4, 7, 9, { branch: 1 }),
      seg(5, 4, 9, { branch: 2 }),
    ];
    expect(chainIds(segments)).toEqual({ canonical: [1, 3], fork: [5] });
    // With the ids at end 9 swapped, the branch-1 chain is picked first and is the fork.
    const swapped = [
      seg(1, 0, 3),
      seg(2, 4, 6, { branch: 1 }),
      seg(3, 4, 8),
      seg(5, 7, 9, { branch: 1 }),
      seg(4, 4, 9, { branch: 2 }),
    ];
    expect(chainIds(swapped)).toEqual({ canonical: [1, 3], fork: [2, 5] });
  });
  it("skips a higher chain behind a gap and takes the next one as the fork", () => {
    const segments = [seg(1, 0, 9), seg(2, 20, 40, { branch: 2 }), seg(3, 10, 15, { branch: 1 })];
    expect(chainIds(segments)).toEqual({ canonical: [1], fork: [3] });
  });
  it("does not depend on the input order", () => {
    const segments = [
      seg(1, 0, 2),
      seg(2, 3, 5),
      seg(3, 3, 5, { branch: 1 }),
      seg(4, 6, 9, { branch: 1 }),
      seg(5, 6, 8),
      seg(6, 20, 30, { branch: 2 }),
    ];
    const expected = chainIds(segments);
    const rand = prng(7);
    for (let i = 0; i < 50; i++) {
      const shuffled = [...segments].sort(() => rand.int(-1, 1));
      expect(chainIds(shuffled)).toEqual(expected);
    }
  });
});

describe("chainRange", () => {
  it("spans the chain, or is null for an empty one", () => {
    expect(chainRange([])).toBeNull();
    expect(chainRange([seg(1, 0, 9), seg(2, 10, 19)])).toEqual(r(0, 19));
  });
});

describe("canonicalChain with the dataset's start block", () => {
  it("is empty without segments", () => {
    expect(canonicalChain([], 0)).toEqual([]);
  });
  it("is the chain when it starts at the start block", () => {
    expect(ids(canonicalChain([seg(1, 100, 109), seg(2, 110, 119)], 100))).toEqual([1, 2]);
  });
  it("is empty when the chain starts after the start block (a hole at the beginning)", () => {
    expect(canonicalChain([seg(1, 5, 9), seg(2, 10, 19)], 0)).toEqual([]);
    expect(canonicalChain([seg(1, 101, 109)], 100)).toEqual([]);
  });
});

describe("missingRanges", () => {
  /** Segments that never link to each other, as in the original's test table: each file is its own branch. */
  const unlinked = (ranges: Array<[number, number]>): Segment[] =>
    ranges.map(([start, end], i) => seg(i + 1, start, end, { branch: i }));

  it.each<[Array<[number, number]>, [number, number], Array<[number, number]>]>([
    [[], [0, 10], [[0, 10]]],
    [[[0, 10]], [0, 10], []],
    [[[0, 5]], [10, 15], [[10, 15]]],
    [[[3, 7]], [0, 10], [[0, 2], [8, 10]]],
    [[[0, 15]], [5, 10], []],
    [[[5, 15]], [0, 10], [[0, 4]]],
    [[[0, 5]], [0, 10], [[6, 10]]],
    [[[0, 5], [8, 8]], [0, 10], [[6, 7], [9, 10]]],
    [[[1, 2], [4, 4], [8, 9]], [0, 10], [[0, 0], [3, 3], [5, 7], [10, 10]]],
    [[[0, 8], [2, 4]], [0, 10], [[9, 10]]],
    [[[0, 3], [5, 7]], [0, 10], [[4, 4], [8, 10]]],
    [[[0, 3], [2, 5], [4, 7]], [0, 10], [[0, 3], [8, 10]]],
    [[[0, 2], [1, 3]], [0, 3], [[0, 0]]],
    [[[0, 2], [2, 3]], [0, 2], [[0, 1]]],
    [[[0, 3], [5, 7], [2, 12]], [0, 15], [[0, 1], [13, 15]]],
    [[[0, 5], [3, 8]], [0, 7], [[0, 2]]],
    [[[0, 20], [10, 30]], [12, 18], []],
    [[[0, 5], [3, 8]], [2, 7], [[2, 2]]],
  ])("segments %j, desired %j → %j", (ranges, [start, end], expected) => {
    expect(missingRanges(r(start, end), unlinked(ranges))).toEqual(expected.map(([s, e]) => r(s, e)));
  });

  it("is empty for an empty desired range", () => {
    expect(missingRanges(r(10, 9), [])).toEqual([]);
    expect(missingRanges(r(10, 9), unlinked([[0, 5], [3, 8]]))).toEqual([]);
  });
  it("is the whole desired range without segments, including a single block", () => {
    expect(missingRanges(r(7, 7), [])).toEqual([r(7, 7)]);
  });
  it("counts orphaned and non-canonical files as present", () => {
    const segments = [seg(1, 0, 9), seg(2, 10, 19), seg(3, 10, 19, { branch: 1 }), seg(4, 30, 39, { branch: 2 })];
    expect(missingRanges(r(0, 39), segments)).toEqual([r(20, 29)]);
  });
  it("re-extracts the canonical segment under the block before a fork (the diagram of §5.6)", () => {
    const segments = [
      seg(1, 3, 5),
      seg(2, 6, 8),
      seg(3, 9, 11),
      seg(4, 12, 14),
      seg(5, 9, 11, { branch: 1 }),
      seg(6, 12, 14, { branch: 1 }),
      seg(7, 15, 17, { branch: 1 }),
    ];
    expect(chainIds(segments)).toEqual({ canonical: [1, 2, 3, 4], fork: [5, 6, 7] });
    expect(reorgRange(segments)).toEqual(r(6, 8));
    expect(missingRanges(r(0, 20), segments)).toEqual([r(0, 2), r(6, 8), r(18, 20)]);
  });
  it("re-extracts only the part of the overlapped segment up to the block before the fork", () => {
    const segments = [seg(1, 0, 9), seg(2, 5, 14, { branch: 1 })];
    expect(reorgRange(segments)).toEqual(r(0, 4));
    expect(missingRanges(r(0, 14), segments)).toEqual([r(0, 4)]);
  });
  it("keeps the reorg part inside the desired range", () => {
    const segments = [seg(1, 0, 9), seg(2, 10, 19), seg(3, 20, 29, { branch: 1 })];
    expect(reorgRange(segments)).toEqual(r(10, 19));
    expect(missingRanges(r(15, 29), segments)).toEqual([r(15, 19)]);
    expect(missingRanges(r(25, 40), segments)).toEqual([r(30, 40)]);
  });
  it("has no reorg part without a fork", () => {
    expect(reorgRange([])).toBeNull();
    expect(reorgRange([seg(1, 0, 9), seg(2, 10, 19)])).toBeNull();
  });
});

/**
 * Extraction against a node whose chain is `branchAt(block)`: a file's end
 * hash and parent hash come from the node, as the step runner writes them.
 */
function extractFromNode(fileId: number, range: BlockRange, branchAt: (block: number) => number): SizedSegment {
  return {
    fileId,
    range,
    hash: h(range.end, branchAt(range.end)),
    prevHash: range.start === 0 ? null : h(range.start - 1, branchAt(range.start - 1)),
    network: "anvil",
    objectSize: 100,
  };
}

/** Runs dump passes (missing ranges of `desired`, one file each) until nothing is missing; returns the passes. */
function repairUntilDone(segments: SizedSegment[], desired: BlockRange, branchAt: (b: number) => number): number {
  let nextId = Math.max(0, ...segments.map((s) => s.fileId)) + 1;
  for (let pass = 1; pass <= 50; pass++) {
    const missing = missingRanges(desired, segments);
    if (missing.length === 0) return pass - 1;
    for (const range of missing) segments.push(extractFromNode(nextId++, range, branchAt));
  }
  throw new Error("repair did not converge");
}

describe("reorg repair over several passes", () => {
  it("a reorg of the tip, seen when the next step does not link, is repaired in one more pass", () => {
    const before = (): number => 0;
    const after = (b: number): number => (b >= 19 ? 1 : 0);
    const segments = [extractFromNode(1, r(0, 9), before), extractFromNode(2, r(10, 19), before)];
    segments.push(extractFromNode(3, r(20, 29), after));
    expect(chainIds(segments)).toEqual({ canonical: [1, 2], fork: [3] });
    expect(repairUntilDone(segments, r(0, 29), after)).toBe(1);
    expect(ids(canonicalChain(segments, 0))).toEqual([1, 4, 3]);
  });
  it("a deep reorg walks back one segment per pass until the fork links", () => {
    // The node switched to branch 1 from block 15: files 10..19 and later are stale.
    const before = (): number => 0;
    const after = (b: number): number => (b >= 15 ? 1 : 0);
    const segments = [0, 10, 20, 30].map((start, i) => extractFromNode(i + 1, r(start, start + 9), before));
    segments.push(extractFromNode(5, r(40, 49), after));
    expect(repairUntilDone(segments, r(0, 49), after)).toBe(3);
    const canonical = canonicalChain(segments, 0);
    expect(chainRange(canonical)).toEqual(r(0, 49));
    expect(canonical.every((s) => s.hash === h(s.range.end, after(s.range.end)))).toBe(true);
    expect(ids(canonical)).toEqual([1, 8, 7, 6, 5]);
  });
  it("a reorg reaching the very first file re-extracts from the start", () => {
    const before = (): number => 0;
    const after = (): number => 1;
    const segments = [extractFromNode(1, r(0, 9), before), extractFromNode(2, r(10, 19), after)];
    expect(repairUntilDone(segments, r(0, 19), after)).toBe(1);
    expect(ids(canonicalChain(segments, 0))).toEqual([3, 2]);
  });
  it("is only seen when the desired range covers it: a window from the cursor misses it (§11.10)", () => {
    const after = (b: number): number => (b >= 5 ? 1 : 0);
    const segments = [extractFromNode(1, r(0, 9), () => 0), extractFromNode(2, r(10, 19), after)];
    // The original's running job looks only ahead of its cursor.
    expect(missingRanges(r(20, 25), segments)).toEqual([r(20, 25)]);
    // Ours asks from the start block every round, so the repair happens while it runs.
    expect(missingRanges(r(0, 25), segments)).toEqual([r(0, 9), r(20, 25)]);
  });
});

describe("tableProgress", () => {
  it("is null/zero without files", () => {
    expect(tableProgress([], 0)).toEqual({ startBlock: null, currentBlock: null, filesCount: 0, totalSizeBytes: 0 });
  });
  it("covers the canonical chain: files, bytes, first and last block", () => {
    const segments = [seg(1, 0, 9, { size: 1000 }), seg(2, 10, 19, { size: 2000 })];
    expect(tableProgress(segments, 0)).toEqual({ startBlock: 0, currentBlock: 19, filesCount: 2, totalSizeBytes: 3000 });
  });
  it("stops at the first gap", () => {
    const segments = [seg(1, 0, 9), seg(2, 10, 19), seg(3, 30, 39)];
    expect(tableProgress(segments, 0)).toMatchObject({ startBlock: 0, currentBlock: 19, filesCount: 2, totalSizeBytes: 200 });
  });
  it("leaves orphaned files of a reorg out of the counts", () => {
    const segments = [seg(1, 0, 9, { size: 10 }), seg(2, 10, 19, { size: 20 }), seg(3, 10, 19, { branch: 1, parent: 0, size: 40 })];
    expect(tableProgress(segments, 0)).toEqual({ startBlock: 0, currentBlock: 19, filesCount: 2, totalSizeBytes: 50 });
  });
  it("stays on the old chain while a fork does not link", () => {
    const segments = [seg(1, 0, 9), seg(2, 10, 19), seg(3, 10, 29, { branch: 1 })];
    expect(tableProgress(segments, 0)).toMatchObject({ currentBlock: 19, filesCount: 2 });
  });
  it("counts an unknown object size as 0", () => {
    expect(tableProgress([seg(1, 0, 9, { size: null }), seg(2, 10, 19, { size: 5 })], 0).totalSizeBytes).toBe(5);
  });
  it("is empty when the chain starts after the dataset's start block", () => {
    expect(tableProgress([seg(1, 10, 19)], 0)).toEqual({ startBlock: null, currentBlock: null, filesCount: 0, totalSizeBytes: 0 });
  });
  it("reports a non-zero start block", () => {
    expect(tableProgress([seg(1, 500, 999)], 500)).toMatchObject({ startBlock: 500, currentBlock: 999, filesCount: 1 });
  });
});

describe("checkTip: reorgs behind a continuous job's cursor", () => {
  const canonicalOf = (count: number, size = 10): SizedSegment[] =>
    Array.from({ length: count }, (_, i) => seg(i + 1, i * size, i * size + size - 1));
  const nodeOf = (head: number, branchAt: (b: number) => number, known: number[]): NodeView => ({
    head,
    hashes: new Map(known.filter((b) => b <= head).map((b) => [b, h(b, branchAt(b))])),
  });

  /** Answers the check's questions from a node until it decides; returns the answer and the lookups per round. */
  function drive(canonical: readonly Segment[], head: number, branchAt: (b: number) => number, options = {}) {
    const known: number[] = [];
    const rounds: number[][] = [];
    for (;;) {
      const result: TipCheck = checkTip(canonical, nodeOf(head, branchAt, known), options);
      if (result.status !== "needHashes") return { result, rounds };
      for (const block of result.blocks) expect(known).not.toContain(block);
      rounds.push([...result.blocks]);
      known.push(...result.blocks);
      if (rounds.length > 100) throw new Error("no decision");
    }
  }

  it("has nothing to check without files", () => {
    expect(checkTip([], { head: 10, hashes: new Map() })).toEqual({ status: "consistent" });
  });
  it("asks for the tip's end block first", () => {
    expect(checkTip(canonicalOf(3), { head: 100, hashes: new Map() })).toEqual({ status: "needHashes", blocks: [29] });
  });
  it("a tip that matches costs one lookup", () => {
    const { result, rounds } = drive(canonicalOf(5), 100, () => 0);
    expect(result).toEqual({ status: "consistent" });
    expect(rounds).toEqual([[49]]);
  });
  it("a reorg of the tip's file re-extracts that file", () => {
    const { result, rounds } = drive(canonicalOf(5), 100, (b) => (b >= 45 ? 1 : 0));
    expect(result).toEqual({ status: "reorged", from: 40, reextract: r(40, 49) });
    expect(rounds).toEqual([[49], [39]]);
  });
  it("a deep reorg gallops back and re-extracts every stale file", () => {
    const { result, rounds } = drive(canonicalOf(20), 1000, (b) => (b >= 75 ? 1 : 0));
    expect(result).toEqual({ status: "reorged", from: 70, reextract: r(70, 199) });
    // One lookup, then as many as are stale so far, capped at 8 per round.
    expect(rounds.map((x) => x.length)).toEqual([1, 1, 2, 4, 8]);
    expect(rounds.flat()).toEqual(Array.from({ length: 16 }, (_, i) => 199 - 10 * i));
  });
  it("caps the lookups per round", () => {
    const { result, rounds } = drive(canonicalOf(40), 1000, (b) => (b >= 5 ? 1 : 0), { lookups: 3 });
    expect(result).toEqual({ status: "reorged", from: 0, reextract: r(0, 399) });
    expect(Math.max(...rounds.map((x) => x.length))).toBe(3);
  });
  it("files above the node's head are stale without asking", () => {
    const { result, rounds } = drive(canonicalOf(5), 42, () => 0);
    expect(result).toEqual({ status: "reorged", from: 40, reextract: r(40, 42) });
    expect(rounds).toEqual([[39]]);
  });
  it("re-extracts up to the head when the node's chain got shorter", () => {
    expect(drive(canonicalOf(5), 35, () => 0).result).toEqual({ status: "reorged", from: 30, reextract: r(30, 35) });
  });
  it("has nothing to extract yet when the node's head is just below the stale files", () => {
    expect(drive(canonicalOf(5), 39, () => 0).result).toEqual({ status: "reorged", from: 40, reextract: null });
  });
  it("trusts files at or below the floor (e.g. the finalized block)", () => {
    const { result, rounds } = drive(canonicalOf(10), 1000, () => 1, { floor: 69 });
    expect(result).toEqual({ status: "reorged", from: 70, reextract: r(70, 99) });
    expect(rounds.flat()).toEqual([99, 89, 79]);
    expect(checkTip(canonicalOf(3), { head: 100, hashes: new Map() }, { floor: 29 })).toEqual({ status: "consistent" });
  });
  it("compares hashes regardless of letter case", () => {
    const canonical = canonicalOf(1);
    const node: NodeView = { head: 9, hashes: new Map([[9, h(9, 0).toUpperCase().replace("0X", "0x")]]) };
    expect(checkTip(canonical, node)).toEqual({ status: "consistent" });
  });
  it("its re-extracted files take over once they are written", () => {
    const after = (b: number): number => (b >= 25 ? 1 : 0);
    const segments = canonicalOf(5);
    const { result } = drive(segments, 49, after);
    expect(result).toEqual({ status: "reorged", from: 20, reextract: r(20, 49) });
    segments.push(extractFromNode(6, r(20, 29), after), extractFromNode(7, r(30, 39), after), extractFromNode(8, r(40, 49), after));
    expect(ids(canonicalChain(segments, 0))).toEqual([1, 2, 6, 7, 8]);
    expect(drive(canonicalChain(segments, 0), 49, after).result).toEqual({ status: "consistent" });
  });
});

describe("chains and missingRanges against generated histories", () => {
  /** A chain of random-length files covering start..=end on `branch`, its first parent on `parent`. */
  function genChain(rand: ReturnType<typeof prng>, start: number, end: number, branch: number, parent: number, nextId: () => number) {
    const files: SizedSegment[] = [];
    let from = start;
    while (from <= end) {
      const to = Math.min(end, from + rand.int(0, 4));
      files.push(seg(nextId(), from, to, { branch, parent: from === start ? parent : branch }));
      from = to + 1;
    }
    return files;
  }

  for (const seed of [11, 22, 33]) {
    it(`finds the generated canonical chain and fork (seed ${seed})`, () => {
      const rand = prng(seed);
      for (let sample = 0; sample < 300; sample++) {
        let id = 0;
        const nextId = () => ++id;
        const head = rand.int(0, 20);
        const canonical = genChain(rand, 0, head, 0, 0, nextId);
        // Other branches never link to each other or to the canonical chain (a parent on a branch of their own).
        const others = Array.from({ length: rand.int(0, 4) }, (_, k) => {
          const start = rand.int(1, head + 2);
          const end = rand.int(start, head + 6);
          return genChain(rand, start, end, k + 1, 100 + k, nextId);
        });
        const all = [...canonical, ...others.flat()].sort(() => rand.int(-1, 1));
        const found = chains(all)!;
        expect(ids(found.canonical)).toEqual(ids(canonical));
        const byPickOrder = [...others].sort(
          (a, b) => b.at(-1)!.range.end - a.at(-1)!.range.end || b.at(-1)!.fileId - a.at(-1)!.fileId,
        );
        const expectedFork = byPickOrder.find((c) => c.at(-1)!.range.end > head && c[0]!.range.start <= head + 1) ?? null;
        expect(ids(found.fork)).toEqual(ids(expectedFork));

        const desired = r(rand.int(0, 5), rand.int(0, head + 8));
        const missing = missingRanges(desired, all);
        const uncovered = difference([desired], all.map((s) => s.range));
        const reorg = reorgRange(all);
        expect(missing).toEqual(union(uncovered, reorg ? intersection([reorg], [desired]) : []));
        expect(difference(missing, [desired])).toEqual([]);
        expect(normalize(missing)).toEqual(missing);
      }
    });
  }
});

describe("large tables", () => {
  // Speed is for benchmarks; this checks that a large table works at all (no stack overflow).
  it("handles 200,000 files of one chain plus orphans", { timeout: 60_000 }, () => {
    const segments: SizedSegment[] = [];
    for (let i = 0; i < 200_000; i++) segments.push(seg(i + 1, i * 1000, i * 1000 + 999));
    for (let i = 0; i < 1000; i++) segments.push(seg(200_001 + i, i * 1000, i * 1000 + 999, { branch: 1 }));
    const progress = tableProgress(segments, 0);
    expect(progress).toMatchObject({ startBlock: 0, currentBlock: 199_999_999, filesCount: 200_000 });
    expect(missingRanges(r(0, 200_000_999), segments)).toEqual([r(200_000_000, 200_000_999)]);
  });
});
