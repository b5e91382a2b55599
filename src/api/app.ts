import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import type { Env } from "../env";
import { requireAuth } from "./auth";
import { renderDocsPage } from "./docs";
import { ApiError, errorResponse } from "./errors";
import { failureCode, failureCodes } from "./failure-codes";
import { GENERIC_FAILURE } from "./responses";
import { resourceRoutes } from "./routes";

type AppEnv = { Bindings: Env };
export type App = OpenAPIHono<AppEnv>;

const OPENAPI_INFO = {
  title: "amp-edge admin API",
  version: "1.0.0",
  description: "The Amp admin API on Cloudflare Workers: datasets, manifests, providers, jobs, locations, files, workers.",
};

function routePattern(path: string): RegExp {
  const escaped = path
    .split("/")
    .map((segment) => (segment.startsWith(":") ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${escaped}/?$`);
}

/** Methods served at a path, so an unmatched request can tell 404 from 405. */
function allowedMethods(app: App, path: string): string[] {
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method === "ALL" || route.path.includes("*")) continue;
    if (routePattern(route.path).test(path)) methods.add(route.method);
  }
  return [...methods].sort();
}

type OpenApiDocument = ReturnType<App["getOpenAPI31Document"]>;

/** The document with each endpoint's own 500 code (failure-codes.ts) in its 500 description. */
function withFailureCodes(document: OpenApiDocument): OpenApiDocument {
  for (const [endpoint, code] of failureCodes()) {
    const [method = "", path = ""] = endpoint.split(" ");
    const failure = document.paths?.[path]?.[method.toLowerCase() as "get"]?.responses?.["500"];
    if (!failure || !("description" in failure)) continue;
    // A route that documents a 500 of its own (deploy's SCHEDULER_ERROR) keeps it.
    const own = failure.description === GENERIC_FAILURE ? "" : `${failure.description}; `;
    failure.description = `${own}any other unexpected failure, such as the database: ${code}`;
  }
  return document;
}

export function createApp(): App {
  const app: App = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw new ApiError("INVALID_PATH", "invalid request");
    },
  });

  app.use("*", async (c, next) => (c.req.path === "/healthz" ? next() : requireAuth(c, next)));
  for (const register of resourceRoutes) register(app);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "AMP_ADMIN_TOKEN (read and write) or AMP_READ_TOKEN (read only)",
  });
  const documentConfig = { openapi: "3.1.0", info: OPENAPI_INFO, security: [{ bearer: [] }] };
  const openApiDocument = () => withFailureCodes(app.getOpenAPI31Document(documentConfig));
  app.get("/openapi.json", (c) => c.json(openApiDocument()));
  app.get("/docs", (c) => c.html(renderDocsPage(openApiDocument())));

  app.notFound((c) => {
    const allowed = allowedMethods(app, c.req.path);
    if (allowed.length > 0) {
      return errorResponse("METHOD_NOT_ALLOWED", `${c.req.method} is not allowed on ${c.req.path}; allowed: ${allowed.join(", ")}`, {
        allow: allowed.join(", "),
      });
    }
    return errorResponse("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`);
  });

  app.onError((error, c) => {
    if (error instanceof ApiError) {
      if (error.status >= 500 && error.cause !== undefined) console.error(`${error.code} on ${c.req.method} ${c.req.routePath}`, error.cause);
      return errorResponse(error.code, error.message);
    }
    if (error instanceof HTTPException && error.status < 500) {
      return errorResponse("INVALID_PATH", error.message || "bad request");
    }
    const code = failureCode(c.req.method, c.req.routePath);
    console.error(`unexpected failure on ${c.req.method} ${c.req.routePath} (${code})`, error);
    return errorResponse(code, "internal error");
  });

  return app;
}
