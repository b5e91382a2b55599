import { z } from "@hono/zod-openapi";

/** The body of every non-2xx response, as a documented OpenAPI component. */
const ErrorResponseSchema = z
  .object({
    error_code: z.string().openapi({ description: "Stable, machine-readable code in SCREAMING_SNAKE_CASE", example: "PROVIDER_NOT_FOUND" }),
    error_message: z.string().openapi({ description: "Human-readable detail; may change" }),
  })
  .openapi("ErrorResponse");

/** A JSON response entry for a route's `responses`. */
export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/** An error response entry for a route's `responses`. */
export function errorContent(description: string) {
  return jsonContent(ErrorResponseSchema, description);
}

/** The 500 of a route, until the app names its code (failure-codes.ts). */
export const GENERIC_FAILURE = "Internal error";

/**
 * The errors any route that reads may answer besides its own: auth failures
 * and an internal error. A route with a more specific 500 lists it after
 * spreading these.
 */
export const readRouteErrors = {
  401: errorContent("Missing or invalid bearer token (UNAUTHORIZED)"),
  503: errorContent("No API token is configured (AUTH_NOT_CONFIGURED)"),
  500: errorContent(GENERIC_FAILURE),
} as const;

/** The errors any route that writes may answer besides its own: also the read-only token's 403. */
export const writeRouteErrors = {
  ...readRouteErrors,
  403: errorContent("The read-only token cannot write (FORBIDDEN)"),
} as const;
