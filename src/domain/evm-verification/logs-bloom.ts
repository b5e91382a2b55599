/**
 * The 2048-bit logs bloom (yellow paper §4.4.1): for each log, its address
 * and each of its topics set three bits, taken from the first six bytes of
 * their keccak-256 hash as three 11-bit numbers. A receipt's bloom covers its
 * logs, a block's the logs of all its receipts.
 */
import { keccak256 } from "./keccak";

export const BLOOM_BYTES = 256;

/** Sets the three bits of `value` in `bloom`. */
export function addToBloom(bloom: Uint8Array, value: Uint8Array): void {
  const hash = keccak256(value);
  for (let i = 0; i < 6; i += 2) {
    const bit = ((hash[i]! << 8) | hash[i + 1]!) & 2047;
    // Bit 0 is the lowest bit of the last byte: the bloom is one big-endian 2048-bit number.
    bloom[BLOOM_BYTES - 1 - (bit >> 3)]! |= 1 << (bit & 7);
  }
}

/** `into` |= `bloom`. */
export function mergeBloom(into: Uint8Array, bloom: Uint8Array): void {
  for (let i = 0; i < BLOOM_BYTES; i++) into[i]! |= bloom[i]!;
}
