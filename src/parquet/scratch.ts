/**
 * Reusable buffers for encoding, one per purpose, grown to the largest
 * column chunk seen. Encoding a row group then allocates almost nothing,
 * which keeps the garbage collector (and peak memory) out of the hot path.
 * A view handed out is valid until the next request for the same purpose, and
 * its contents are whatever was there before: callers initialise what they read.
 */
export type ScratchPurpose =
  | "levels"
  | "int64"
  | "int32"
  | "plain"
  | "starts"
  | "slots"
  | "entryStart"
  | "entryLength"
  | "indices"
  | "dictionary"
  | "bits";

export class Scratch {
  private readonly buffers = new Map<ScratchPurpose, ArrayBuffer>();

  private take(purpose: ScratchPurpose, bytes: number): ArrayBuffer {
    const current = this.buffers.get(purpose);
    if (current !== undefined && current.byteLength >= bytes) return current;
    // Grow by at least half again, so a slowly growing size does not reallocate every time.
    const grown = new ArrayBuffer(Math.max(bytes, Math.ceil((current?.byteLength ?? 0) * 1.5), 64));
    this.buffers.set(purpose, grown);
    return grown;
  }

  uint8(purpose: ScratchPurpose, length: number): Uint8Array {
    return new Uint8Array(this.take(purpose, length), 0, length);
  }

  /** Like uint8, keeping the first `keep` bytes of the purpose's current contents. */
  growUint8(purpose: ScratchPurpose, length: number, keep: number): Uint8Array {
    const before = this.buffers.get(purpose);
    const after = this.take(purpose, length);
    if (before !== undefined && before !== after) new Uint8Array(after).set(new Uint8Array(before, 0, keep));
    return new Uint8Array(after, 0, length);
  }

  int32(purpose: ScratchPurpose, length: number): Int32Array {
    return new Int32Array(this.take(purpose, 4 * length), 0, length);
  }

  uint32(purpose: ScratchPurpose, length: number): Uint32Array {
    return new Uint32Array(this.take(purpose, 4 * length), 0, length);
  }

  bigint64(purpose: ScratchPurpose, length: number): BigInt64Array {
    return new BigInt64Array(this.take(purpose, 8 * length), 0, length);
  }

  /** Bytes currently held, for memory accounting. */
  get bytes(): number {
    let total = 0;
    for (const buffer of this.buffers.values()) total += buffer.byteLength;
    return total;
  }
}
