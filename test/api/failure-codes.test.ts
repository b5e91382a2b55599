/**
 * Every endpoint, meeting a database that fails every query, answers the 500
 * code the spec lists for it (src/api/failure-codes.ts) as an ErrorResponse,
 * without the failure's own text; /openapi.json documents each code.
 */
import { describe, expect, it } from "vitest";
import { failureCodes } from "../../src/api/failure-codes";
import type { ErrorBody } from "../../src/api/errors";
import { failingD1 } from "../support/workerd/failing-d1";
import { fetchWorker } from "../support/workerd/fetch-worker";
import { ADMIN, api } from "./api-client";
import { rawManifest } from "./registry-support";

const PARAMS: Record<string, string> = {
  namespace: "_",
  name: "sample",
  revision: "1.0.0",
  version: "1.0.0",
  hash: "a".repeat(64),
  id: "1",
  location_id: "1",
  file_id: "1",
  table: "blocks",
};

/** What each endpoint needs beyond its path to get past validation to the database. */
const REQUESTS: Record<string, { query?: string; body?: unknown; params?: Record<string, string> }> = {
  "POST /datasets": { body: { namespace: "_", name: "sample", version: "1.0.0", manifest: rawManifest() } },
  "POST /datasets/{namespace}/{name}/versions/{revision}/deploy": { body: {} },
  "POST /datasets/{namespace}/{name}/versions/{revision}/tables/{table}/partitions/invalidate": { body: { start: 0, end: 9, reason: "test" } },
  "POST /datasets/{namespace}/{name}/versions/{revision}/tables/{table}/partitions/rebuild": { body: {} },
  "POST /manifests": { body: rawManifest() },
  "POST /providers": { body: { name: "rpc_sample", kind: "evm-rpc", network: "anvil", url: "http://127.0.0.1:1" } },
  "GET /providers/{name}": { params: { name: "rpc_sample" } },
  "DELETE /providers/{name}": { params: { name: "rpc_sample" } },
  "DELETE /jobs": { query: "?status=terminal" },
  "PUT /datasets/{namespace}/{name}/versions/{revision}/schedule": { body: { cron: "0 * * * *" } },
  "GET /workers/{id}": { params: { id: "worker-1" } },
  "POST /revisions": { body: { dataset: "_/sample@1.0.0", table_name: "blocks", path: "sample/blocks/r/" } },
  "POST /revisions/{id}/activate": { body: { dataset: "_/sample@1.0.0", table_name: "blocks" } },
  "POST /revisions/deactivate": { body: { dataset: "_/sample@1.0.0", table_name: "blocks" } },
  "GET /jobs/{id}/events/{event_id}": { params: { event_id: "1" } },
  "POST /datasets/{namespace}/{name}/versions/{revision}/tables/{table_name}/restore": { params: { table_name: "blocks" } },
  "POST /query": { body: { sql: "SELECT block_num FROM eth_rpc.blocks" } },
  "POST /schema": { body: { sql_query: "SELECT block_num FROM eth_rpc.blocks" } },
};

/**
 * Where the handler names the failing step itself: registering a dataset or
 * a manifest stores the manifest in R2 first, then fails at its D1 rows.
 */
const MORE_PRECISE: Record<string, string> = {
  "POST /datasets": "MANIFEST_LINKING_ERROR",
};

function requestOf(endpoint: string): { method: string; path: string; init: RequestInit } {
  const [method = "", template = ""] = endpoint.split(" ");
  const extra = REQUESTS[endpoint] ?? {};
  const path = template.replace(/\{(\w+)\}/g, (_, param: string) => extra.params?.[param] ?? PARAMS[param] ?? "x") + (extra.query ?? "");
  const init: RequestInit =
    extra.body === undefined
      ? { method, headers: ADMIN }
      : { method, headers: { ...ADMIN, "content-type": "application/json" }, body: JSON.stringify(extra.body) };
  return { method, path, init };
}

describe("an endpoint whose database fails", () => {
  it.each([...failureCodes()])("%s answers 500 %s", async (endpoint, code) => {
    const { path, init } = requestOf(endpoint);
    const res = await fetchWorker(path, init, { DB: failingD1() });
    const body = (await res.json()) as ErrorBody;
    expect({ status: res.status, code: body.error_code }, body.error_message).toEqual({ status: 500, code: MORE_PRECISE[endpoint] ?? code });
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(typeof body.error_message).toBe("string");
    expect(body.error_message).not.toContain("injected");
  });

  it("the same request with the real database answers something else than 500", async () => {
    for (const endpoint of failureCodes().keys()) {
      const { path, init } = requestOf(endpoint);
      const res = await fetchWorker(path, init);
      expect(res.status, `${endpoint}: ${await res.text()}`).toBeLessThan(500);
    }
  });
});

describe("the OpenAPI document", () => {
  it("lists every endpoint's 500 code, and every documented endpoint has one", async () => {
    const doc = (await (await api("/openapi.json")).json()) as { paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>> };
    const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    const codes = failureCodes();
    expect(documented.filter((endpoint) => endpoint !== "GET /healthz").sort()).toEqual([...codes.keys()].sort());
    for (const [endpoint, code] of codes) {
      const [method = "", path = ""] = endpoint.split(" ");
      expect(doc.paths[path]?.[method.toLowerCase()]?.responses["500"]?.description, endpoint).toContain(`: ${code}`);
    }
  });
});


