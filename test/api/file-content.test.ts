import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { fileObjectKey } from "../../src/store/r2-layout";
import { seedFile, seedLocation } from "../support/workerd/seed-rows";
import { api, expectError, READ, withoutToken } from "./api-client";

/** 3,000 bytes that differ from one offset to the next, so a wrong slice cannot pass. */
const BODY = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff);

async function seededContent() {
  const location = await seedLocation();
  const file = await seedFile(location, 0, 99, { body: BODY });
  const object = (await env.BUCKET.head(fileObjectKey(location.path, file.fileName)))!;
  return { file, location, url: `/files/${file.id}/content`, etag: object.httpEtag };
}

async function bytesOf(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

describe("GET /files/{file_id}/content", () => {
  it("streams the whole object with its length, ETag, type and Accept-Ranges", async () => {
    const { url, etag, file } = await seededContent();
    const res = await api(url, { headers: READ });
    expect(res.status).toBe(200);
    expect(Object.fromEntries(["content-length", "etag", "accept-ranges", "content-type", "content-disposition"].map((h) => [h, res.headers.get(h)]))).toEqual({
      "content-length": "3000",
      etag,
      "accept-ranges": "bytes",
      "content-type": "application/vnd.apache.parquet",
      "content-disposition": `attachment; filename="${file.fileName}"`,
    });
    expect(res.headers.get("last-modified")).toMatch(/GMT$/);
    expect(await bytesOf(res)).toEqual(BODY);
  });

  it.each([
    ["bytes=0-99", 0, 99],
    ["bytes=100-", 100, 2999],
    ["bytes=2990-5000", 2990, 2999],
    ["bytes=-8", 2992, 2999],
    ["bytes=-99999", 0, 2999],
    ["bytes=2999-2999", 2999, 2999],
  ])("answers %s with 206 and exactly those bytes", async (range, start, end) => {
    const { url, etag } = await seededContent();
    const res = await api(url, { headers: { range } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/3000`);
    expect(res.headers.get("content-length")).toBe(String(end - start + 1));
    expect(res.headers.get("etag")).toBe(etag);
    expect(await bytesOf(res)).toEqual(BODY.slice(start, end + 1));
  });

  it.each(["bytes=3000-", "bytes=5000-6000", "bytes=-0"])("answers %s with 416 RANGE_NOT_SATISFIABLE and the size", async (range) => {
    const { url } = await seededContent();
    const res = await api(url, { headers: { range } });
    const range416 = res.headers.get("content-range");
    await expectError(res, 416, "RANGE_NOT_SATISFIABLE");
    expect(range416).toBe("bytes */3000");
  });

  it.each(["bytes=0-9,20-29", "items=0-9", "bytes=9-0", "bytes=x-y", "bytes=-"])("ignores the Range %s and sends the whole file", async (range) => {
    const { url } = await seededContent();
    const res = await api(url, { headers: { range } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-range")).toBeNull();
    expect(await bytesOf(res)).toEqual(BODY);
  });

  it("answers If-None-Match with the current ETag (strong, weak, in a list, or *) with 304 and no body", async () => {
    const { url, etag } = await seededContent();
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const res = await api(url, { headers: { "if-none-match": header } });
      expect(res.status, header).toBe(304);
      expect(res.headers.get("etag")).toBe(etag);
      expect((await bytesOf(res)).length).toBe(0);
    }
    const changed = await api(url, { headers: { "if-none-match": '"something-else"' } });
    expect(changed.status).toBe(200);
    expect(await bytesOf(changed)).toEqual(BODY);
  });

  it("answers HEAD with the headers of GET and no body", async () => {
    const { url, etag } = await seededContent();
    const whole = await api(url, { method: "HEAD" });
    expect([whole.status, whole.headers.get("content-length"), whole.headers.get("etag")]).toEqual([200, "3000", etag]);
    expect((await bytesOf(whole)).length).toBe(0);
    const part = await api(url, { method: "HEAD", headers: { range: "bytes=10-19" } });
    expect([part.status, part.headers.get("content-length"), part.headers.get("content-range")]).toEqual([206, "10", "bytes 10-19/3000"]);
    expect((await bytesOf(part)).length).toBe(0);
  });

  it("answers 404 FILE_NOT_FOUND for an unknown file and for a row whose object is gone, 400 INVALID_FILE_ID for a bad id", async () => {
    await expectError(await api("/files/999999/content"), 404, "FILE_NOT_FOUND");
    const rowOnly = await seedFile(await seedLocation(), 0, 9, { withObject: false });
    await expectError(await api(`/files/${rowOnly.id}/content`), 404, "FILE_NOT_FOUND");
    for (const id of ["0", "-1", "abc", "1.5"]) await expectError(await api(`/files/${id}/content`), 400, "INVALID_FILE_ID");
  });

  it("needs a token: none or a wrong one is 401, the read token is enough; writes are not routes", async () => {
    const { url } = await seededContent();
    await expectError(await withoutToken(url), 401, "UNAUTHORIZED");
    await expectError(await withoutToken(url, { headers: { authorization: "Bearer wrong" } }), 401, "UNAUTHORIZED");
    await expectError(await withoutToken(url, { headers: { range: "bytes=0-1" } }), 401, "UNAUTHORIZED");
    const read = await api(url, { headers: READ });
    expect(read.status).toBe(200);
    expect(await bytesOf(read)).toEqual(BODY);
    await expectError(await api(url, { method: "DELETE" }), 405, "METHOD_NOT_ALLOWED");
  });
});
