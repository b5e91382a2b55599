/**
 * The 2048-bit logs bloom (yellow paper §4.4.1): for each log, its address
 * and each of its topics set three bits, taken from the first six bytes of
 * their keccak-256 hash as three 11-bit numbers. A receipt's bloom covers its
 * logs, a block's the logs of all its receipts.
 */
import { keccak256 } from "./keccak";

export const BLOOM_BYTES = 256;

/**
 * Sets the bits of addresses and topics in blooms, hashing each value once:
 * a block's logs repeat a few contracts and event signatures (Transfer,
 * Swap...), and these hashes were a third of a mainnet block's verification.
 * Keyed by the value's hex text as the node sent it; one per block.
 */
export class BloomBits {
  /** hex text -> its three bit positions, 11 bits each. */
  private readonly positions = new Map<string, number>();

  /** Sets the three bits of `value` (whose hex text is `hex`) in `bloom`. */
  add(bloom: Uint8Array, value: Uint8Array, hex: string): void {
    let packed = this.positions.get(hex);
    if (packed === undefined) {
      const hash = keccak256(value);
      packed = 0;
      for (let i = 0; i < 6; i += 2) packed = packed * 2048 + (((hash[i]! << 8) | hash[i + 1]!) & 2047);
      this.positions.set(hex, packed);
    }
    for (let i = 0; i < 3; i++) {
      const bit = packed % 2048;
      packed = Math.floor(packed / 2048);
      // Bit 0 is the lowest bit of the last byte: the bloom is one big-endian 2048-bit number.
      bloom[BLOOM_BYTES - 1 - (bit >> 3)]! |= 1 << (bit & 7);
    }
  }
}

/** `into` |= `bloom`. */
export function mergeBloom(into: Uint8Array, bloom: Uint8Array): void {
  for (let i = 0; i < BLOOM_BYTES; i++) into[i]! |= bloom[i]!;
}
