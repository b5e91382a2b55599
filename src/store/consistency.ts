import { eq } from "drizzle-orm";
import type { Db } from "./db";
import { locationObjectPrefix } from "./r2-layout";
import { files } from "./schema";

export interface ConsistencyReport {
  /** Objects without a file row (left by a crash or a stop between put and register), now deleted. */
  orphansDeleted: string[];
  /** File rows whose object is gone: the table is corrupted. */
  missingObjects: string[];
}

/**
 * Reference §5.7, run when a job starts: objects under the location's prefix
 * that have no file row are removed, and file rows whose object is missing
 * are reported, since they make the table corrupt.
 */
export async function checkLocationConsistency(db: Db, bucket: R2Bucket, location: { id: number; path: string }): Promise<ConsistencyReport> {
  const prefix = locationObjectPrefix(location.path);
  const rows = await db.select({ fileName: files.fileName }).from(files).where(eq(files.locationId, location.id));
  const registered = new Set(rows.map((row) => `${prefix}${row.fileName}`));
  const present = new Set<string>();
  const orphans: string[] = [];
  let cursor: string | undefined;
  do {
    const listing = await bucket.list({ prefix, cursor });
    for (const object of listing.objects) {
      present.add(object.key);
      if (!registered.has(object.key)) orphans.push(object.key);
    }
    cursor = listing.truncated ? listing.cursor : undefined;
  } while (cursor !== undefined);
  for (let i = 0; i < orphans.length; i += 1000) await bucket.delete(orphans.slice(i, i + 1000));
  const missingObjects = [...registered].filter((key) => !present.has(key));
  return { orphansDeleted: orphans, missingObjects };
}
