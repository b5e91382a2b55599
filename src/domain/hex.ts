/**
 * Hex strings <-> bytes and numbers, the one place that does it. Decoding
 * walks the string with charCodeAt and a lookup table, writing into one
 * preallocated Uint8Array: extraction decodes every hash, address and
 * payload of every block, so no per-character strings or intermediate arrays.
 */

/** Thrown for a value that is not the hex the caller asked for. */
export class HexError extends Error {
  override readonly name = "HexError";
}

const INVALID = 255;
/**
 * charCode -> nibble value, INVALID for anything that is not a hex digit.
 * One entry per UTF-16 code unit, so every charCodeAt indexes it without a
 * range check, and a pair of digits is validated with one comparison.
 */
const NIBBLES = (() => {
  const table = new Uint8Array(0x10000).fill(INVALID);
  for (let i = 0; i < 10; i++) table[48 + i] = i;
  for (let i = 0; i < 6; i++) {
    table[65 + i] = 10 + i;
    table[97 + i] = 10 + i;
  }
  return table;
})();

const BYTE_TO_HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

function nibble(hex: string, index: number): number {
  const value = NIBBLES[hex.charCodeAt(index)] ?? INVALID;
  if (value === INVALID) throw new HexError(`not a hex digit at ${index}: ${preview(hex)}`);
  return value;
}

function preview(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function hasPrefix(value: unknown): value is string {
  return typeof value === "string" && value.charCodeAt(0) === 48 && (value.charCodeAt(1) | 32) === 120;
}

function requirePrefix(value: unknown): string {
  if (!hasPrefix(value)) throw new HexError(`expected a 0x-prefixed hex string, got ${preview(value)}`);
  return value;
}

/** Decodes `out.length` bytes from `hex` starting at character `from` (must be even-length from there). */
function decodeInto(hex: string, from: number, out: Uint8Array, outOffset: number): void {
  for (let i = from, j = outOffset; j < out.length; i += 2, j++) {
    const high = NIBBLES[hex.charCodeAt(i)] as number;
    const low = NIBBLES[hex.charCodeAt(i + 1)] as number;
    // INVALID has high bits set: one test covers both digits. nibble() names the bad one.
    if ((high | low) > 15) out[j] = (nibble(hex, i) << 4) | nibble(hex, i + 1);
    else out[j] = (high << 4) | low;
  }
}

/** Gives the array a decoded value goes into: `size` zero bytes, not shared with any other value. */
export type ByteAllocator = (size: number) => Uint8Array;

const fresh: ByteAllocator = (size) => new Uint8Array(size);

/**
 * Hands out byte arrays as views into shared buffers, for callers that decode
 * many small values which live and die together (the rows of a chunk of
 * blocks): one ArrayBuffer per 64 KiB instead of one per value, which
 * otherwise makes most of the garbage collector's work. Memory is never
 * reused, so views are zero-filled and never overlap, and a buffer lives as
 * long as any of its views. Values above a quarter of a buffer get their own.
 */
export class ByteArena {
  private buffer: ArrayBuffer;
  private used = 0;

  constructor(private readonly bufferBytes = 64 * 1024) {
    this.buffer = new ArrayBuffer(bufferBytes);
  }

  readonly allocate: ByteAllocator = (size) => {
    if (size > this.bufferBytes >> 2) return new Uint8Array(size);
    if (this.used + size > this.bufferBytes) {
      this.buffer = new ArrayBuffer(this.bufferBytes);
      this.used = 0;
    }
    const view = new Uint8Array(this.buffer, this.used, size);
    this.used += size;
    return view;
  };
}

/** The bytes of a 0x-prefixed, even-length hex string ("0x" is empty). */
export function hexToBytes(hex: unknown, allocate: ByteAllocator = fresh): Uint8Array {
  const text = requirePrefix(hex);
  const digits = text.length - 2;
  if (digits % 2 !== 0) throw new HexError(`odd number of hex digits: ${preview(text)}`);
  const out = allocate(digits / 2);
  decodeInto(text, 2, out, 0);
  return out;
}

/** Exactly `size` bytes (a hash, an address): anything else is an error. */
export function hexToFixedBytes(hex: unknown, size: number, allocate: ByteAllocator = fresh): Uint8Array {
  const text = requirePrefix(hex);
  if (text.length !== 2 + 2 * size) throw new HexError(`expected ${size} bytes, got ${preview(text)}`);
  const out = allocate(size);
  decodeInto(text, 2, out, 0);
  return out;
}

/**
 * A quantity ("0x1a2b", no leading zeros, any digit count) as `size` bytes,
 * big-endian and left-padded with zeros; a value wider than `size` is an error.
 */
export function quantityToBytes(hex: unknown, size: number, allocate: ByteAllocator = fresh): Uint8Array {
  const text = requirePrefix(hex);
  let start = 2;
  while (start < text.length - 1 && text.charCodeAt(start) === 48) start++;
  const digits = text.length - start;
  if (digits === 0) throw new HexError(`empty quantity: ${preview(text)}`);
  const width = (digits + 1) >> 1;
  if (width > size) throw new HexError(`quantity wider than ${size} bytes: ${preview(text)}`);
  const out = allocate(size);
  let offset = size - width;
  if (digits % 2 === 1) out[offset++] = nibble(text, start++);
  decodeInto(text, start, out, offset);
  return out;
}

/**
 * A quantity ("0x0", "0x1a2b") as its shortest big-endian bytes, the form RLP
 * gives integers: zero is no bytes at all. Leading zero digits are dropped,
 * so a node that pads (r and s as 32 bytes) gives the same bytes.
 */
export function quantityToMinimalBytes(hex: unknown, allocate: ByteAllocator = fresh): Uint8Array {
  const text = requirePrefix(hex);
  if (text.length === 2) throw new HexError(`empty quantity: ${preview(text)}`);
  let start = 2;
  while (start < text.length && text.charCodeAt(start) === 48) start++;
  const digits = text.length - start;
  const out = allocate((digits + 1) >> 1);
  let offset = 0;
  if (digits % 2 === 1) out[offset++] = nibble(text, start++);
  decodeInto(text, start, out, offset);
  return out;
}

/** A quantity as a bigint. */
export function hexToBigInt(hex: unknown): bigint {
  const text = requirePrefix(hex);
  if (text.length === 2) throw new HexError(`empty quantity: ${preview(text)}`);
  try {
    return BigInt(text);
  } catch {
    throw new HexError(`not a hex quantity: ${preview(text)}`);
  }
}

/** A quantity as a JS number; values above 2^53 - 1 are an error. */
export function hexToSafeInteger(hex: unknown): number {
  const text = requirePrefix(hex);
  const value = Number(text);
  if (!Number.isSafeInteger(value) || text.length === 2) throw new HexError(`not a safe integer quantity: ${preview(text)}`);
  return value;
}

/** "0x" + lowercase hex. */
export function bytesToHex(bytes: Uint8Array): string {
  let out = "0x";
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_HEX[bytes[i]!];
  return out;
}

/** A non-negative integer as a quantity ("0x1a"). */
export function toQuantity(value: number | bigint): string {
  if (value < 0) throw new HexError(`negative quantity: ${value}`);
  return `0x${value.toString(16)}`;
}
