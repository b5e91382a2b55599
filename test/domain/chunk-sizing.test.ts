import { describe, expect, it } from "vitest";
import {
  AHEAD_ANSWER_BYTES,
  CHUNK_ANSWER_BYTES,
  chunkBlocksFor,
  chunksAheadFor,
  FIRST_CHUNK_BLOCKS,
  MAX_CHUNKS_AHEAD,
  nextDensity,
  parseDensity,
} from "../../src/domain/chunk-sizing";

const KB = 1024;

describe("chunk sizing by answer bytes", () => {
  it("an unknown density starts with a few blocks, one chunk ahead", () => {
    expect(chunkBlocksFor(null, 500)).toBe(FIRST_CHUNK_BLOCKS);
    expect(chunkBlocksFor(null, 3)).toBe(3);
    expect(chunksAheadFor(null, FIRST_CHUNK_BLOCKS)).toBe(1);
  });

  it("a mainnet-dense chain (~500 KB of answers per block) gets chunks of ~4 MB, several ahead", () => {
    const blocks = chunkBlocksFor(500 * KB, 500);
    expect(blocks).toBe(Math.floor(CHUNK_ANSWER_BYTES / (500 * KB)));
    expect(blocks * 500 * KB).toBeLessThanOrEqual(CHUNK_ANSWER_BYTES);
    const ahead = chunksAheadFor(500 * KB, blocks);
    expect(ahead).toBeGreaterThanOrEqual(2);
    expect(ahead * blocks * 500 * KB).toBeLessThanOrEqual(AHEAD_ANSWER_BYTES);
  });

  it("a sparse chain keeps the largest chunks its settings allow, one ahead when they are that large", () => {
    expect(chunkBlocksFor(3 * KB, 500)).toBe(500);
    expect(chunksAheadFor(10 * KB, 400)).toBe(Math.floor(AHEAD_ANSWER_BYTES / (10 * KB * 400)));
    expect(chunksAheadFor(100, 500)).toBe(MAX_CHUNKS_AHEAD);
  });

  it("an explicit batch size: chunks of whole batches where they hold one", () => {
    expect(chunkBlocksFor(null, 50, 5)).toBe(5);
    expect(chunkBlocksFor(3 * 1024, 50, 7)).toBe(49);
    expect(chunkBlocksFor(500 * KB, 1000, 100)).toBe(Math.floor(CHUNK_ANSWER_BYTES / (500 * KB)));
  });

  it("blocks larger than a whole chunk's bytes still go one at a time, one ahead", () => {
    expect(chunkBlocksFor(64 * 1024 * KB, 500)).toBe(1);
    expect(chunksAheadFor(64 * 1024 * KB, 1)).toBe(1);
  });

  it("the density follows the newest chunk by half, and the first sample alone", () => {
    expect(nextDensity(null, { blocks: 10, bytes: 5000 })).toBe(500);
    expect(nextDensity(1000, { blocks: 10, bytes: 5000 })).toBe(750);
    expect(nextDensity(1000, { blocks: 0, bytes: 0 })).toBe(1000);
    expect(nextDensity(null, { blocks: 0, bytes: 0 })).toBeNull();
    // A run of dense blocks after sparse ones shrinks the next chunk at once, by half the jump at least.
    const dense = nextDensity(2 * KB, { blocks: 500, bytes: 500 * 400 * KB })!;
    expect(chunkBlocksFor(dense, 500)).toBeLessThanOrEqual(2 * Math.floor(CHUNK_ANSWER_BYTES / (400 * KB)));
  });

  it("parseDensity takes positive finite numbers and nothing else", () => {
    expect(parseDensity(1234.5)).toBe(1234.5);
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, "1000", null, undefined, {}]) expect(parseDensity(bad)).toBeNull();
  });
});
