import type { PlainColumn } from "./encode-column";
import type { Scratch } from "./scratch";

/**
 * Dictionary encoding of a column chunk, built over its PLAIN buffer with an
 * open-addressing hash table of typed arrays (no per-value objects). Used
 * when it makes the chunk smaller, which it does for the columns that repeat:
 * block numbers, timestamps, block hashes, contract addresses, event topics.
 */
export interface Dictionary {
  /** Dictionary index of each non-null value. */
  indices: Int32Array;
  /** The distinct values in index order, PLAIN-encoded: the dictionary page. */
  plain: Uint8Array;
  size: number;
  /** Bits per index in the data pages. */
  bitWidth: number;
}

/** parquet-rs' default dictionary page size limit: beyond it a chunk stays PLAIN. */
const MAX_DICTIONARY_BYTES = 1024 * 1024;
/** Values hashed before deciding whether a full build can pay off. */
const SAMPLE = 1024;

function bitWidthFor(size: number): number {
  return size <= 1 ? 0 : 32 - Math.clz32(size - 1);
}

/** Reads 32-bit words when every value is whole words at an aligned offset, bytes otherwise. */
function hasher(column: PlainColumn): (start: number, length: number) => number {
  const { plain, width } = column;
  if (width > 0 && width % 4 === 0 && plain.byteOffset % 4 === 0) {
    const words = new Int32Array(plain.buffer, plain.byteOffset, plain.length >> 2);
    return (start) => {
      let h = 0x811c9dc5;
      for (let w = start >> 2, end = w + (width >> 2); w < end; w++) h = Math.imul(h ^ (words[w] as number), 0x01000193);
      return h ^ (h >>> 15);
    };
  }
  return (start, length) => {
    let h = 0x811c9dc5;
    for (let i = start, end = start + length; i < end; i++) h = Math.imul(h ^ (plain[i] as number), 0x01000193);
    return h ^ (h >>> 15);
  };
}

function sameBytes(bytes: Uint8Array, a: number, b: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}

/**
 * Dictionary-encodes `column` when that is smaller than PLAIN, otherwise
 * returns null. BOOLEAN columns (width 1 with one byte per value) are left
 * to PLAIN by the caller. The result is made of `scratch` views.
 */
export function buildDictionary(column: PlainColumn, scratch: Scratch): Dictionary | null {
  const { count, plain, width, starts } = column;
  if (count < 2) return null;
  const start = starts === null ? (v: number) => v * width : (v: number) => starts[v] as number;
  const length = starts === null ? () => width : (v: number) => (starts[v + 1] as number) - (starts[v] as number);
  const hash = hasher(column);

  // Give up when fewer than half the values repeat an earlier one.
  const maxEntries = count >> 1;
  let capacity = 16;
  while (capacity < 2 * maxEntries + 2) capacity <<= 1;
  const mask = capacity - 1;
  const slots = scratch.int32("slots", capacity).fill(-1);
  const entryStart = scratch.int32("entryStart", maxEntries + 1);
  const entryLength = scratch.int32("entryLength", maxEntries + 1);
  const indices = scratch.int32("indices", count);
  let size = 0;
  let dictionaryBytes = 0;
  const sample = Math.min(count, SAMPLE);

  for (let v = 0; v < count; v++) {
    if (v === sample && size > 0.9 * sample) return null; // nearly all distinct so far: a unique column
    const at = start(v);
    const len = length(v);
    let slot = hash(at, len) & mask;
    for (;;) {
      const entry = slots[slot] as number;
      if (entry === -1) {
        if (size === maxEntries) return null;
        dictionaryBytes += len;
        if (dictionaryBytes > MAX_DICTIONARY_BYTES) return null;
        slots[slot] = size;
        entryStart[size] = at;
        entryLength[size] = len;
        indices[v] = size++;
        break;
      }
      if (entryLength[entry] === len && sameBytes(plain, entryStart[entry] as number, at, len)) {
        indices[v] = entry;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }

  const bitWidth = bitWidthFor(size);
  if (dictionaryBytes + Math.ceil((count * bitWidth) / 8) >= plain.length) return null;
  const dictionaryPlain = scratch.uint8("dictionary", dictionaryBytes);
  let offset = 0;
  for (let entry = 0; entry < size; entry++) {
    const from = entryStart[entry] as number;
    const len = entryLength[entry] as number;
    dictionaryPlain.set(plain.subarray(from, from + len), offset);
    offset += len;
  }
  return { indices, plain: dictionaryPlain, size, bitWidth };
}
