/**
 * A table's block-range partitions (`GET .../tables/{table}/partitions`), and the ranges a rebuild extracts
 * again, from its files and invalidations. Pure: the chain selection is `chains` with the invalidations as
 * input, so a partition is `materialized` exactly when the canonical chain the readers see holds it.
 *
 * - `materialized`: a file on the canonical chain, or on the chain that goes on after a missing range (it
 *   joins the canonical chain once the gap is filled);
 * - `orphaned`: files that count but are on no such chain: a reorg's losing branch, a range extracted again;
 * - `invalidated`: files an invalidation took out, whether their range was rebuilt since or not;
 * - `missing`: blocks from the dataset's start block to the target end that no file holds.
 *
 * Files of the same status and range are one partition (`files` counts them).
 */
import { type BlockRange, isBlockNumber, type RangeSet, difference, intersection, normalize } from "./block-range";
import { chains, countingSegments, type Invalidation, isInvalidated, missingRanges, type Segment } from "./canonical-chain";

export type PartitionStatus = "materialized" | "orphaned" | "invalidated" | "missing";

export interface PartitionFile extends Segment {
  readonly rowCount: number;
  /** Bytes; null when unknown, counted as 0. */
  readonly objectSize: number | null;
}

export interface Partition<I extends Invalidation = Invalidation> {
  readonly range: BlockRange;
  readonly status: PartitionStatus;
  readonly files: number;
  readonly rows: number;
  readonly bytes: number;
  /** The end hash of the partition's newest file; null for a missing range. */
  readonly endHash: string | null;
  /** For an invalidated partition: the newest invalidation that took its newest file out. */
  readonly invalidation?: I;
}

const STATUS_ORDER: Record<PartitionStatus, number> = { materialized: 0, invalidated: 1, orphaned: 2, missing: 3 };

/** The chain from the lowest block, then the chain after each gap: the files that are or will be canonical. */
function chainPieces<S extends Segment>(segments: readonly S[]): S[] {
  const pieces: S[] = [];
  let remaining = segments;
  for (;;) {
    const found = chains(remaining);
    if (!found) return pieces;
    pieces.push(...found.canonical);
    const end = found.canonical[found.canonical.length - 1]!.range.end;
    // Files starting at or before the block after the chain are forks or replaced: they are not past a gap.
    remaining = remaining.filter((s) => s.range.start > end + 1);
  }
}

function grouped<F extends PartitionFile, I extends Invalidation>(
  files: readonly F[],
  status: "orphaned" | "invalidated",
  invalidationOf: (file: F) => I | undefined,
): Partition<I>[] {
  const groups = new Map<string, F[]>();
  for (const file of files) {
    const key = `${file.range.start}-${file.range.end}`;
    const group = groups.get(key);
    if (group) group.push(file);
    else groups.set(key, [file]);
  }
  return [...groups.values()].map((group) => {
    const newest = group.reduce((a, b) => (b.fileId > a.fileId ? b : a));
    const invalidation = status === "invalidated" ? invalidationOf(newest) : undefined;
    return {
      range: newest.range,
      status,
      files: group.length,
      rows: group.reduce((sum, f) => sum + f.rowCount, 0),
      bytes: group.reduce((sum, f) => sum + (f.objectSize ?? 0), 0),
      endHash: newest.hash,
      ...(invalidation === undefined ? {} : { invalidation }),
    };
  });
}

/**
 * Every partition of a table, in block order (then materialized, invalidated, orphaned, missing), from its
 * invalidations oldest first. `targetEnd`
 * is where the table is heading (its writer job's end or head); the highest file end when that is further or
 * unknown.
 */
export function tablePartitions<F extends PartitionFile, I extends Invalidation>(
  files: readonly F[],
  invalidations: readonly I[],
  startBlock: number,
  targetEnd: number | null,
): Partition<I>[] {
  const counting = countingSegments(files, invalidations);
  const materialized = chainPieces(counting);
  const onChain = new Set(materialized.map((f) => f.fileId));
  const taken = files.filter((f) => isInvalidated(f, invalidations));
  // Invalidations come oldest first: the last one taking the file out is the newest.
  const newestTaking = (file: F) => invalidations.findLast((i) => isInvalidated(file, [i]));
  const lastFileEnd = files.reduce((max, f) => Math.max(max, f.range.end), -1);
  const end = Math.max(targetEnd ?? -1, lastFileEnd);
  const missing = end >= startBlock ? difference([{ start: startBlock, end }], files.map((f) => f.range)) : [];
  const partitions: Partition<I>[] = [
    ...materialized.map((f) => ({ range: f.range, status: "materialized" as const, files: 1, rows: f.rowCount, bytes: f.objectSize ?? 0, endHash: f.hash })),
    ...grouped<F, I>(counting.filter((f) => !onChain.has(f.fileId)), "orphaned", () => undefined),
    ...grouped(taken, "invalidated", newestTaking),
    ...missing.map((range) => ({ range, status: "missing" as const, files: 0, rows: 0, bytes: 0, endHash: null })),
  ];
  return partitions.sort(
    (a, b) => a.range.start - b.range.start || a.range.end - b.range.end || STATUS_ORDER[a.status] - STATUS_ORDER[b.status],
  );
}

export interface PartitionPage<P extends { readonly range: BlockRange }> {
  readonly items: P[];
  /** The start block of the next page's first partition; absent on the last page. */
  readonly nextFromBlock?: number;
}

/**
 * The partitions starting at `fromBlock` or later, at most `limit` of them, never splitting partitions that
 * start at the same block across pages (a page is shorter instead, or longer when more than `limit` start
 * there), so the next page starts at a block and the cursor is that block.
 */
export function partitionPage<P extends { readonly range: BlockRange }>(sorted: readonly P[], fromBlock: number, limit: number): PartitionPage<P> {
  const rest = sorted.filter((p) => p.range.start >= fromBlock);
  if (rest.length <= limit) return { items: rest };
  let cut = limit;
  const boundary = rest[cut]!.range.start;
  while (cut > 0 && rest[cut - 1]!.range.start === boundary) cut--;
  if (cut === 0) {
    cut = limit;
    while (cut < rest.length && rest[cut]!.range.start === boundary) cut++;
    if (cut === rest.length) return { items: rest };
  }
  return { items: rest.slice(0, cut), nextFromBlock: rest[cut]!.range.start };
}

/** Why `{start, end}` is not a block range, or null when it is one: integers from 0 to 2^53 - 1, start ≤ end. */
export function blockRangeProblem(start: unknown, end: unknown): string | null {
  if (!isBlockNumber(start) || !isBlockNumber(end)) return `start and end must be integers from 0 to ${Number.MAX_SAFE_INTEGER}`;
  if (start > end) return `start (${start}) is above end (${end})`;
  return null;
}

/**
 * The blocks a rebuild extracts again: within `request` (null: every invalidated range), the blocks that do
 * not count now, each invalidated file's range taken whole (a file is the unit of a chain, so a rebuild of
 * part of it must extract all of it), up to the highest block any file holds and from the start block.
 * Materialized blocks are not in it: invalidate them first.
 */
export function rebuildRanges(files: readonly Segment[], invalidations: readonly Invalidation[], request: BlockRange | null, startBlock: number): RangeSet {
  const taken = files.filter((f) => isInvalidated(f, invalidations)).map((f) => f.range);
  const windows =
    request === null
      ? normalize(taken)
      : normalize([request, ...taken.filter((range) => range.start <= request.end && request.start <= range.end)]);
  const lastFileEnd = files.reduce((max, f) => Math.max(max, f.range.end), -1);
  const needed = normalize(windows.flatMap((window) => missingRanges(window, files, invalidations)));
  return intersection(needed, [{ start: startBlock, end: lastFileEnd }]);
}
