/** Reorg detection for a continuous job: its tables' newest files against the node's block hashes. */
import { union } from "../src/domain/block-range";
import { type Segment, canonicalChain, checkTip } from "../src/domain/canonical-chain";
import type { RunnerJob, RunnerState, RunnerStorage } from "./runner-storage";

/** The last block of each table's canonical chain: the first hashes a tip check asks for. */
export function tipEnds(storage: RunnerStorage, job: RunnerJob): number[] {
  const ends = new Set<number>();
  for (const location of job.locations) {
    const table = storage.table(location.locationId);
    const canonical = canonicalChain(table.segments, job.startBlock, table.invalidations);
    const last = canonical[canonical.length - 1];
    if (last) ends.add(last.range.end);
  }
  return [...ends];
}

/**
 * Compares each table's newest files with the node's hashes and forces
 * re-extraction after a reorg. A table whose files reach past the node's head
 * is left alone for now: the node may only lag behind the one that served the
 * step (providers sit behind load balancers), and would make good files look
 * stale; the check runs once the head caught up.
 */
export function checkForReorg(storage: RunnerStorage, job: RunnerJob, state: RunnerState): void {
  const head = state.head;
  if (head === null) return;
  const node = { head, hashes: new Map(Object.entries(state.tipHashes).map(([k, v]) => [Number(k), v])) };
  const wanted = new Set<number>();
  for (const location of job.locations) {
    const table = storage.table(location.locationId);
    const canonical: readonly Segment[] = canonicalChain(table.segments, job.startBlock, table.invalidations);
    if ((canonical.at(-1)?.range.end ?? -1) > head) continue;
    const check = checkTip(canonical, node);
    if (check.status === "needHashes") for (const block of check.blocks) wanted.add(block);
    if (check.status === "reorged" && check.reextract) state.forced = [...union(state.forced, [check.reextract])];
  }
  state.tipBlocks = [...wanted].sort((a, b) => a - b);
  if (state.tipBlocks.length === 0) state.tipHashes = {};
}
