import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, expectError, READ, withoutToken } from "./api-client";

type Paths = Record<string, Record<string, { responses?: Record<string, unknown> }>>;

/** Operations of the spec that no issue asks for yet. */
const NOT_IMPLEMENTED = new Set(["POST /schema"]);

async function ourPaths(): Promise<Paths> {
  const res = await api("/openapi.json");
  expect(res.status).toBe(200);
  return ((await res.json()) as { paths: Paths }).paths;
}

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document with bearer auth", async () => {
    const res = await api("/openapi.json");
    const doc = (await res.json()) as { openapi: string; components?: { securitySchemes?: object } };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components?.securitySchemes).toHaveProperty("bearer");
  });

  it.skipIf(!env.TEST_SHARED)("has every operation of the admin spec with the spec's status codes", async () => {
    const spec = (env.TEST_SHARED?.spec ?? {}) as { paths: Paths };
    const ours = await ourPaths();
    const missing: string[] = [];
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const name = `${method.toUpperCase()} ${path}`;
        if (NOT_IMPLEMENTED.has(name)) continue;
        const mine = ours[path]?.[method];
        if (!mine) {
          missing.push(name);
          continue;
        }
        for (const status of Object.keys(op.responses ?? {})) {
          if (!(status in (mine.responses ?? {}))) missing.push(`${name} -> ${status}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});

describe("GET /docs", () => {
  it("renders an HTML reference of the documented operations", async () => {
    const res = await api("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain("/healthz");
    expect(html).toContain("/openapi.json");
  });
});

describe("auth on the reference routes", () => {
  it("answers 401 without a token, lets the read token read, and refuses writes", async () => {
    for (const path of ["/openapi.json", "/docs"]) {
      await expectError(await withoutToken(path), 401, "UNAUTHORIZED");
      expect((await api(path, { headers: READ })).status, path).toBe(200);
      await expectError(await api(path, { method: "POST", headers: READ }), 403, "FORBIDDEN");
      await expectError(await api(path, { method: "POST" }), 405, "METHOD_NOT_ALLOWED");
    }
  });
});
