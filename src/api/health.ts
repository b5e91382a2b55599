import { createRoute } from "@hono/zod-openapi";
import type { App } from "./app";

const healthz = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["health"],
  summary: "Liveness check; needs no token",
  security: [],
  responses: { 200: { description: "The API is up" } },
});

export function registerHealthRoutes(app: App): void {
  app.openapi(healthz, (c) => c.body(null, 200));
}
