import { z } from "@hono/zod-openapi";

/** The body of every non-2xx response, as a documented OpenAPI component. */
export const ErrorResponseSchema = z
  .object({
    error_code: z.string().openapi({ description: "Stable, machine-readable code in SCREAMING_SNAKE_CASE", example: "PROVIDER_NOT_FOUND" }),
    error_message: z.string().openapi({ description: "Human-readable detail; may change" }),
  })
  .openapi("ErrorResponse");

/** An error response entry for a route's `responses`. */
export function errorContent(description: string) {
  return { description, content: { "application/json": { schema: ErrorResponseSchema } } };
}

/** Auth failures of a route that reads. */
export const readAuthResponses = {
  401: errorContent("Missing or invalid bearer token (UNAUTHORIZED)"),
  503: errorContent("No API token is configured (AUTH_NOT_CONFIGURED)"),
} as const;

/** Auth failures of a route that writes: also the read-only token's 403. */
export const writeAuthResponses = {
  ...readAuthResponses,
  403: errorContent("The read-only token cannot write (FORBIDDEN)"),
} as const;
