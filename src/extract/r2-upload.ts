/**
 * Streams one Parquet file into R2 without holding it whole. A file that stays
 * under one part is put in one request under its final name. A larger one
 * becomes a multipart upload, which needs its key before the file is done: the
 * key is then predicted (the caller knows the range it is writing and can ask
 * the node for its end hash) and checked when the file closes. An object that
 * already exists under the key (a step delivered twice, or one that crashed
 * before registering) is kept as it is, so its row and bytes always agree. A
 * single put is create-only, so two consumers finishing the same file at once
 * keep the first object and both report that one. (A multipart upload cannot
 * be completed conditionally through the binding: two consumers completing the
 * same large file at the same moment can still both write it.)
 */
import { RetryableError } from "../domain/errors";
import type { ParquetSink } from "../parquet";

/** R2's smallest part, except the last. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

export interface StoredObject {
  key: string;
  size: number;
  etag: string;
  version: string | null;
  /** The object's custom metadata; for an object that existed, what its writer stored. */
  customMetadata: Record<string, string>;
}

type Mode =
  | { kind: "buffering" }
  | { kind: "multipart"; key: string; upload: R2MultipartUpload; parts: R2UploadedPart[] }
  | { kind: "existing"; key: string; object: StoredObject };

function stored(object: R2Object): StoredObject {
  return { key: object.key, size: object.size, etag: object.etag, version: object.version ?? null, customMetadata: object.customMetadata ?? {} };
}

export class R2ObjectUpload implements ParquetSink {
  private buffer: Uint8Array;
  private filled = 0;
  private mode: Mode = { kind: "buffering" };

  constructor(
    private readonly bucket: R2Bucket,
    /** The key the file will most likely end under; asked only once the file outgrows one part. */
    private readonly predictKey: () => Promise<string>,
    private readonly customMetadata: () => Record<string, string>,
    private readonly partSize: number = MIN_PART_SIZE,
  ) {
    if (partSize < MIN_PART_SIZE) throw new RangeError(`R2 parts are at least ${MIN_PART_SIZE} bytes`);
    this.buffer = new Uint8Array(partSize);
  }

  async write(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(this.partSize - this.filled, chunk.length - offset);
      if (this.mode.kind !== "existing") this.buffer.set(chunk.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === this.partSize) await this.sendPart();
    }
  }

  private async sendPart(): Promise<void> {
    if (this.mode.kind === "buffering") {
      const key = await this.predictKey();
      const existing = await this.bucket.head(key);
      this.mode = existing
        ? { kind: "existing", key, object: stored(existing) }
        : { kind: "multipart", key, upload: await this.bucket.createMultipartUpload(key, { customMetadata: this.customMetadata() }), parts: [] };
    }
    if (this.mode.kind === "multipart") {
      const part = await this.mode.upload.uploadPart(this.mode.parts.length + 1, this.buffer);
      this.mode.parts.push(part);
      this.buffer = new Uint8Array(this.partSize);
    }
    this.filled = 0;
  }

  /** Completes the object under `key`, the file's real name now that it is closed. */
  async complete(key: string): Promise<StoredObject & { existed: boolean }> {
    const mode = this.mode;
    if (mode.kind === "buffering") {
      const existing = await this.bucket.head(key);
      if (existing) return { ...stored(existing), existed: true };
      // Create-only: another consumer of the same step may have put this key since the head; its object stays.
      const object = await this.bucket.put(key, this.buffer.subarray(0, this.filled), { customMetadata: this.customMetadata(), onlyIf: { etagDoesNotMatch: "*" } });
      if (object) return { ...stored(object), existed: false };
      const winner = await this.bucket.head(key);
      if (!winner) throw new RetryableError("unexpected", `${key} was put by another consumer and then removed; the step is retried`);
      return { ...stored(winner), existed: true };
    }
    if (mode.key !== key) {
      await this.abort();
      throw new RetryableError("chain_moved", `the chain changed while ${key} was written (expected ${mode.key}); the step is retried`);
    }
    if (mode.kind === "existing") return { ...mode.object, existed: true };
    if (this.filled > 0) mode.parts.push(await mode.upload.uploadPart(mode.parts.length + 1, this.buffer.subarray(0, this.filled)));
    const object = await mode.upload.complete(mode.parts);
    return { ...stored(object), existed: false };
  }

  async abort(): Promise<void> {
    if (this.mode.kind === "multipart") await this.mode.upload.abort();
    this.mode = { kind: "buffering" };
    this.filled = 0;
  }
}
