import type { TypedResponse } from "hono";

/**
 * A 200 response whose body is JSON text already serialized, sent byte for
 * byte: stored canonical manifests must not be re-serialized, which `c.json`
 * would do. Typed as the JSON response the route declares.
 */
export function storedJsonResponse(text: string): Response & TypedResponse<never, 200, "json"> {
  const response = new Response(text, { status: 200, headers: { "content-type": "application/json" } });
  return response as Response & TypedResponse<never, 200, "json">;
}
