/**
 * Snappy block compression (the raw format Parquet's SNAPPY codec uses),
 * following the reference encoder: 64 KiB blocks, a 4-byte hash table of up
 * to 2^14 entries per block, skipping ahead faster through incompressible
 * data. hyparquet-writer ships a compressor too, but it appends every byte
 * through a growable writer, which made it the slowest step of encoding; this
 * one writes into one preallocated buffer.
 */

const BLOCK_SIZE = 1 << 16;
const MAX_TABLE_SIZE = 1 << 14;
const INPUT_MARGIN = 15;
const MIN_NON_LITERAL_BLOCK_SIZE = 1 + 1 + INPUT_MARGIN;

const TAG_LITERAL = 0;
const TAG_COPY1 = 1;
const TAG_COPY2 = 2;

const table = new Uint16Array(MAX_TABLE_SIZE);
let output = new Uint8Array(0);

/** Upper bound of the compressed size of `length` bytes. */
export function snappyMaxCompressedLength(length: number): number {
  return 32 + length + Math.floor(length / 6);
}


function hash(u: number, shift: number): number {
  return Math.imul(u, 0x1e35a7bd) >>> shift;
}

function emitLiteral(dst: Uint8Array, d: number, src: Uint8Array, start: number, end: number): number {
  const n = end - start - 1;
  if (n < 60) {
    dst[d++] = (n << 2) | TAG_LITERAL;
  } else if (n < 1 << 8) {
    dst[d++] = (60 << 2) | TAG_LITERAL;
    dst[d++] = n;
  } else {
    dst[d++] = (61 << 2) | TAG_LITERAL;
    dst[d++] = n & 0xff;
    dst[d++] = n >>> 8;
  }
  if (end - start < 64) {
    // a byte loop beats subarray + set (an allocation) for the short literals between matches
    for (let i = start; i < end; i++) dst[d++] = src[i] as number;
    return d;
  }
  dst.set(src.subarray(start, end), d);
  return d + end - start;
}

function emitCopy(dst: Uint8Array, d: number, offset: number, length: number): number {
  while (length >= 68) {
    dst[d++] = (63 << 2) | TAG_COPY2;
    dst[d++] = offset & 0xff;
    dst[d++] = offset >>> 8;
    length -= 64;
  }
  if (length > 64) {
    dst[d++] = (59 << 2) | TAG_COPY2;
    dst[d++] = offset & 0xff;
    dst[d++] = offset >>> 8;
    length -= 60;
  }
  if (length >= 12 || offset >= 2048) {
    dst[d++] = ((length - 1) << 2) | TAG_COPY2;
    dst[d++] = offset & 0xff;
    dst[d++] = offset >>> 8;
    return d;
  }
  dst[d++] = ((offset >>> 8) << 5) | ((length - 4) << 2) | TAG_COPY1;
  dst[d++] = offset & 0xff;
  return d;
}

/** Compresses one block of at most 64 KiB and at least MIN_NON_LITERAL_BLOCK_SIZE bytes. */
function encodeBlock(dst: Uint8Array, d: number, src: Uint8Array): number {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const load32 = (i: number): number => view.getInt32(i, true);
  let shift = 32 - 8;
  let tableSize = 1 << 8;
  while (tableSize < MAX_TABLE_SIZE && tableSize < src.length) {
    tableSize *= 2;
    shift--;
  }
  table.fill(0, 0, tableSize);

  const sLimit = src.length - INPUT_MARGIN;
  let nextEmit = 0;
  let s = 1;
  let nextHash = hash(load32(s), shift);

  for (;;) {
    let skip = 32;
    let nextS = s;
    let candidate = 0;
    for (;;) {
      s = nextS;
      const bytesBetweenHashLookups = skip >>> 5;
      nextS = s + bytesBetweenHashLookups;
      skip += bytesBetweenHashLookups;
      if (nextS > sLimit) {
        return nextEmit < src.length ? emitLiteral(dst, d, src, nextEmit, src.length) : d;
      }
      candidate = table[nextHash] as number;
      table[nextHash] = s;
      nextHash = hash(load32(nextS), shift);
      if (load32(s) === load32(candidate)) break;
    }

    d = emitLiteral(dst, d, src, nextEmit, s);

    for (;;) {
      const base = s;
      s += 4;
      for (let i = candidate + 4; s < src.length && src[i] === src[s]; i++, s++);
      d = emitCopy(dst, d, base - candidate, s - base);
      nextEmit = s;
      if (s >= sLimit) {
        return nextEmit < src.length ? emitLiteral(dst, d, src, nextEmit, src.length) : d;
      }
      const prevHash = hash(load32(s - 1), shift);
      table[prevHash] = s - 1;
      const currHash = hash(load32(s), shift);
      candidate = table[currHash] as number;
      table[currHash] = s;
      if (load32(s) !== load32(candidate)) {
        nextHash = hash(load32(s + 1), shift);
        s++;
        break;
      }
    }
  }
}

/**
 * Snappy-compresses `input`. The result is a view of a buffer reused by the
 * next call: hyparquet-writer copies it into the file right away.
 */
export function snappyCompress(input: Uint8Array): Uint8Array {
  const needed = snappyMaxCompressedLength(input.length);
  if (output.length < needed) output = new Uint8Array(Math.max(needed, output.length * 2));
  const dst = output;

  let d = 0;
  let length = input.length; // varint preamble: the uncompressed length
  while (length >= 0x80) {
    dst[d++] = (length & 0x7f) | 0x80;
    length = Math.floor(length / 128);
  }
  dst[d++] = length;

  for (let start = 0; start < input.length; start += BLOCK_SIZE) {
    const block = input.subarray(start, Math.min(start + BLOCK_SIZE, input.length));
    d = block.length < MIN_NON_LITERAL_BLOCK_SIZE ? emitLiteral(dst, d, block, 0, block.length) : encodeBlock(dst, d, block);
  }
  return dst.subarray(0, d);
}
