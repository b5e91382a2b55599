import { z } from "@hono/zod-openapi";

/**
 * Integer ids in paths and cursors (reference §0): decimal digits, > 0, and
 * within a safe integer, so an id never names a row it only rounds to.
 */

/** A positive integer id given as decimal digits, as a number. */
export function positiveId(description: string) {
  return z
    .string()
    .regex(/^\d+$/, "must be a positive integer")
    .transform(Number)
    .refine((id) => id > 0 && Number.isSafeInteger(id), `must be a positive integer up to ${Number.MAX_SAFE_INTEGER}`)
    .openapi({ type: "integer", format: "int64", minimum: 1, description });
}

/** A path parameter holding a positive integer id. */
export function idPathParam(name: string, description: string) {
  return positiveId(description).openapi({ param: { name, in: "path" }, example: 1 });
}
