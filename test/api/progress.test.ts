import { describe, expect, it } from "vitest";
import type { TableProgress } from "../../src/api/progress";
import { saveLocationProgress } from "../../src/store/location-progress";
import { db, seedJob, seedLocation } from "../support/workerd/seed-rows";
import { api, expectError, READ, withoutToken } from "./api-client";
import { canonicalOf, derivedManifest, rawManifest, register } from "./registry-support";

const BASE = "/datasets/_/d/versions/1.0.0";

function nothingSynced(table: string): TableProgress {
  return { table_name: table, current_block: null, start_block: null, job_id: null, job_status: null, files_count: 0, total_size_bytes: 0 };
}

/** `_/d@1.0.0`, an evm-rpc dataset whose blocks table has synced 0..=99 under a RUNNING job and whose logs table has a location but no figures yet. */
async function seedSyncingDataset(): Promise<{ hash: string; jobId: number }> {
  const { hash } = await canonicalOf(rawManifest());
  await register("_", "d", rawManifest(), "1.0.0");
  const job = await seedJob("RUNNING", { manifestHash: hash });
  const blocks = await seedLocation({ active: true, writer: job.id, table: "blocks", manifestHash: hash });
  await seedLocation({ active: true, writer: job.id, table: "logs", manifestHash: hash });
  // An inactive location of the same table is an older revision: it does not count.
  await seedLocation({ active: false, table: "transactions", manifestHash: hash });
  await saveLocationProgress(db(), job.id, blocks.id, { startBlock: 0, currentBlock: 99, filesCount: 2, totalSizeBytes: 4096 });
  return { hash, jobId: job.id };
}

describe("GET /datasets/{namespace}/{name}/versions/{revision}/progress", () => {
  it("answers every table of the dataset, from its active location's running figures", async () => {
    const { hash, jobId } = await seedSyncingDataset();
    const res = await api(`${BASE}/progress`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      dataset_namespace: "_",
      dataset_name: "d",
      revision: "1.0.0",
      manifest_hash: hash,
      tables: [
        { table_name: "blocks", start_block: 0, current_block: 99, job_id: jobId, job_status: "RUNNING", files_count: 2, total_size_bytes: 4096 },
        { ...nothingSynced("logs"), job_id: jobId, job_status: "RUNNING" },
        nothingSynced("transactions"),
      ],
    });
  });

  it("resolves latest, dev and the manifest hash, and echoes the revision as requested", async () => {
    const { hash } = await seedSyncingDataset();
    for (const revision of ["latest", "dev", hash, hash.toUpperCase()]) {
      const body = await (await api(`/datasets/_/d/versions/${revision}/progress`)).json<{ revision: string; manifest_hash: string }>();
      expect(body, revision).toMatchObject({ revision, manifest_hash: hash });
    }
  });

  it("takes a derived dataset's tables from its manifest", async () => {
    await register("_", "eth", rawManifest(), "1.0.0");
    await register("_", "d", derivedManifest("SELECT block_num FROM eth.blocks", { eth: "_/eth@1.0.0" }), "1.0.0");
    expect(await (await api(`${BASE}/progress`)).json()).toMatchObject({ tables: [nothingSynced("out")] });
  });

  it("answers 404 DATASET_NOT_FOUND for an unknown dataset or revision", async () => {
    await register("_", "d", rawManifest(), "1.0.0");
    await expectError(await api("/datasets/_/nothing/versions/1.0.0/progress"), 404, "DATASET_NOT_FOUND");
    await expectError(await api("/datasets/_/d/versions/2.0.0/progress"), 404, "DATASET_NOT_FOUND");
    await expectError(await api(`/datasets/_/d/versions/${"0".repeat(64)}/progress`), 404, "DATASET_NOT_FOUND");
  });

  it.each(["/datasets/A/d/versions/1.0.0/progress", "/datasets/_/1d/versions/1.0.0/progress", "/datasets/_/d/versions/v1/progress"])(
    "answers 400 INVALID_PATH for %s",
    async (path) => {
      await expectError(await api(path), 400, "INVALID_PATH");
    },
  );
});

describe("GET /datasets/{namespace}/{name}/versions/{revision}/tables/{table}/progress", () => {
  it("answers one table's progress", async () => {
    const { jobId } = await seedSyncingDataset();
    const res = await api(`${BASE}/tables/blocks/progress`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      table_name: "blocks",
      start_block: 0,
      current_block: 99,
      job_id: jobId,
      job_status: "RUNNING",
      files_count: 2,
      total_size_bytes: 4096,
    });
    expect(await (await api(`${BASE}/tables/transactions/progress`)).json()).toEqual(nothingSynced("transactions"));
  });

  it("answers 404 TABLE_NOT_FOUND for a table the dataset does not have, and DATASET_NOT_FOUND first", async () => {
    await register("_", "d", rawManifest(), "1.0.0");
    await expectError(await api(`${BASE}/tables/receipts/progress`), 404, "TABLE_NOT_FOUND");
    await expectError(await api("/datasets/_/nothing/versions/1.0.0/tables/receipts/progress"), 404, "DATASET_NOT_FOUND");
  });

  it.each(["Blocks", "1blocks", "a-b", "%00"])("answers 400 INVALID_PATH for the table name %s", async (table) => {
    await expectError(await api(`${BASE}/tables/${table}/progress`), 400, "INVALID_PATH");
  });
});

describe("auth on the progress routes", () => {
  it("answers 401 without a token and lets the read token read", async () => {
    await seedSyncingDataset();
    for (const path of [`${BASE}/progress`, `${BASE}/tables/blocks/progress`]) {
      await expectError(await withoutToken(path), 401, "UNAUTHORIZED");
      await expectError(await api(path, { headers: { authorization: "Bearer wrong" } }), 401, "UNAUTHORIZED");
      expect((await api(path, { headers: READ })).status, path).toBe(200);
    }
  });
});
