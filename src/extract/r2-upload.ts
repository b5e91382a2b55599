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
import type { StepCrashPoint } from "../domain/crash-points";
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
  /**
   * The bytes not sent yet, as the writer handed them over (it never touches
   * a chunk again): less than one part between writes. Nothing is allocated
   * ahead, so a small file costs its own size, not a part's.
   */
  private gathered: Uint8Array[] = [];
  private gatheredBytes = 0;
  private mode: Mode = { kind: "buffering" };

  constructor(
    private readonly bucket: R2Bucket,
    /** The key the file will most likely end under; asked only once the file outgrows one part. */
    private readonly predictKey: () => Promise<string>,
    private readonly customMetadata: () => Record<string, string>,
    private readonly partSize: number = MIN_PART_SIZE,
    /** Reached after each part that leaves the upload unfinished (src/domain/crash-points.ts). */
    private readonly atPhase: (point: StepCrashPoint) => Promise<void> = async () => {},
  ) {
    if (partSize < MIN_PART_SIZE) throw new RangeError(`R2 parts are at least ${MIN_PART_SIZE} bytes`);
  }

  /** Encoded bytes held, not sent yet. */
  get buffered(): number {
    return this.gatheredBytes;
  }

  async write(chunk: Uint8Array): Promise<void> {
    // The object is there already: its bytes are not needed.
    if (this.mode.kind === "existing" || chunk.length === 0) return;
    this.gathered.push(chunk);
    this.gatheredBytes += chunk.length;
    while (this.gatheredBytes >= this.partSize) await this.sendPart(this.take(this.partSize));
  }

  /**
   * The first `size` gathered bytes as one array of exactly that length (a
   * view into a larger buffer would make some bindings send the whole buffer).
   */
  private take(size: number): Uint8Array {
    const first = this.gathered[0];
    if (first !== undefined && first.length === size && first.byteOffset === 0 && first.byteLength === first.buffer.byteLength) {
      this.gathered.shift();
      this.gatheredBytes -= size;
      return first;
    }
    const out = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const chunk = this.gathered[0]!;
      const take = Math.min(size - filled, chunk.length);
      out.set(take === chunk.length ? chunk : chunk.subarray(0, take), filled);
      filled += take;
      if (take === chunk.length) this.gathered.shift();
      else this.gathered[0] = chunk.subarray(take);
    }
    this.gatheredBytes -= size;
    return out;
  }

  private async sendPart(part: Uint8Array): Promise<void> {
    if (this.mode.kind === "buffering") {
      const key = await this.predictKey();
      const existing = await this.bucket.head(key);
      this.mode = existing
        ? { kind: "existing", key, object: stored(existing) }
        : { kind: "multipart", key, upload: await this.bucket.createMultipartUpload(key, { customMetadata: this.customMetadata() }), parts: [] };
    }
    if (this.mode.kind === "multipart") {
      this.mode.parts.push(await this.mode.upload.uploadPart(this.mode.parts.length + 1, part));
      await this.atPhase("step:part-uploaded");
    } else {
      // The object is there already: drop the rest of what was gathered too.
      this.gathered = [];
      this.gatheredBytes = 0;
    }
  }

  /** Completes the object under `key`, the file's real name now that it is closed. */
  async complete(key: string): Promise<StoredObject & { existed: boolean }> {
    const mode = this.mode;
    if (mode.kind === "buffering") {
      const existing = await this.bucket.head(key);
      if (existing) return { ...stored(existing), existed: true };
      // Create-only: another consumer of the same step may have put this key since the head; its object stays.
      const object = await this.bucket.put(key, this.take(this.gatheredBytes), { customMetadata: this.customMetadata(), onlyIf: { etagDoesNotMatch: "*" } });
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
    if (this.gatheredBytes > 0) mode.parts.push(await mode.upload.uploadPart(mode.parts.length + 1, this.take(this.gatheredBytes)));
    const object = await mode.upload.complete(mode.parts);
    return { ...stored(object), existed: false };
  }

  async abort(): Promise<void> {
    if (this.mode.kind === "multipart") await this.mode.upload.abort();
    this.mode = { kind: "buffering" };
    this.gathered = [];
    this.gatheredBytes = 0;
  }
}
