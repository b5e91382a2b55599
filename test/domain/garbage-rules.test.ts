import { describe, expect, it } from "vitest";
import { chains, type Segment } from "../../src/domain/canonical-chain";
import { DEFAULT_GC_GRACE_SECS, parseGracePeriod, supersededSegments } from "../../src/domain/garbage-rules";
import { prng } from "../support/prng";

const h = (block: number, branch: number): string => `0x${block.toString(16).padStart(8, "0")}${branch.toString(16).padStart(56, "0")}`;

function seg(fileId: number, start: number, end: number, branch = 0, parent = branch): Segment {
  return { fileId, range: { start, end }, hash: h(end, branch), prevHash: start === 0 ? null : h(start - 1, parent), network: "anvil" };
}

const ids = (segments: readonly Segment[]) => segments.map((s) => s.fileId);

describe("supersededSegments", () => {
  it("takes a reorg's losing branch inside the chain's range, and keeps what lies beyond it", () => {
    const segments = [
      seg(1, 0, 9),
      seg(2, 10, 19),
      seg(3, 10, 19, 1, 0), // the losing branch of a reorg at 10, replaced by file 4
      seg(4, 10, 19, 2, 0),
      seg(5, 20, 29, 2),
      seg(6, 40, 49, 2, 2), // beyond a gap: joins the chain once 30..=39 is there
    ];
    expect(ids(chains(segments)!.canonical)).toEqual([1, 4, 5]);
    expect(ids(supersededSegments(segments))).toEqual([2, 3]);
  });

  it("keeps a fork that ends above the chain (it may become canonical) and a repair under way", () => {
    const segments = [seg(1, 0, 9), seg(2, 10, 19), seg(3, 20, 29), seg(4, 20, 39, 1, 1)];
    // 4 (branch 1, parent on branch 1) does not link to 2 (branch 0): the chain stays 1-2-3, and 4 ends above it.
    expect(ids(chains(segments)!.canonical)).toEqual([1, 2, 3]);
    expect(supersededSegments(segments)).toEqual([]);
  });

  it("never takes a canonical segment, and removing what it takes leaves the canonical chain as it was (seeded layouts)", () => {
    const random = prng(12);
    for (let round = 0; round < 500; round++) {
      const segments: Segment[] = [];
      const count = 1 + Math.floor(random.next() * 12);
      for (let id = 1; id <= count; id++) {
        const start = Math.floor(random.next() * 6) * 10;
        const length = 1 + Math.floor(random.next() * 3) * 10;
        const branch = Math.floor(random.next() * 3);
        const parent = random.next() < 0.8 ? branch : Math.floor(random.next() * 3);
        segments.push(seg(id, start, start + length - 1, branch, parent));
      }
      const before = ids(chains(segments)!.canonical);
      const taken = supersededSegments(segments);
      expect(ids(taken).filter((id) => before.includes(id)), JSON.stringify(segments)).toEqual([]);
      const rest = segments.filter((s) => !taken.includes(s));
      expect(ids(chains(rest)!.canonical), JSON.stringify(segments)).toEqual(before);
    }
  });

  it("answers nothing for no segments", () => {
    expect(supersededSegments([])).toEqual([]);
  });
});

describe("parseGracePeriod", () => {
  it.each([
    ["0", 0],
    ["3600", 3600],
    ["90s", 90],
    ["30m", 1800],
    ["24h", DEFAULT_GC_GRACE_SECS],
    ["7d", 604_800],
  ])("reads %s as %d seconds", (text, secs) => {
    expect(parseGracePeriod(text)).toBe(secs);
  });

  it.each(["", "-1", "1.5h", "h", "24H", "1w", "10000000000"])("refuses %j", (text) => {
    expect(parseGracePeriod(text)).toBeNull();
  });
});
