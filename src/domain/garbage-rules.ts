/**
 * Which files of a location no canonical chain needs any more (the rules of garbage collection, pure). A file
 * is **superseded** when it is off the location's canonical chain and its whole range lies inside the range the
 * chain covers: another file holds those blocks on the chain (a reorg's losing branch, a range extracted again).
 * Files off the chain outside that range are kept: a fork ending above the chain may become canonical, and a
 * file beyond a gap (parallel steps finishing out of order) joins the chain once the gap is filled. Age is the
 * caller's second guard: only files older than the grace period are ever collected, so the newest files of a
 * reorg repair under way, which are briefly off the chain, are never candidates.
 *
 * A file an invalidation took out is **invalidated** garbage once the invalidation is older than the grace
 * period: it never counts again (only files registered after the invalidation do), so removing it cannot change
 * any chain. Superseded files are looked for among the files that still count, so each file has one reason.
 */
import { chains, countingSegments, type Invalidation, isInvalidated, type Segment } from "./canonical-chain";

/** The segments of one location that count but are off its canonical chain, inside the range it covers. */
export function supersededSegments<S extends Segment>(segments: readonly S[], invalidations: readonly Invalidation[] = []): S[] {
  const found = chains(segments, invalidations);
  if (!found) return [];
  const canonical = new Set(found.canonical.map((s) => s.fileId));
  const first = found.canonical[0]!.range.start;
  const last = found.canonical[found.canonical.length - 1]!.range.end;
  return countingSegments(segments, invalidations).filter((s) => !canonical.has(s.fileId) && s.range.start >= first && s.range.end <= last);
}

/** An invalidation with the time it was recorded, which the grace period is measured from. */
export interface RecordedInvalidation extends Invalidation {
  /** RFC 3339 UTC, comparable as text with the cutoff. */
  readonly createdAt: string;
}

/**
 * The segments taken out by an invalidation recorded before `cutoff`. None of them is on the canonical chain
 * (the chain is chosen without them), which the filter restates so that a change to the selection cannot make
 * garbage collection remove a canonical file.
 */
export function invalidatedSegments<S extends Segment>(segments: readonly S[], invalidations: readonly RecordedInvalidation[], cutoff: string): S[] {
  const old = invalidations.filter((i) => i.createdAt < cutoff);
  if (old.length === 0) return [];
  const canonical = canonicalFileIds(segments, invalidations);
  return segments.filter((s) => !canonical.has(s.fileId) && isInvalidated(s, old));
}

/** The ids of the segments on the canonical chain, to check a file handed over by a prune before removing it. */
export function canonicalFileIds(segments: readonly Segment[], invalidations: readonly Invalidation[] = []): Set<number> {
  return new Set(chains(segments, invalidations)?.canonical.map((s) => s.fileId) ?? []);
}

/** The grace period of `?older_than=` when none is given: a day. */
export const DEFAULT_GC_GRACE_SECS = 24 * 60 * 60;

/**
 * Parses `older_than` as seconds (`3600`) or with a unit (`90s`, `30m`, `24h`, `7d`); null when it is
 * neither. Zero is allowed: it collects everything collectable now, for tests and emergencies.
 */
export function parseGracePeriod(text: string): number | null {
  const match = /^(\d{1,9})([smhd]?)$/.exec(text);
  if (!match) return null;
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as "" | "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}
