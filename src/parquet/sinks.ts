import type { ParquetSink } from "./writer";

/** Keeps the whole file in memory; for small files and tests. */
export class BufferSink implements ParquetSink {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  write(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** The bytes written so far, as one array. */
  bytes(): Uint8Array {
    const all = new Uint8Array(this.size);
    let offset = 0;
    for (const chunk of this.chunks) {
      all.set(chunk, offset);
      offset += chunk.length;
    }
    return all;
  }
}

/**
 * Cuts the byte stream into parts of exactly `partSize` bytes, the last one
 * shorter, and hands each to `uploadPart` with its 1-based number. This is
 * the shape an R2 multipart upload needs: every part but the last at least
 * 5 MiB and all of them the same size. Holds one part in memory (the one
 * filling, or the one being uploaded).
 */
export class FixedSizePartSink implements ParquetSink {
  private part: Uint8Array;
  private filled = 0;
  private partsSent = 0;
  private closed = false;

  constructor(
    private readonly partSize: number,
    private readonly uploadPart: (partNumber: number, bytes: Uint8Array) => Promise<void>,
  ) {
    if (!Number.isInteger(partSize) || partSize <= 0) throw new RangeError(`part size must be a positive integer, got ${partSize}`);
    this.part = new Uint8Array(partSize);
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.closed) throw new Error("the part sink is closed");
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(this.partSize - this.filled, chunk.length - offset);
      this.part.set(chunk.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === this.partSize) {
        await this.uploadPart(++this.partsSent, this.part);
        // a fresh buffer, since uploadPart may keep the one it was given
        this.part = new Uint8Array(this.partSize);
        this.filled = 0;
      }
    }
  }

  /** Sends the last, partial part (or the only one, even if empty). Returns the number of parts. */
  async close(): Promise<number> {
    if (this.closed) return this.partsSent;
    this.closed = true;
    if (this.filled > 0 || this.partsSent === 0) {
      await this.uploadPart(++this.partsSent, this.part.slice(0, this.filled));
    }
    this.part = new Uint8Array(0);
    return this.partsSent;
  }
}
