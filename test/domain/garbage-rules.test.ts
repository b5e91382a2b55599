import { describe, expect, it } from "vitest";
import { chains, type Segment } from "../../src/domain/canonical-chain";
import { DEFAULT_GC_GRACE_SECS, invalidatedSegments, parseGracePeriod, type RecordedInvalidation, supersededSegments } from "../../src/domain/garbage-rules";
import { prng } from "../support/prng";

const h = (block: number, branch: number): string => `0x${block.toString(16).padStart(8, "0")}${branch.toString(16).padStart(56, "0")}`;

function seg(fileId: number, start: number, end: number, branch = 0, parent = branch): Segment {
  return { fileId, range: { start, end }, hash: h(end, branch), prevHash: start === 0 ? null : h(start - 1, parent), network: "anvil" };
}

const ids = (segments: readonly Segment[]) => segments.map((s) => s.fileId);

/** Up to 12 files of 1, 11 or 21 blocks on three branches, mostly linked; `afterEach` runs after each file is added. */
function randomSegments(random: ReturnType<typeof prng>, afterEach: (fileId: number) => void = () => {}): Segment[] {
  const segments: Segment[] = [];
  const count = 1 + Math.floor(random.next() * 12);
  for (let id = 1; id <= count; id++) {
    const start = Math.floor(random.next() * 6) * 10;
    const length = 1 + Math.floor(random.next() * 3) * 10;
    const branch = Math.floor(random.next() * 3);
    const parent = random.next() < 0.8 ? branch : Math.floor(random.next() * 3);
    segments.push(seg(id, start, start + length - 1, branch, parent));
    afterEach(id);
  }
  return segments;
}

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
      const segments = randomSegments(random);
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

describe("invalidatedSegments", () => {
  const at = (start: number, end: number, fileIdCeiling: number, createdAt: string): RecordedInvalidation => ({ range: { start, end }, fileIdCeiling, createdAt });

  it("takes the files an invalidation older than the cutoff took out, rebuilt or not, and nothing a newer one took", () => {
    const segments = [seg(1, 0, 9), seg(2, 10, 19), seg(3, 20, 29), seg(4, 10, 19)];
    // 10..19 invalidated when file 3 was the newest (file 4 is the rebuild); 20..29 only an hour ago.
    const invalidations = [at(12, 12, 3, "2025-11-05T00:00:00.000Z"), at(25, 25, 4, "2025-11-06T11:00:00.000Z")];
    expect(ids(chains(segments, invalidations)!.canonical)).toEqual([1, 4]);
    expect(ids(invalidatedSegments(segments, invalidations, "2025-11-06T00:00:00.000Z"))).toEqual([2]);
    expect(ids(invalidatedSegments(segments, invalidations, "2025-11-07T00:00:00.000Z"))).toEqual([2, 3]);
    expect(invalidatedSegments(segments, invalidations, "2025-11-01T00:00:00.000Z")).toEqual([]);
    // Superseded files are looked for among the files that count: file 2 has one reason only.
    expect(ids(supersededSegments(segments, invalidations))).toEqual([]);
  });

  it("never takes a canonical segment, and removing what it takes leaves the canonical chain as it was (seeded layouts)", () => {
    const random = prng(21);
    const cutoff = "2025-11-06T00:00:00.000Z";
    for (let round = 0; round < 500; round++) {
      const invalidations: RecordedInvalidation[] = [];
      const segments = randomSegments(random, (id) => {
        if (random.next() >= 0.25) return;
        const from = Math.floor(random.next() * 60);
        const old = random.next() < 0.5 ? "2025-11-05T00:00:00.000Z" : "2025-11-06T12:00:00.000Z";
        invalidations.push(at(from, from + Math.floor(random.next() * 15), id, old));
      });
      const layout = JSON.stringify({ segments, invalidations });
      const before = ids(chains(segments, invalidations)?.canonical ?? []);
      const taken = [...invalidatedSegments(segments, invalidations, cutoff), ...supersededSegments(segments, invalidations)];
      expect(ids(taken).filter((id) => before.includes(id)), layout).toEqual([]);
      const rest = segments.filter((s) => !taken.includes(s));
      expect(ids(chains(rest, invalidations)?.canonical ?? []), layout).toEqual(before);
    }
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
