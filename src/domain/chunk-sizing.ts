/**
 * How many blocks an extraction chunk takes: as many as make about
 * CHUNK_ANSWER_BYTES of the node's answers, by the density (answer bytes per
 * block) measured so far. A chunk's answers, its rows and the chunks fetched
 * ahead of it are what a step holds, so sizing chunks by bytes instead of by
 * blocks is what bounds a step's memory on dense chains (mainnet: ~0.5 MB of
 * JSON per block) without making sparse ones fetch in small pieces.
 *
 * The density is plain JSON carried to the job's next steps (with the
 * provider's tuning, see rpc-tuning.ts), so only a job's very first chunk is
 * sized blind, small enough for the densest chain.
 */

/** A chunk's answers aim at this many bytes of JSON. */
export const CHUNK_ANSWER_BYTES = 4 * 1024 * 1024;
/** Bytes of answers fetched ahead of the chunk being turned into rows, at most (about two chunks). */
export const AHEAD_ANSWER_BYTES = 2 * CHUNK_ANSWER_BYTES;
/** Chunks fetched ahead at most, however small they are: their requests overlap the current chunk's rows. */
export const MAX_CHUNKS_AHEAD = 3;
/** The first chunk of a job, density unknown: small enough for mainnet blocks (8 of them are ~4 MB of answers). */
export const FIRST_CHUNK_BLOCKS = 8;
/** Newer measurements weigh this much against what was known before, per chunk. */
const NEW_WEIGHT = 0.5;

/** What a chunk's fetch measured. */
export interface DensitySample {
  readonly blocks: number;
  /** Bytes of the node's answers for those blocks (block bodies and receipts). */
  readonly bytes: number;
}

/**
 * Blocks for the next chunk: CHUNK_ANSWER_BYTES of answers at
 * `bytesPerBlock`, within 1..=maxBlocks, and a multiple of `batchSize` (an
 * explicit rpc_batch_size) when it is at least that, so that every request
 * carries exactly that many calls.
 */
export function chunkBlocksFor(bytesPerBlock: number | null, maxBlocks: number, batchSize = 1): number {
  const byBytes = bytesPerBlock === null ? FIRST_CHUNK_BLOCKS : Math.floor(CHUNK_ANSWER_BYTES / Math.max(1, bytesPerBlock));
  const blocks = Math.max(1, Math.min(maxBlocks, byBytes));
  return batchSize > 1 && blocks > batchSize ? blocks - (blocks % batchSize) : blocks;
}

/**
 * Chunks to keep fetched ahead of the one being converted: as many as fit
 * AHEAD_ANSWER_BYTES at the expected chunk size, at least one, at most
 * MAX_CHUNKS_AHEAD. Small chunks of a dense chain get more of them, so the
 * node still has several requests to work on.
 */
export function chunksAheadFor(bytesPerBlock: number | null, chunkBlocks: number): number {
  if (bytesPerBlock === null) return 1;
  const chunkBytes = Math.max(1, bytesPerBlock * chunkBlocks);
  return Math.max(1, Math.min(MAX_CHUNKS_AHEAD, Math.floor(AHEAD_ANSWER_BYTES / chunkBytes)));
}

/**
 * The density after a chunk: the sample alone when nothing was known, else
 * a blend in which the newest chunk counts half, so a run of busy blocks
 * shrinks the next chunks at once and a quiet run grows them again.
 */
export function nextDensity(bytesPerBlock: number | null, sample: DensitySample): number | null {
  if (sample.blocks <= 0) return bytesPerBlock;
  const measured = sample.bytes / sample.blocks;
  return bytesPerBlock === null ? measured : bytesPerBlock * (1 - NEW_WEIGHT) + measured * NEW_WEIGHT;
}

/** A density read back from a job's state: anything but a positive finite number is ignored. */
export function parseDensity(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : null;
}
