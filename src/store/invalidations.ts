import { and, asc, eq, gte, inArray, lte, notExists, sql } from "drizzle-orm";
import type { BlockRange } from "../domain/block-range";
import type { RecordedInvalidation } from "../domain/garbage-rules";
import { nowTimestamp } from "./clock";
import type { Db } from "./db";
import { type ChainFile, listChainFiles } from "./files";
import { files, partitionInvalidations } from "./schema";

/** An invalidation as stored: the range and ceiling the chain selection takes, and who asked, when and why. */
export interface StoredInvalidation extends RecordedInvalidation {
  readonly id: number;
  readonly locationId: number;
  readonly reason: string;
  /** The role of the token that asked (`admin`), or `auth_disabled` when the API runs without tokens. */
  readonly requestedBy: string;
  /** The invalidation of a dependency this one followed from; null when asked for directly. */
  readonly causeId: number | null;
}

/** A location's files and invalidations: everything its canonical chain is chosen from. */
export interface LocationChain {
  readonly files: ChainFile[];
  readonly invalidations: StoredInvalidation[];
}

function toInvalidation(row: typeof partitionInvalidations.$inferSelect): StoredInvalidation {
  return {
    id: row.id,
    locationId: row.locationId,
    range: { start: row.rangeStart, end: row.rangeEnd },
    fileIdCeiling: row.fileIdCeiling,
    reason: row.reason,
    requestedBy: row.requestedBy,
    causeId: row.causeId,
    createdAt: row.createdAt,
  };
}

/** The invalidations of the given locations, oldest first. */
export async function listInvalidations(db: Db, locationIds: readonly number[]): Promise<StoredInvalidation[]> {
  if (locationIds.length === 0) return [];
  const rows = await db
    .select()
    .from(partitionInvalidations)
    .where(inArray(partitionInvalidations.locationId, [...locationIds]))
    .orderBy(asc(partitionInvalidations.id));
  return rows.map(toInvalidation);
}

/** A location's files and invalidations. Invalidations are read first: one recorded in between only takes out files read. */
export async function readLocationChain(db: Db, locationId: number): Promise<LocationChain> {
  const invalidations = await listInvalidations(db, [locationId]);
  return { files: await listChainFiles(db, locationId), invalidations };
}

export interface NewInvalidation {
  readonly locationId: number;
  readonly range: BlockRange;
  readonly reason: string;
  readonly requestedBy: string;
}

/**
 * Records invalidations in one D1 batch, so a table and its dependants are invalidated together or not at all.
 * Each row's ceiling is the highest file id of its location when the batch runs, in the statement itself. A row
 * is left out when an invalidation of its location already covers its range with a ceiling as high (the same
 * request repeated, or two at once): nothing would change. A dependant's cause is the newest invalidation of
 * `causeLocationId` (the table it reads) by then. Returns the rows inserted.
 */
export async function recordInvalidations(
  db: Db,
  causeLocationId: number,
  entries: readonly (NewInvalidation & { readonly dependant: boolean })[],
): Promise<StoredInvalidation[]> {
  const createdAt = nowTimestamp();
  const insertOne = (entry: NewInvalidation & { readonly dependant: boolean }) => {
    const ceiling = sql<number>`(SELECT coalesce(max(${files.id}), 0) FROM ${files} WHERE ${files.locationId} = ${entry.locationId})`;
    const earlier = db
      .select({ one: sql`1` })
      .from(partitionInvalidations)
      .where(
        and(
          eq(partitionInvalidations.locationId, entry.locationId),
          lte(partitionInvalidations.rangeStart, entry.range.start),
          gte(partitionInvalidations.rangeEnd, entry.range.end),
          gte(partitionInvalidations.fileIdCeiling, ceiling),
        ),
      );
    const causeId = entry.dependant
      ? sql<number | null>`(SELECT max(${partitionInvalidations.id}) FROM ${partitionInvalidations} WHERE ${partitionInvalidations.locationId} = ${causeLocationId})`
      : sql<number | null>`NULL`;
    return db
      .insert(partitionInvalidations)
      .select(
        db
          .select({
            id: sql<number>`NULL`.as("id"),
            locationId: sql<number>`${entry.locationId}`.as("location_id"),
            rangeStart: sql<number>`${entry.range.start}`.as("range_start"),
            rangeEnd: sql<number>`${entry.range.end}`.as("range_end"),
            fileIdCeiling: ceiling.as("file_id_ceiling"),
            reason: sql<string>`${entry.reason}`.as("reason"),
            requestedBy: sql<string>`${entry.requestedBy}`.as("requested_by"),
            causeId: causeId.as("cause_id"),
            createdAt: sql<string>`${createdAt}`.as("created_at"),
          })
          .from(sql`(SELECT 1)`)
          .where(notExists(earlier)),
      )
      .returning();
  };
  const [first, ...rest] = entries;
  if (!first) return [];
  const inserted = await db.batch([insertOne(first), ...rest.map(insertOne)]);
  return inserted.flatMap((rows) => rows.map(toInvalidation));
}
