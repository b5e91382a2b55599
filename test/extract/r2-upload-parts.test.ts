/**
 * R2ObjectUpload against the local R2: a file under one part goes in one put
 * with exactly its bytes (also when a chunk is a view into a larger buffer),
 * a larger one as a multipart upload under the predicted key with parts of
 * exactly the part size, an object already under the key is kept as it is,
 * and a file that ends under another name than predicted leaves nothing.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { RetryableError } from "../../src/domain/errors";
import { MIN_PART_SIZE, R2ObjectUpload } from "../../src/extract/r2-upload";

const MIB = 1024 * 1024;

/** Deterministic bytes, different at every offset of a part so a misplaced chunk shows. */
function pattern(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return bytes;
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}

/** Where two byte arrays first differ (-1: equal): vitest's diff of megabyte arrays would exhaust the heap. */
function firstDifference(a: Uint8Array | undefined, b: Uint8Array): number {
  if (a === undefined) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : length;
}

async function stored(key: string): Promise<{ bytes: Uint8Array; metadata: Record<string, string> } | null> {
  const object = await env.BUCKET.get(key);
  if (!object) return null;
  return { bytes: new Uint8Array(await object.arrayBuffer()), metadata: object.customMetadata ?? {} };
}

function upload(predicted: string, calls: { predicted: number }, bucket: R2Bucket = env.BUCKET) {
  return new R2ObjectUpload(
    bucket,
    async () => {
      calls.predicted++;
      return predicted;
    },
    () => ({ nozzle_metadata: "{}" }),
  );
}

/** The test bucket, recording the size of every multipart part uploaded through it. */
function recordingPartSizes(sizes: number[]): R2Bucket {
  return new Proxy(env.BUCKET, {
    get(target, property) {
      if (property === "createMultipartUpload") {
        return async (key: string, options?: R2MultipartOptions) => {
          const upload = await target.createMultipartUpload(key, options);
          return {
            key: upload.key,
            uploadId: upload.uploadId,
            uploadPart: (partNumber: number, value: Uint8Array) => {
              sizes.push(value.byteLength);
              return upload.uploadPart(partNumber, value);
            },
            complete: (parts: R2UploadedPart[]) => upload.complete(parts),
            abort: () => upload.abort(),
          };
        };
      }
      const value = Reflect.get(target, property) as unknown;
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe("R2ObjectUpload parts and buffering", () => {
  it("puts a file smaller than one part in one request, with exactly its bytes", async () => {
    const calls = { predicted: 0 };
    const sink = upload("never/asked", calls);
    // A view into a larger buffer among the chunks: only its own bytes belong to the file.
    const backing = pattern(4096, 3);
    const chunks = [pattern(1000, 1), backing.subarray(100, 300), new Uint8Array(0), pattern(70_000, 2)];
    for (const chunk of chunks) await sink.write(chunk);
    const object = await sink.complete("small/file.parquet");
    expect(object.existed).toBe(false);
    expect(object.size).toBe(71_200);
    expect(calls.predicted).toBe(0);
    const read = await stored("small/file.parquet");
    expect(firstDifference(read?.bytes, concat(chunks))).toBe(-1);
    expect(read?.metadata).toEqual({ nozzle_metadata: "{}" });
  });

  it("streams a larger file as parts of exactly the part size under the predicted key", async () => {
    const calls = { predicted: 0 };
    const partSizes: number[] = [];
    const sink = upload("large/file.parquet", calls, recordingPartSizes(partSizes));
    // Chunks that do not line up with the parts, one of them larger than a part.
    const chunks = [pattern(3 * MIB + 17, 1), pattern(MIB, 2), pattern(6 * MIB + 5, 3), pattern(123, 4)];
    for (const chunk of chunks) await sink.write(chunk);
    const object = await sink.complete("large/file.parquet");
    const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    expect(object.existed).toBe(false);
    expect(object.size).toBe(total);
    expect(calls.predicted).toBe(1);
    expect(partSizes).toEqual([MIN_PART_SIZE, MIN_PART_SIZE, total - 2 * MIN_PART_SIZE]);
    expect(firstDifference((await stored("large/file.parquet"))?.bytes, concat(chunks))).toBe(-1);
  });

  it("keeps an object that is already under the name, small or large", async () => {
    await env.BUCKET.put("kept/small.parquet", pattern(10, 9), { customMetadata: { nozzle_metadata: "first" } });
    await env.BUCKET.put("kept/large.parquet", pattern(10, 9), { customMetadata: { nozzle_metadata: "first" } });
    const small = upload("never/asked", { predicted: 0 });
    await small.write(pattern(500, 1));
    const large = upload("kept/large.parquet", { predicted: 0 });
    for (let i = 0; i < 3; i++) await large.write(pattern(4 * MIB, i));

    for (const [sink, key] of [
      [small, "kept/small.parquet"],
      [large, "kept/large.parquet"],
    ] as const) {
      const object = await sink.complete(key);
      expect(object.existed).toBe(true);
      expect(object.size).toBe(10);
      expect(object.customMetadata).toEqual({ nozzle_metadata: "first" });
      expect(firstDifference((await stored(key))?.bytes, pattern(10, 9))).toBe(-1);
    }
  });

  it("aborts the multipart upload when the file ends under another name than predicted", async () => {
    const sink = upload("moved/predicted.parquet", { predicted: 0 });
    await sink.write(pattern(MIN_PART_SIZE + 1, 5));
    const error = await sink.complete("moved/actual.parquet").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).reason).toBe("chain_moved");
    expect(await stored("moved/predicted.parquet")).toBeNull();
    expect(await stored("moved/actual.parquet")).toBeNull();
  });

  it("refuses a part size below R2's minimum", () => {
    expect(() => new R2ObjectUpload(env.BUCKET, async () => "k", () => ({}), MIN_PART_SIZE - 1)).toThrow(RangeError);
  });
});
