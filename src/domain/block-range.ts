/**
 * Inclusive ranges of block numbers and sets of them, as interval arithmetic.
 *
 * Block numbers are JavaScript `number`s, not `bigint`s. Every value that
 * reaches us is already a number: D1 returns SQLite INTEGERs as numbers,
 * JSON has no bigints, and JSON-RPC quantities are parsed into numbers by the
 * provider client. Numbers are exact up to 2^53 - 1, which at one block every
 * 100 ms lasts for 2.8 million years, and `end + 1` of the largest safe block
 * (2^53) is still exact, so the arithmetic below never rounds. Inputs from
 * outside are checked with `isBlockNumber` where they are parsed.
 *
 * A `RangeSet` is normalized: sorted by start, with no two ranges overlapping
 * or touching. Every function accepts arbitrary arrays of ranges (unsorted,
 * overlapping, adjacent) and treats a range whose start is above its end as
 * empty, so the empty set is simply `[]` and no function throws.
 */
export interface BlockRange {
  readonly start: number;
  readonly end: number;
}

/** Sorted, disjoint and non-adjacent ranges. */
export type RangeSet = readonly BlockRange[];

export function isBlockNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

export function isEmptyRange(range: BlockRange): boolean {
  return range.start > range.end;
}

/** Number of blocks in a range (0 for an empty range). */
export function rangeLength(range: BlockRange): number {
  return isEmptyRange(range) ? 0 : range.end - range.start + 1;
}

/** Sorts, drops empty ranges and merges overlapping or adjacent ones. */
export function normalize(ranges: readonly BlockRange[]): RangeSet {
  const sorted = ranges.filter((r) => !isEmptyRange(r)).sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: BlockRange[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && range.start <= last.end + 1) {
      if (range.end > last.end) merged[merged.length - 1] = { start: last.start, end: range.end };
    } else {
      merged.push({ start: range.start, end: range.end });
    }
  }
  return merged;
}

export function union(a: readonly BlockRange[], b: readonly BlockRange[]): RangeSet {
  return normalize([...a, ...b]);
}

/** Blocks in `from` that are in none of `remove`. */
export function difference(from: readonly BlockRange[], remove: readonly BlockRange[]): RangeSet {
  const kept = normalize(from);
  const cuts = normalize(remove);
  const result: BlockRange[] = [];
  let c = 0;
  for (const range of kept) {
    let start = range.start;
    // Cuts that end before this range cannot touch any later range either.
    while (c < cuts.length && cuts[c]!.end < start) c++;
    let i = c;
    while (i < cuts.length && cuts[i]!.start <= range.end) {
      const cut = cuts[i]!;
      if (cut.start > start) result.push({ start, end: cut.start - 1 });
      start = Math.max(start, cut.end + 1);
      if (start > range.end) break;
      i++;
    }
    if (start <= range.end) result.push({ start, end: range.end });
  }
  return result;
}

/** Blocks that are in both `a` and `b`. */
export function intersection(a: readonly BlockRange[], b: readonly BlockRange[]): RangeSet {
  const left = normalize(a);
  const right = normalize(b);
  const result: BlockRange[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    const l = left[i]!;
    const r = right[j]!;
    const start = Math.max(l.start, r.start);
    const end = Math.min(l.end, r.end);
    if (start <= end) result.push({ start, end });
    if (l.end < r.end) i++;
    else j++;
  }
  return result;
}

/** Whether `block` is in the set. */
export function contains(set: readonly BlockRange[], block: number): boolean {
  return set.some((r) => r.start <= block && block <= r.end);
}

/** Whether every block of `range` is in the set (an empty range always is). */
export function covers(set: readonly BlockRange[], range: BlockRange): boolean {
  return difference([range], set).length === 0;
}

/** Number of distinct blocks in the set. */
export function totalLength(set: readonly BlockRange[]): number {
  return normalize(set).reduce((sum, r) => sum + rangeLength(r), 0);
}
