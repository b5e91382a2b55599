import { gt, lt, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";

/**
 * Keyset pagination: a query asks for `limit + 1` rows past the cursor, so a
 * page knows whether another one follows without counting. `nextCursor` is
 * present only when more rows exist; it is the id of the page's last row.
 */
export interface Page<T> {
  items: T[];
  nextCursor?: number;
}

export interface PageRequest {
  limit: number;
  /** Id of the last row of the previous page; absent for the first page. */
  after?: number;
}

/** The rows past the cursor of a list ordered by `id`: below it newest first, above it oldest first; no condition on the first page. */
export function pastCursor(id: SQLiteColumn, page: PageRequest, order: "newest first" | "oldest first"): SQL | undefined {
  if (page.after === undefined) return undefined;
  return order === "newest first" ? lt(id, page.after) : gt(id, page.after);
}

/** Cuts the `limit + 1` rows a query returned into a page. */
export function toPage<T extends { id: number }>(rows: T[], limit: number): Page<T> {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, nextCursor: items[items.length - 1]!.id };
}
