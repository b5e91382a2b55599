import { z } from "@hono/zod-openapi";
import type { PageRequest } from "../store/page";
import { ApiError } from "./errors";
import { positiveId } from "./id-params";

/**
 * Keyset pagination of lists (reference §0): a `limit` (default 50, at most
 * 1000) and a cursor, the `next_cursor` of the previous page, which is
 * absent on the last page (DESIGN difference 7).
 */

const DEFAULT_PAGE_LIMIT = 50;
const MAX_PAGE_LIMIT = 1000;

/** The query of a paginated list: `limit` and the cursor named `cursorName`. */
export function pageQuery<K extends string>(cursorName: K, what: string) {
  const cursor = positiveId("Cursor: the `next_cursor` of the previous page")
    .optional()
    .openapi({ param: { name: cursorName, in: "query" } });
  const cursorShape = { [cursorName]: cursor } as { [P in K]: typeof cursor };
  return z.object({
    limit: z
      .string()
      .regex(/^\d+$/, "must be a non-negative integer")
      .optional()
      .openapi({
        param: { name: "limit", in: "query" },
        type: "integer",
        minimum: 0,
        description: `Most ${what} to return: default ${DEFAULT_PAGE_LIMIT}, at most ${MAX_PAGE_LIMIT}; 0 is LIMIT_INVALID, over ${MAX_PAGE_LIMIT} LIMIT_TOO_LARGE`,
      }),
    ...cursorShape,
  });
}

/** The `next_cursor` field of a page. */
export const NextCursorSchema = z
  .number()
  .int()
  .optional()
  .openapi({ description: "Present only when another page follows: pass it as the cursor of the next request" });

/** The page a validated `limit` and cursor ask for; a limit out of range answers its own code. */
export function pageRequest(limit: string | undefined, after: number | undefined): PageRequest {
  const value = limit === undefined ? DEFAULT_PAGE_LIMIT : Number(limit);
  if (value === 0) throw new ApiError("LIMIT_INVALID", "limit must be at least 1");
  if (value > MAX_PAGE_LIMIT) throw new ApiError("LIMIT_TOO_LARGE", `limit must be at most ${MAX_PAGE_LIMIT}`);
  return after === undefined ? { limit: value } : { limit: value, after };
}
