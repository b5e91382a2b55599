import { describe, expect, it } from "vitest";
import { seedFile, seedLocation } from "../support/workerd/seed-rows";
import { api, expectError, READ, withoutToken } from "./api-client";
import { canonicalOf, registerWithLocation, rawManifest, register } from "./registry-support";

const BASE = "/datasets/_/d/versions/1.0.0/tables";
const hash = (tag: string) => `0x${tag.repeat(64).slice(0, 64)}`;

/** `_/d@1.0.0` with blocks 0..=29 in three linked files, and a reorged file of 10..=19 that lost to a re-extraction. */
async function seedTable() {
  const { manifestHash, job, location } = await registerWithLocation("d");
  // An older location of the same table is not read.
  const old = await seedLocation({ active: false, table: "blocks", manifestHash });
  await seedFile(old, 0, 29, { hash: hash("e") });
  const first = await seedFile(location, 0, 9, { hash: hash("a") });
  const stale = await seedFile(location, 10, 19, { hash: hash("b"), prevHash: hash("a") });
  const third = await seedFile(location, 20, 29, { hash: hash("c"), prevHash: hash("d") });
  const second = await seedFile(location, 10, 19, { hash: hash("d"), prevHash: hash("a") });
  return { manifestHash, location, first, second, third, stale };
}

describe("GET /datasets/{namespace}/{name}/versions/{revision}/tables/{table}/files", () => {
  it("lists the canonical chain of the active location in block order, with ranges and content URLs", async () => {
    const { manifestHash, location, first, second, third } = await seedTable();
    const res = await api(`${BASE}/blocks/files`, { headers: READ });
    expect(res.status).toBe(200);
    const entry = (file: typeof first) => ({
      id: file.id,
      file_name: file.fileName,
      start_block: file.rangeStart,
      end_block: file.rangeEnd,
      row_count: file.rowCount,
      object_size: file.objectSize,
      object_e_tag: file.objectETag,
      content_url: `https://amp.test/files/${file.id}/content`,
    });
    expect(await res.json()).toEqual({
      dataset_namespace: "_",
      dataset_name: "d",
      revision: "1.0.0",
      manifest_hash: manifestHash,
      table: "blocks",
      location_id: location.id,
      files: [entry(first), entry(second), entry(third)],
    });
  });

  it("serves each listed file at its content URL", async () => {
    const { first } = await seedTable();
    const body = await (await api(`${BASE}/blocks/files`)).json<{ files: { content_url: string }[] }>();
    const content = await api(new URL(body.files[0]!.content_url).pathname);
    expect(await content.text()).toBe(`parquet ${first.rangeStart}-${first.rangeEnd}`);
  });

  it("answers an empty list for a table with no location yet, and for a chain that misses the start block", async () => {
    await register("_", "d", rawManifest(), "1.0.0");
    expect(await (await api(`${BASE}/logs/files`)).json()).toMatchObject({ table: "logs", location_id: null, files: [] });
    const manifest = rawManifest("holey");
    const { hash: manifestHash } = await canonicalOf(manifest);
    await register("_", "holey", manifest, "1.0.0");
    const location = await seedLocation({ active: true, table: "logs", manifestHash });
    await seedFile(location, 10, 19);
    expect(await (await api("/datasets/_/holey/versions/1.0.0/tables/logs/files")).json()).toMatchObject({ location_id: location.id, files: [] });
  });

  it("answers 404 TABLE_NOT_FOUND, DATASET_NOT_FOUND and 400 INVALID_PATH", async () => {
    await register("_", "d", rawManifest(), "1.0.0");
    await expectError(await api(`${BASE}/nothing/files`), 404, "TABLE_NOT_FOUND");
    await expectError(await api("/datasets/_/d/versions/2.0.0/tables/blocks/files"), 404, "DATASET_NOT_FOUND");
    await expectError(await api("/datasets/_/nope/versions/1.0.0/tables/blocks/files"), 404, "DATASET_NOT_FOUND");
    await expectError(await api(`${BASE}/Blocks/files`), 400, "INVALID_PATH");
    await expectError(await api("/datasets/_/d/versions/v1/tables/blocks/files"), 400, "INVALID_PATH");
  });

  it("needs a token; the read token is enough", async () => {
    await expectError(await withoutToken(`${BASE}/blocks/files`), 401, "UNAUTHORIZED");
    await register("_", "d", rawManifest(), "1.0.0");
    expect((await api(`${BASE}/blocks/files`, { headers: READ })).status).toBe(200);
  });
});
