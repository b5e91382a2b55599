/**
 * Segments (one per Parquet file), the canonical chain, forks, missing ranges
 * and progress, as reference §5.6 and §9 describe, with one change: where the
 * original breaks ties on a `last_modified` it never stores (§11.9), the
 * segment with the highest file id wins. File ids grow with each insert, so
 * the newest file of a reorg or a re-extraction is preferred, and the result
 * never depends on the order rows come back in.
 *
 * Block height plus hash is the unit of progress: a file attests its range
 * only as far as its end hash and its start's parent hash link it to its
 * neighbours.
 *
 * Invalidated partitions are an input of the selection (`chains`), not a
 * filter each reader applies: every function below that picks a chain takes
 * the table's invalidations and passes them on.
 */
import { type BlockRange, type RangeSet, contains, difference, intersection, normalize } from "./block-range";

export interface Segment {
  readonly fileId: number;
  readonly range: BlockRange;
  /** Hash of the range's end block, `0x` + hex. */
  readonly hash: string;
  /** Hash of the parent of the range's start block; null when unknown. */
  readonly prevHash: string | null;
  readonly network: string;
}

/** Whether `next` follows `prev` directly: same network, next block, and (when known) linked by hash. */
export function adjacent(prev: Segment, next: Segment): boolean {
  return (
    prev.network === next.network &&
    prev.range.end + 1 === next.range.start &&
    (next.prevHash === null || sameHash(next.prevHash, prev.hash))
  );
}

function sameHash(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * A block range of a table taken out of counting (`POST .../partitions/invalidate`): every file registered by
 * then (id up to `fileIdCeiling`) that holds a block of the range no longer counts, whole, since a file is the
 * unit a chain is made of. Files registered later (a rebuild's) count again; nothing is deleted.
 */
export interface Invalidation {
  readonly range: BlockRange;
  /** The highest file id of the table's location when the invalidation was recorded (0 when it had none). */
  readonly fileIdCeiling: number;
}

/** Whether an invalidation takes the segment out: registered by then, and holding a block of its range. */
export function isInvalidated(segment: Segment, invalidations: readonly Invalidation[]): boolean {
  return invalidations.some(
    (i) => segment.fileId <= i.fileIdCeiling && segment.range.start <= i.range.end && i.range.start <= segment.range.end,
  );
}

/** The segments that still count: those no invalidation takes out. */
export function countingSegments<S extends Segment>(segments: readonly S[], invalidations: readonly Invalidation[]): S[] {
  return invalidations.length === 0 ? [...segments] : segments.filter((s) => !isInvalidated(s, invalidations));
}

export interface Chains<S extends Segment> {
  /** Adjacent segments, oldest first, starting at the lowest start block of all segments. */
  readonly canonical: readonly S[];
  /** The first other chain (highest end first) that ends above the canonical chain and starts at most one block after it. */
  readonly fork: readonly S[] | null;
}

/**
 * The canonical chain and the fork of a set of segments (null when there are
 * none). Chains are picked highest end first: a chain starts from the
 * remaining segment with the greatest end (highest file id among equal ends)
 * and walks back through the highest-id segment ending one block before its
 * start that is adjacent to it, until block 0 or no such segment. Picking
 * repeats on the remaining segments until a chain starts at the lowest start
 * of all segments; that chain is canonical. The input order does not matter.
 * Segments an invalidation takes out are not considered at all.
 */
export function chains<S extends Segment>(all: readonly S[], invalidations: readonly Invalidation[] = []): Chains<S> | null {
  const segments = countingSegments(all, invalidations);
  if (segments.length === 0) return null;
  // A reduce, not Math.min(...spread): a table can have more files than a call has arguments.
  const minStart = segments.reduce((min, s) => Math.min(min, s.range.start), Number.POSITIVE_INFINITY);
  const byEnd = new Map<number, S[]>();
  for (const segment of segments) {
    const bucket = byEnd.get(segment.range.end);
    if (bucket) bucket.push(segment);
    else byEnd.set(segment.range.end, [segment]);
  }
  // Highest file id first, so the first match in a bucket is the tie-break winner.
  for (const bucket of byEnd.values()) bucket.sort((a, b) => b.fileId - a.fileId);
  const endsDescending = [...byEnd.keys()].sort((a, b) => b - a);
  let top = 0;

  const take = (end: number, accept: (s: S) => boolean): S | undefined => {
    const bucket = byEnd.get(end);
    if (!bucket) return undefined;
    const index = bucket.findIndex(accept);
    if (index < 0) return undefined;
    const [segment] = bucket.splice(index, 1);
    if (bucket.length === 0) byEnd.delete(end);
    return segment;
  };

  const pickChain = (): S[] => {
    while (!byEnd.has(endsDescending[top]!)) top++;
    const chain = [take(endsDescending[top]!, () => true)!];
    for (;;) {
      const first = chain[chain.length - 1]!;
      if (first.range.start === 0) break;
      const previous = take(first.range.start - 1, (s) => adjacent(s, first));
      if (!previous) break;
      chain.push(previous);
    }
    return chain.reverse();
  };

  // Every pick removes at least one segment, and a segment starting at
  // minStart heads a chain once nothing else is left, so this ends.
  const picked: S[][] = [];
  let canonical = pickChain();
  while (canonical[0]!.range.start !== minStart) {
    picked.push(canonical);
    canonical = pickChain();
  }
  const canonicalEnd = canonical[canonical.length - 1]!.range.end;
  const fork =
    picked.find((c) => c[c.length - 1]!.range.end > canonicalEnd && c[0]!.range.start <= canonicalEnd + 1) ?? null;
  return { canonical, fork };
}

export function chainRange(chain: readonly Segment[]): BlockRange | null {
  const first = chain[0];
  const last = chain[chain.length - 1];
  return first && last ? { start: first.range.start, end: last.range.end } : null;
}

/**
 * The canonical chain as the progress API and readers see it (reference §5.6
 * `canonical_chain()` in `PhysicalTable`): empty when the chain does not
 * begin at or before the dataset's start block, because then the table's
 * history has a hole at its beginning.
 */
export function canonicalChain<S extends Segment>(
  segments: readonly S[],
  startBlock: number,
  invalidations: readonly Invalidation[] = [],
): readonly S[] {
  const found = chains(segments, invalidations);
  if (!found || found.canonical[0]!.range.start > startBlock) return [];
  return found.canonical;
}

/**
 * The blocks of `desired` a table still needs (reference §5.6
 * `missing_ranges`): every block no segment covers, canonical or not, plus,
 * when a fork exists, the canonical segment holding the block before the
 * fork's start, from its start up to that block, so that the next pass
 * extracts a segment the fork can link to. Deep reorgs are repaired one
 * segment per pass, walking back until the fork links up. With
 * invalidations, the blocks of the files they take out are missing too.
 */
export function missingRanges(desired: BlockRange, all: readonly Segment[], invalidations: readonly Invalidation[] = []): RangeSet {
  const segments = countingSegments(all, invalidations);
  const missing = difference([desired], segments.map((s) => s.range));
  const reorg = reorgRange(segments);
  return reorg ? normalize([...missing, ...intersection([reorg], [desired])]) : missing;
}

/**
 * The already-covered range that must be extracted again because a fork
 * ended above the canonical chain (the reorg part of `missingRanges`), or
 * null without a fork.
 */
export function reorgRange(segments: readonly Segment[], invalidations: readonly Invalidation[] = []): BlockRange | null {
  const found = chains(segments, invalidations);
  if (!found?.fork) return null;
  // The fork starts after the canonical chain's start, so this is a real block.
  const reorgBlock = found.fork[0]!.range.start - 1;
  const overlapped = found.canonical.find((s) => contains([s.range], reorgBlock));
  return overlapped ? { start: overlapped.range.start, end: reorgBlock } : null;
}

export interface SizedSegment extends Segment {
  /** The Parquet object's size in bytes; null when unknown, counted as 0. */
  readonly objectSize: number | null;
}

export interface TableProgress {
  /** First block of the canonical chain; null when the table has none. */
  readonly startBlock: number | null;
  /** Last block of the canonical chain: everything from startBlock to here is present and linked. */
  readonly currentBlock: number | null;
  readonly filesCount: number;
  readonly totalSizeBytes: number;
}

/** Progress figures of a table's active location (reference §9); invalidated blocks do not count. */
export function tableProgress(segments: readonly SizedSegment[], startBlock: number, invalidations: readonly Invalidation[] = []): TableProgress {
  const canonical = canonicalChain(segments, startBlock, invalidations);
  const range = chainRange(canonical);
  return {
    startBlock: range?.start ?? null,
    currentBlock: range?.end ?? null,
    filesCount: canonical.length,
    totalSizeBytes: canonical.reduce((sum, s) => sum + (s.objectSize ?? 0), 0),
  };
}

/** What the node says about block hashes: its head, and the hashes fetched so far. */
export interface NodeView {
  /** The node's chain head; blocks above it are gone from the node's chain. */
  readonly head: number;
  /** Block number → block hash, for the blocks the caller has asked the node about. */
  readonly hashes: ReadonlyMap<number, string>;
}

export type TipCheck =
  /** The canonical chain's last block is on the node's chain (or there is no chain). */
  | { readonly status: "consistent" }
  /** Ask the node for these blocks' hashes, add them to `hashes`, and check again. */
  | { readonly status: "needHashes"; readonly blocks: readonly number[] }
  /**
   * Canonical segments from `from` on are no longer on the node's chain.
   * `reextract` is what to extract again now (up to the node's head; null
   * when the node has not reached `from` yet). The new files win once their
   * chain reaches at least as high as the old one: with equal ends, the
   * higher file ids win.
   */
  | { readonly status: "reorged"; readonly from: number; readonly reextract: BlockRange | null };

/**
 * Checks the canonical chain's segments against the node, newest first, to
 * repair a reorg behind the cursor of a running continuous job (DESIGN
 * "Where we differ" 11). A segment is still valid when the node's hash of its
 * end block equals the segment's hash; the segments after the newest valid
 * one are stale. The walk asks for one hash first, then doubles the number
 * per round up to `lookups`, so a tip that is fine costs one lookup and a
 * deep reorg costs a few rounds. Segments ending at or below `floor` (e.g.
 * the finalized block) are trusted without asking; if every segment above it
 * is stale, all of them are re-extracted.
 */
export function checkTip(
  canonical: readonly Segment[],
  node: NodeView,
  options: { readonly lookups?: number; readonly floor?: number } = {},
): TipCheck {
  const lookups = Math.max(1, options.lookups ?? 8);
  const floor = options.floor ?? -1;
  const last = canonical[canonical.length - 1];
  if (!last) return { status: "consistent" };
  let staleFrom: number | null = null;
  let staleCount = 0;
  const wanted: number[] = [];
  for (let i = canonical.length - 1; i >= 0; i--) {
    const segment = canonical[i]!;
    const end = segment.range.end;
    if (end <= floor) break;
    const nodeHash = end > node.head ? null : node.hashes.get(end);
    if (nodeHash === undefined) {
      wanted.push(end);
      // Gallop: one lookup while nothing is stale, then as many as are stale, up to the cap.
      if (wanted.length >= Math.min(lookups, Math.max(1, staleCount))) break;
      continue;
    }
    if (wanted.length > 0) break;
    if (nodeHash !== null && sameHash(nodeHash, segment.hash)) break;
    staleFrom = segment.range.start;
    staleCount++;
  }
  if (wanted.length > 0) return { status: "needHashes", blocks: wanted };
  if (staleFrom === null) return { status: "consistent" };
  const end = Math.min(last.range.end, node.head);
  return { status: "reorged", from: staleFrom, reextract: staleFrom <= end ? { start: staleFrom, end } : null };
}
