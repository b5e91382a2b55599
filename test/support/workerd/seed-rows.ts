/** Rows for the jobs, locations, files and progress tests, inserted straight with drizzle (and their objects put to R2). */
import { env } from "cloudflare:test";
import type { JobStatus } from "../../../src/domain/job";
import { openDb } from "../../../src/store/db";
import { fileObjectKey, locationPath, locationUrl } from "../../../src/store/r2-layout";
import { files, jobs, locations } from "../../../src/store/schema";

export const db = () => openDb(env.DB);

let manifestCounter = 0;

/** A distinct 64-hex manifest hash per call, so seeded active jobs never share a manifest. */
export function manifestHash(): string {
  manifestCounter += 1;
  return manifestCounter.toString(16).padStart(64, "0");
}

export async function seedJob(status: JobStatus = "COMPLETED", options: { failureReason?: string; manifestHash?: string } = {}) {
  const hash = options.manifestHash ?? manifestHash();
  const [row] = await db()
    .insert(jobs)
    .values({
      manifestHash: hash,
      descriptor: { Dump: { end_block: "100", max_writers: 1, dataset_namespace: "_", dataset_name: "eth_rpc", manifest_hash: hash } },
      status,
      failureReason: options.failureReason ?? null,
      createdAt: "2025-11-06T12:00:00.000Z",
      updatedAt: "2025-11-06T12:00:01.000Z",
    })
    .returning();
  return row!;
}

export async function seedLocation(options: { active?: boolean; writer?: number | null; table?: string; manifestHash?: string; datasetName?: string } = {}) {
  const path = locationPath("eth_rpc", options.table ?? "blocks", crypto.randomUUID());
  const [row] = await db()
    .insert(locations)
    .values({
      manifestHash: options.manifestHash ?? manifestHash(),
      tableName: options.table ?? "blocks",
      datasetNamespace: "_",
      datasetName: options.datasetName ?? "eth_rpc",
      bucket: env.BUCKET_NAME,
      path,
      url: locationUrl(env.BUCKET_NAME, path),
      active: options.active ?? false,
      writer: options.writer ?? null,
      createdAt: "2025-11-06T12:00:00.000Z",
    })
    .returning();
  return row!;
}

export function fileMetadata(fileName: string, start: number, end: number) {
  return {
    table: "blocks",
    filename: fileName,
    created_at: { secs: 1754431714, nanos: 0 },
    ranges: [{ numbers: { start, end }, network: "anvil", hash: `0x${end.toString(16).padStart(64, "0")}`, prev_hash: null }],
  };
}

/**
 * A file row, and its object in R2 unless `withObject` is false (`body`: its bytes). `hash` (the end block's,
 * by default derived from `end`) and `prevHash` (default null) place it in its table's chain.
 */
export async function seedFile(
  location: { id: number; path: string },
  start: number,
  end: number,
  options: { withObject?: boolean; body?: Uint8Array | string; hash?: string; prevHash?: string | null } = {},
) {
  const endHash = options.hash ?? `0x${end.toString(16).padStart(64, "0")}`;
  const fileName = `${String(start).padStart(9, "0")}-${String(end).padStart(9, "0")}-${endHash.slice(-8)}.parquet`;
  let objectSize: number | null = null;
  let objectETag: string | null = null;
  if (options.withObject ?? true) {
    const object = (await env.BUCKET.put(fileObjectKey(location.path, fileName), options.body ?? `parquet ${start}-${end}`))!;
    objectSize = object.size;
    objectETag = object.etag;
  }
  const [row] = await db()
    .insert(files)
    .values({
      locationId: location.id,
      fileName,
      rangeStart: start,
      rangeEnd: end,
      endHash,
      prevHash: options.prevHash ?? null,
      rowCount: end - start + 1,
      objectSize,
      objectETag,
      objectVersion: null,
      metadata: fileMetadata(fileName, start, end),
      createdAt: "2025-11-06T12:00:02.000Z",
    })
    .returning();
  return row!;
}

/** Inserts `count` COMPLETED jobs in one statement; returns their ids, ascending. */
export async function seedManyJobs(count: number): Promise<number[]> {
  const { results } = await env.DB.prepare(
    `INSERT INTO jobs (manifest_hash, descriptor, status, created_at, updated_at)
     WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
     SELECT printf('bulk%060x', n), '{}', 'COMPLETED', '2025-11-06T12:00:00.000Z', '2025-11-06T12:00:00.000Z' FROM seq
     RETURNING id`,
  )
    .bind(count)
    .all<{ id: number }>();
  return results.map((row) => row.id).sort((a, b) => a - b);
}
