/**
 * Rebuilds a location's file rows from its objects in R2 (the original's restore): each object's Parquet footer
 * gives its `nozzle_metadata` (block range, end hash, parent hash) and its row count, read with two small
 * ranged reads per object, never the whole file.
 */
import type { NozzleMetadata } from "../domain/parquet-file";
import { rangeSource, readParquetFooter } from "../parquet";
import type { Db } from "../store/db";
import { type NewFile, registerRestoredFiles } from "../store/files";
import { listLocationObjects, type StoredObject } from "../store/revision-locations";

/** Footers read at once. */
const FOOTER_READS_IN_FLIGHT = 16;

export type FileRestore = { ok: true; objects: number } | { ok: false; key: string; reason: string };

async function footerOf(bucket: R2Bucket, object: StoredObject) {
  const source = rangeSource(object.size, async (offset, length) => {
    const part = await bucket.get(object.key, { range: { offset, length } });
    if (!part) throw new Error("the object disappeared while it was read");
    return part.arrayBuffer();
  });
  return readParquetFooter(source);
}

function isNozzleMetadata(value: unknown): value is NozzleMetadata {
  if (typeof value !== "object" || value === null) return false;
  const ranges = (value as { ranges?: unknown }).ranges;
  if (!Array.isArray(ranges) || ranges.length !== 1) return false;
  const [range] = ranges as [Record<string, unknown>];
  const numbers = range.numbers as Record<string, unknown> | undefined;
  return (
    typeof numbers?.start === "number" &&
    typeof numbers.end === "number" &&
    typeof range.hash === "string" &&
    typeof range.network === "string" &&
    (range.prev_hash === null || range.prev_hash === undefined || typeof range.prev_hash === "string")
  );
}

async function restoredFile(bucket: R2Bucket, locationId: number, object: StoredObject): Promise<NewFile | string> {
  let footer;
  try {
    footer = await footerOf(bucket, object);
  } catch (error) {
    return `not a readable Parquet file: ${error instanceof Error ? error.message : String(error)}`;
  }
  let metadata: unknown;
  try {
    metadata = JSON.parse(footer.keyValueMetadata.nozzle_metadata ?? "");
  } catch {
    return "its footer has no nozzle_metadata JSON";
  }
  if (!isNozzleMetadata(metadata)) return "its nozzle_metadata has no single block range";
  const [range] = metadata.ranges;
  return {
    locationId,
    fileName: object.fileName,
    rangeStart: range.numbers.start,
    rangeEnd: range.numbers.end,
    endHash: range.hash,
    prevHash: range.prev_hash ?? null,
    rowCount: footer.rowCount,
    objectSize: object.size,
    objectETag: object.etag,
    objectVersion: object.version,
    metadata: metadata as unknown as Record<string, unknown>,
  };
}

/**
 * Registers a row for every object under the location's prefix that has none yet. Stops at the first object
 * that is not one of our Parquet files, before registering anything, so a restore either registers all files or
 * none.
 */
export async function restoreLocationFiles(db: Db, bucket: R2Bucket, location: { id: number; path: string }): Promise<FileRestore> {
  const objects = await listLocationObjects(bucket, location.path);
  const restored: NewFile[] = [];
  for (let i = 0; i < objects.length; i += FOOTER_READS_IN_FLIGHT) {
    const batch = objects.slice(i, i + FOOTER_READS_IN_FLIGHT);
    const results = await Promise.all(batch.map((object) => restoredFile(bucket, location.id, object)));
    for (const [j, result] of results.entries()) {
      if (typeof result === "string") return { ok: false, key: batch[j]!.key, reason: result };
      restored.push(result);
    }
  }
  await registerRestoredFiles(db, restored);
  return { ok: true, objects: objects.length };
}
