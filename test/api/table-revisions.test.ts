/**
 * The /revisions operations (amp-later B.4) over our locations, and the dataset and table restores (B.2), with
 * real Parquet objects in local R2 for the restores.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../src/api/errors";
import { fileFields } from "../../src/domain/dataset-kinds/evm-rpc";
import { nozzleMetadata } from "../../src/domain/parquet-file";
import { BufferSink, ParquetStreamWriter } from "../../src/parquet";
import { fileObjectKey, locationObjectPrefix, locationPath } from "../../src/store/r2-layout";
import { columnsOf, syntheticEvmRows } from "../support/evm-rows";
import { db, seedFile, seedJob, seedLocation } from "../support/workerd/seed-rows";
import { api, del, expectError, postJson, READ, withoutToken } from "./api-client";
import { canonicalOf, rawManifest, register } from "./registry-support";

const REF = "_/eth_rpc@1.0.0";

/** `_/eth_rpc@1.0.0` registered; its manifest hash. */
async function dataset(): Promise<string> {
  await register("_", "eth_rpc", rawManifest(), "1.0.0");
  return (await canonicalOf(rawManifest())).hash;
}

async function objectKeys(path: string): Promise<string[]> {
  return (await env.BUCKET.list({ prefix: locationObjectPrefix(path) })).objects.map((o) => o.key).sort();
}

function hashOf(block: number, fork = 0): string {
  return `0x${fork.toString(16).padStart(2, "0")}${block.toString(16).padStart(62, "0")}`;
}

/** A real blocks Parquet file of `start..=end` under `path`, as a step writes it (footer with nozzle_metadata). */
async function putBlocksFile(path: string, start: number, end: number): Promise<{ fileName: string; rows: number }> {
  const rows = syntheticEvmRows({ startBlock: start, blockCount: end - start + 1, transactionsPerBlock: 1, logsPerTransaction: 1, seed: start + 1 });
  const metadata = nozzleMetadata({ table: "blocks", network: "anvil", range: { start, end }, hash: hashOf(end), prevHash: start === 0 ? null : hashOf(start - 1) }, 1_754_431_714_000);
  const sink = new BufferSink();
  const writer = new ParquetStreamWriter({ fields: fileFields("blocks"), sink });
  await writer.writeRowGroup(columnsOf("blocks", rows.blocks));
  await writer.finish({ nozzle_metadata: JSON.stringify(metadata), parent_file_ids: "[]", generation: "0" });
  await env.BUCKET.put(fileObjectKey(path, metadata.filename), sink.bytes());
  return { fileName: metadata.filename, rows: rows.blocks.length };
}

async function fileRows(locationId: number) {
  return (await env.DB.prepare("SELECT file_name, range_start, range_end, end_hash, prev_hash, row_count FROM files WHERE location_id = ? ORDER BY range_start").bind(locationId).all()).results;
}

describe("GET /revisions and GET /revisions/{id}", () => {
  it("lists revisions newest first as a bare array, writer only when set, filtered by active and cut at limit", async () => {
    const job = await seedJob("RUNNING");
    const a = await seedLocation({ active: true, writer: job.id });
    const b = await seedLocation();
    const all = await (await api("/revisions", { headers: READ })).json<{ id: number }[]>();
    expect(all).toEqual([
      { id: b.id, path: b.path, active: false, metadata: { dataset_namespace: "_", dataset_name: "eth_rpc", manifest_hash: b.manifestHash, table_name: "blocks" } },
      { id: a.id, path: a.path, active: true, writer: job.id, metadata: { dataset_namespace: "_", dataset_name: "eth_rpc", manifest_hash: a.manifestHash, table_name: "blocks" } },
    ]);
    expect((await (await api("/revisions?active=true")).json<{ id: number }[]>()).map((r) => r.id)).toEqual([a.id]);
    expect((await (await api("/revisions?active=false")).json<{ id: number }[]>()).map((r) => r.id)).toEqual([b.id]);
    expect((await (await api("/revisions?limit=1")).json<{ id: number }[]>()).map((r) => r.id)).toEqual([b.id]);
    expect(await (await api(`/revisions/${a.id}`)).json()).toEqual(all[1]);
  });

  it.each<[string, ErrorCode]>([
    ["/revisions?limit=-1", "INVALID_QUERY_PARAMETERS"],
    ["/revisions?limit=x", "INVALID_QUERY_PARAMETERS"],
    ["/revisions?active=yes", "INVALID_QUERY_PARAMETERS"],
    ["/revisions/0", "INVALID_PATH_PARAMETERS"],
    ["/revisions/abc", "INVALID_PATH_PARAMETERS"],
  ])("answers %s with 400 %s", async (path, code) => {
    await expectError(await api(path), 400, code);
  });

  it("answers 404 REVISION_NOT_FOUND and 401 without a token", async () => {
    await expectError(await api("/revisions/31337"), 404, "REVISION_NOT_FOUND");
    await expectError(await withoutToken("/revisions"), 401, "UNAUTHORIZED");
  });
});

describe("POST /revisions", () => {
  it("registers an inactive revision at a path, and answers the same id for the same path", async () => {
    const hash = await dataset();
    const path = locationPath("eth_rpc", "blocks", crypto.randomUUID());
    const res = await postJson("/revisions", { dataset: REF, table_name: "blocks", path: path.slice(0, -1) });
    expect(res.status).toBe(200);
    const { location_id } = await res.json<{ location_id: number }>();
    expect(await (await api(`/revisions/${location_id}`)).json()).toEqual({
      id: location_id,
      path,
      active: false,
      metadata: { dataset_namespace: "_", dataset_name: "eth_rpc", manifest_hash: hash, table_name: "blocks" },
    });
    const again = await postJson("/revisions", { dataset: `pkg:amp/_/eth_rpc@${hash}`, table_name: "logs", path });
    expect(await again.json()).toEqual({ location_id });
    expect(await (await api("/revisions")).json()).toHaveLength(1);
  });

  it.each<[string, unknown, number, ErrorCode]>([
    ["a path with too few segments", { dataset: REF, table_name: "blocks", path: "eth_rpc/blocks/" }, 400, "INVALID_BODY"],
    ["a path escaping its prefix", { dataset: REF, table_name: "blocks", path: "eth_rpc/../x/" }, 400, "INVALID_BODY"],
    ["a reference without a revision", { dataset: "_/eth_rpc", table_name: "blocks", path: "eth_rpc/blocks/r/" }, 400, "INVALID_BODY"],
    ["a missing table_name", { dataset: REF, path: "eth_rpc/blocks/r/" }, 400, "INVALID_BODY"],
    ["an unknown dataset", { dataset: "_/nope@1.0.0", table_name: "blocks", path: "nope/blocks/r/" }, 404, "DATASET_NOT_FOUND"],
  ])("refuses %s and registers nothing", async (_, body, status, code) => {
    await dataset();
    await expectError(await postJson("/revisions", body), status, code);
    expect(await (await api("/revisions")).json()).toEqual([]);
  });

  it("refuses the read token with 403", async () => {
    await dataset();
    await expectError(await postJson("/revisions", { dataset: REF, table_name: "blocks", path: "eth_rpc/blocks/r/" }, READ), 403, "FORBIDDEN");
  });
});

describe("POST /revisions/{id}/activate and /revisions/deactivate", () => {
  it("activates a revision in place of the table's active one, and deactivates the table", async () => {
    const hash = await dataset();
    const old = await seedLocation({ active: true, manifestHash: hash });
    const next = await seedLocation({ manifestHash: hash });
    const res = await postJson(`/revisions/${next.id}/activate`, { dataset: REF, table_name: "blocks" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    expect((await (await api("/revisions?active=true")).json<{ id: number }[]>()).map((r) => r.id)).toEqual([next.id]);
    expect((await postJson("/revisions/deactivate", { dataset: REF, table_name: "blocks" })).status).toBe(200);
    expect(await (await api("/revisions?active=true")).json()).toEqual([]);
    // Deactivating a table with no active revision is fine.
    expect((await postJson("/revisions/deactivate", { dataset: REF, table_name: "blocks" })).status).toBe(200);
    expect(old.id).toBeLessThan(next.id);
  });

  it("answers the activation's 404s and 409, changing nothing", async () => {
    const hash = await dataset();
    const active = await seedLocation({ active: true, manifestHash: hash });
    const logs = await seedLocation({ table: "logs", manifestHash: hash });
    const activate = (id: number, table: string) => postJson(`/revisions/${id}/activate`, { dataset: REF, table_name: table });
    await expectError(await activate(active.id, "nope"), 404, "TABLE_NOT_IN_MANIFEST");
    await expectError(await activate(active.id, "transactions"), 404, "TABLE_NOT_REGISTERED");
    await expectError(await activate(31337, "blocks"), 404, "REVISION_NOT_FOUND");
    await expectError(await activate(logs.id, "blocks"), 409, "REVISION_TABLE_MISMATCH");
    await expectError(await postJson(`/revisions/${active.id}/activate`, { dataset: "_/x@1.0.0", table_name: "blocks" }), 404, "DATASET_NOT_FOUND");
    await expectError(await postJson(`/revisions/x/activate`, { dataset: REF, table_name: "blocks" }), 400, "INVALID_PATH_PARAMETERS");
    await expectError(await postJson(`/revisions/${active.id}/activate`, { dataset: REF }), 400, "INVALID_BODY");
    await expectError(await postJson("/revisions/deactivate", { dataset: REF, table_name: "transactions" }), 404, "TABLE_NOT_FOUND");
    await expectError(await postJson("/revisions/deactivate", { dataset: REF, table_name: "blocks" }, READ), 403, "FORBIDDEN");
    expect((await (await api("/revisions?active=true")).json<{ id: number }[]>()).map((r) => r.id)).toEqual([active.id]);
  });
});

describe("DELETE /revisions/{id} and /revisions/{id}/truncate", () => {
  it("deletes the rows and keeps the objects; truncate deletes both and counts the files", async () => {
    const kept = await seedLocation();
    await seedFile(kept, 0, 9);
    const truncated = await seedLocation();
    await seedFile(truncated, 0, 9);
    await seedFile(truncated, 10, 19);
    expect((await del(`/revisions/${kept.id}`)).status).toBe(204);
    expect(await fileRows(kept.id)).toEqual([]);
    expect(await objectKeys(kept.path)).toHaveLength(1);
    await expectError(await del(`/revisions/${kept.id}`), 404, "REVISION_NOT_FOUND");
    const res = await del(`/revisions/${truncated.id}/truncate?concurrency=0`);
    expect(await res.json()).toEqual({ files_deleted: 2 });
    expect(await objectKeys(truncated.path)).toEqual([]);
    await expectError(await api(`/revisions/${truncated.id}`), 404, "REVISION_NOT_FOUND");
  });

  it("refuses an active revision and one whose writer is not terminal, changing nothing", async () => {
    const job = await seedJob("RUNNING");
    const active = await seedLocation({ active: true });
    const written = await seedLocation({ writer: job.id });
    await seedFile(written, 0, 9);
    for (const suffix of ["", "/truncate"]) {
      await expectError(await del(`/revisions/${active.id}${suffix}`), 409, "REVISION_IS_ACTIVE");
      await expectError(await del(`/revisions/${written.id}${suffix}`), 409, "WRITER_JOB_NOT_TERMINAL");
      await expectError(await del(`/revisions/${written.id}${suffix}`, READ), 403, "FORBIDDEN");
    }
    await expectError(await del(`/revisions/${written.id}/truncate?concurrency=-1`), 400, "INVALID_QUERY_PARAMETERS");
    await expectError(await del(`/revisions/x/truncate?concurrency=-1`), 400, "INVALID_PATH_PARAMETERS");
    expect(await fileRows(written.id)).toHaveLength(1);
    expect(await objectKeys(written.path)).toHaveLength(1);
  });
});

describe("DELETE /revisions/{id}/prune", () => {
  it("hands the files off the canonical chain to garbage collection, with their expiry", async () => {
    const location = await seedLocation();
    const replaced = await seedFile(location, 0, 9);
    await seedFile(location, 10, 19);
    // A newer file of 0..=9 (a re-extraction): with equal ends the higher id is canonical, so `replaced` is off the chain.
    await env.DB.prepare(
      `INSERT INTO files (location_id, file_name, range_start, range_end, end_hash, prev_hash, row_count, metadata, created_at)
       VALUES (?, '000000000-000000009-ffffffff.parquet', 0, 9, ?, NULL, 10, '{"ranges":[{"network":"anvil"}]}', '2025-11-06T12:00:03.000Z')`,
    )
      .bind(location.id, `0x${"f".repeat(64)}`)
      .run();
    const before = Date.now();
    const res = await del(`/revisions/${location.id}/prune?gc_delay_secs=60`);
    expect(await res.json()).toEqual({ files_scheduled: 1, gc_delay_secs: 60 });
    const rows = (await env.DB.prepare("SELECT file_id, expires_at FROM gc_scheduled_files").all<{ file_id: number; expires_at: string }>()).results;
    expect(rows.map((r) => r.file_id)).toEqual([replaced.id]);
    expect(Date.parse(rows[0]!.expires_at)).toBeGreaterThanOrEqual(before + 60_000);
    expect(await (await del(`/revisions/${location.id}/prune?before_block=5`)).json()).toEqual({ files_scheduled: 0, gc_delay_secs: 3600 });
    expect(await fileRows(location.id)).toHaveLength(3);
  });

  it("refuses a revision whose writer is not terminal, an unknown one and bad queries", async () => {
    const job = await seedJob("SCHEDULED");
    const location = await seedLocation({ writer: job.id });
    await expectError(await del(`/revisions/${location.id}/prune`), 409, "WRITER_JOB_NOT_TERMINAL");
    await expectError(await del("/revisions/31337/prune"), 404, "REVISION_NOT_FOUND");
    await expectError(await del(`/revisions/${location.id}/prune?gc_delay_secs=x`), 400, "INVALID_QUERY_PARAMETERS");
    await expectError(await del(`/revisions/${location.id}/prune`, READ), 403, "FORBIDDEN");
    expect(await env.DB.prepare("SELECT count(*) AS n FROM gc_scheduled_files").first("n")).toBe(0);
  });
});

describe("restores", () => {
  it("POST /revisions/{id}/restore registers each object's row from its footer, once", async () => {
    const location = await seedLocation();
    const a = await putBlocksFile(location.path, 0, 9);
    const b = await putBlocksFile(location.path, 10, 24);
    await putBlocksFile(location.path, 25, 29);
    expect(await (await postJson(`/revisions/${location.id}/restore`, {})).json()).toEqual({ total_files: 3 });
    const before = await env.DB.prepare("SELECT id FROM files WHERE range_start = 25").first<{ id: number }>();
    await env.DB.prepare("DELETE FROM files WHERE range_start = 0").run();
    expect(await (await postJson(`/revisions/${location.id}/restore`, {})).json()).toEqual({ total_files: 3 });
    // The lost row is back; the rows that were there are kept as they were.
    expect(await env.DB.prepare("SELECT id FROM files WHERE range_start = 25").first<{ id: number }>()).toEqual(before);
    expect(await fileRows(location.id)).toEqual([
      { file_name: a.fileName, range_start: 0, range_end: 9, end_hash: hashOf(9), prev_hash: null, row_count: a.rows },
      { file_name: b.fileName, range_start: 10, range_end: 24, end_hash: hashOf(24), prev_hash: hashOf(9), row_count: b.rows },
      expect.objectContaining({ range_start: 25, range_end: 29 }),
    ]);
  });

  it("refuses an object that is not our Parquet file with 422 INVALID_STORED_FILE and registers nothing", async () => {
    const location = await seedLocation();
    await putBlocksFile(location.path, 0, 9);
    await env.BUCKET.put(fileObjectKey(location.path, "zz-notes.txt"), "not parquet");
    const body = await expectError(await postJson(`/revisions/${location.id}/restore`, {}), 422, "INVALID_STORED_FILE");
    expect(body.error_message).toContain("zz-notes.txt");
    expect(await fileRows(location.id)).toEqual([]);
    await expectError(await postJson("/revisions/31337/restore", {}), 404, "REVISION_NOT_FOUND");
    await expectError(await postJson(`/revisions/${location.id}/restore`, {}, READ), 403, "FORBIDDEN");
  });

  it("POST .../versions/{revision}/restore finds each table's newest prefix, registers, activates and restores it", async () => {
    const hash = await dataset();
    const older = locationPath("eth_rpc", "blocks", "older");
    await putBlocksFile(older, 0, 4);
    const paths = { blocks: locationPath("eth_rpc", "blocks", "newer"), logs: locationPath("eth_rpc", "logs", "l"), transactions: locationPath("eth_rpc", "transactions", "t") };
    for (const path of Object.values(paths)) await putBlocksFile(path, 0, 9);
    const res = await api("/datasets/_/eth_rpc/versions/1.0.0/restore", { method: "POST" });
    expect(res.status).toBe(202);
    const { tables } = await res.json<{ tables: { table_name: string; location_id: number; url: string }[] }>();
    expect(tables.map((t) => [t.table_name, t.url])).toEqual(
      (["blocks", "logs", "transactions"] as const).map((table) => [table, `r2://${env.BUCKET_NAME}/data/${paths[table]}`]),
    );
    const active = await (await api("/revisions?active=true")).json<{ id: number; path: string; metadata: { manifest_hash: string } }[]>();
    expect(active.map((r) => r.path).sort()).toEqual(Object.values(paths).sort());
    expect(active.every((r) => r.metadata.manifest_hash === hash)).toBe(true);
    for (const table of tables) expect(await fileRows(table.location_id)).toHaveLength(1);
    // Again: the same revisions, no new rows.
    const again = await (await api("/datasets/_/eth_rpc/versions/1.0.0/restore", { method: "POST" })).json<{ tables: unknown[] }>();
    expect(again.tables).toEqual(tables);
  });

  it("answers 404 TABLE_NOT_FOUND when a table has nothing in R2, DATASET_NOT_FOUND, INVALID_PATH and 403", async () => {
    await dataset();
    await putBlocksFile(locationPath("eth_rpc", "blocks", "b"), 0, 9);
    await expectError(await api("/datasets/_/eth_rpc/versions/1.0.0/restore", { method: "POST" }), 404, "TABLE_NOT_FOUND");
    await expectError(await api("/datasets/_/nope/versions/1.0.0/restore", { method: "POST" }), 404, "DATASET_NOT_FOUND");
    await expectError(await api("/datasets/_/eth_rpc/versions/x/restore", { method: "POST" }), 400, "INVALID_PATH");
    await expectError(await api("/datasets/_/eth_rpc/versions/1.0.0/restore", { method: "POST", headers: READ }), 403, "FORBIDDEN");
  });

  it("POST .../tables/{table}/restore restores one table, or activates a given revision", async () => {
    const hash = await dataset();
    const path = locationPath("eth_rpc", "logs", "l");
    await putBlocksFile(path, 0, 9);
    const url = "/datasets/_/eth_rpc/versions/1.0.0/tables/logs/restore";
    const res = await api(url, { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    const [restored] = await (await api("/revisions?active=true")).json<{ id: number; path: string }[]>();
    expect(restored?.path).toBe(path);
    const other = await seedLocation({ table: "logs", manifestHash: hash });
    expect((await api(url, { method: "POST", body: JSON.stringify({ location_id: other.id }) })).status).toBe(200);
    expect((await (await api("/revisions?active=true")).json<{ id: number }[]>()).map((r) => r.id)).toEqual([other.id]);
    await expectError(await api(url, { method: "POST", body: "{" }), 400, "INVALID_BODY");
    await expectError(await api(url, { method: "POST", body: JSON.stringify({ location_id: 0 }) }), 400, "INVALID_BODY");
    await expectError(await api(url, { method: "POST", body: JSON.stringify({ location_id: 31337 }) }), 404, "REVISION_NOT_FOUND");
    await expectError(await api("/datasets/_/eth_rpc/versions/1.0.0/tables/nope/restore", { method: "POST" }), 404, "TABLE_NOT_IN_MANIFEST");
    await expectError(await api("/datasets/_/eth_rpc/versions/1.0.0/tables/blocks/restore", { method: "POST" }), 404, "TABLE_NOT_FOUND");
    await expectError(await api(url, { method: "POST", headers: READ }), 403, "FORBIDDEN");
  });
});
