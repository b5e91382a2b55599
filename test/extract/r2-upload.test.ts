/**
 * Two consumers of the same step finishing the same file at once: both find
 * no object under its name, both put. The first object must stay, and both
 * must report that object, so the file row (whoever registers it) matches
 * the bytes in R2.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { R2ObjectUpload } from "../../src/extract/r2-upload";

/** The test bucket, with `head` held until `parties` callers have reached it: both see the key absent. */
function bucketWithHeadBarrier(parties: number): R2Bucket {
  let waiting = 0;
  let release: () => void = () => undefined;
  const allThere = new Promise<void>((resolve) => {
    release = resolve;
  });
  let held = true;
  return new Proxy(env.BUCKET, {
    get(target, property) {
      if (property === "head") {
        return async (key: string) => {
          if (held) {
            if (++waiting === parties) {
              held = false;
              release();
            }
            await allThere;
          }
          return target.head(key);
        };
      }
      const value = Reflect.get(target, property) as unknown;
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function upload(bucket: R2Bucket, key: string, text: string) {
  const sink = new R2ObjectUpload(bucket, async () => key, () => ({ writer: text }));
  await sink.write(new TextEncoder().encode(text));
  return sink.complete(key);
}

describe("R2ObjectUpload under concurrent writers of one key", () => {
  it("keeps the first object and reports it to both writers", async () => {
    const key = `data/race/blocks/${crypto.randomUUID()}/000000000-000000009-00000000.parquet`;
    const bucket = bucketWithHeadBarrier(2);
    const [first, second] = await Promise.all([upload(bucket, key, "bytes of writer one"), upload(bucket, key, "bytes of writer two, longer")]);
    const stored = await env.BUCKET.get(key);
    if (!stored) throw new Error("no object");
    const text = await stored.text();
    for (const reported of [first, second]) {
      expect({ size: reported.size, etag: reported.etag, metadata: reported.customMetadata }).toEqual({
        size: stored.size,
        etag: stored.etag,
        metadata: { writer: text },
      });
    }
    expect([first.existed, second.existed].sort()).toEqual([false, true]);
  });

  it("puts a new object and finds an existing one without writing it again", async () => {
    const key = `data/race/blocks/${crypto.randomUUID()}/000000000-000000009-00000000.parquet`;
    const first = await upload(env.BUCKET, key, "original");
    expect(first.existed).toBe(false);
    const again = await upload(env.BUCKET, key, "a different writer");
    expect(again).toMatchObject({ existed: true, etag: first.etag, size: first.size });
    expect(await (await env.BUCKET.get(key))?.text()).toBe("original");
  });
});
