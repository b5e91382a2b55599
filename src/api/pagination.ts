import type { Env as HonoEnv } from "hono";
import { type Hook, z } from "@hono/zod-openapi";
import type { PageRequest } from "../store/page";
import { ApiError, type ErrorCode } from "./errors";
import { describeZodError, type ValidationCodes, validationHook } from "./validation";

/**
 * Integer ids in paths and cursors, and the `limit` of paginated lists
 * (reference §0): ids are decimal integers > 0 that fit in a safe integer;
 * `limit` defaults to 50 and goes up to 1000.
 */

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 1000;

const DIGITS = /^\d+$/;

/** A positive integer id given as decimal digits, as a number. */
export function positiveId(description: string) {
  return z
    .string()
    .regex(DIGITS, "must be a positive integer")
    .transform(Number)
    .refine((id) => id > 0 && Number.isSafeInteger(id), `must be a positive integer up to ${Number.MAX_SAFE_INTEGER}`)
    .openapi({ type: "integer", format: "int64", minimum: 1, description });
}

/** A path parameter holding a positive integer id. */
export function idPathParam(name: string, description: string) {
  return positiveId(description).openapi({ param: { name, in: "path" }, example: 1 });
}

/** The query of a paginated list: `limit` and the cursor named `cursorName`. */
export function pageQuery<K extends string>(cursorName: K, what: string) {
  const cursor = positiveId("Cursor: the `next_cursor` of the previous page")
    .optional()
    .openapi({ param: { name: cursorName, in: "query" } });
  const cursorShape = { [cursorName]: cursor } as { [P in K]: typeof cursor };
  return z.object({
    limit: z
      .string()
      .regex(DIGITS, "must be a non-negative integer")
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

/** The page a validated `limit` and cursor ask for; a limit out of range answers its own code. */
export function pageRequest(limit: string | undefined, after: number | undefined): PageRequest {
  const value = limit === undefined ? DEFAULT_PAGE_LIMIT : Number(limit);
  if (value === 0) throw new ApiError("LIMIT_INVALID", "limit must be at least 1");
  if (value > MAX_PAGE_LIMIT) throw new ApiError("LIMIT_TOO_LARGE", `limit must be at most ${MAX_PAGE_LIMIT}`);
  return after === undefined ? { limit: value } : { limit: value, after };
}

/**
 * `validationHook`, except that a bad path parameter wins over a bad query
 * (zod-openapi validates the query first; the original checks the path
 * first), so a request with both answers the path's code.
 */
export function pathFirstHook<I, E extends HonoEnv, P extends string>(
  codes: ValidationCodes & { param: ErrorCode },
  params: z.ZodType,
): Hook<I, E, P, undefined> {
  const hook = validationHook<I, E, P>(codes);
  return (result, c) => {
    if (!result.success && result.target === "query") {
      const path = params.safeParse(c.req.param());
      if (!path.success) throw new ApiError(codes.param, `invalid param: ${describeZodError(path.error)}`);
    }
    return hook(result, c);
  };
}
