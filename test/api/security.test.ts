import type { Env } from "../../src/env";
import { describe, expect, it } from "vitest";
import { fetchWorker } from "../support/workerd/fetch-worker";
import { api, READ, withoutToken } from "./api-client";

interface Operation {
  method: string;
  path: string;
}

const SAMPLE_PARAMS: Record<string, string> = {
  namespace: "_",
  name: "sample",
  revision: "1.0.0",
  version: "1.0.0",
  hash: "0".repeat(64),
  id: "1",
  location_id: "1",
  file_id: "1",
  table: "blocks",
};

/** Every operation the API documents, with its path parameters filled in. */
async function documentedOperations(): Promise<Operation[]> {
  const res = await api("/openapi.json");
  const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
  const ops: Operation[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    const path = template.replace(/\{(\w+)\}/g, (_, param: string) => SAMPLE_PARAMS[param] ?? "x");
    for (const method of Object.keys(item)) ops.push({ method: method.toUpperCase(), path });
  }
  return ops;
}

async function call(op: Operation, headers: Record<string, string> = {}): Promise<Response> {
  const hasBody = op.method === "POST" || op.method === "PUT";
  return fetchWorker(op.path, {
    method: op.method,
    headers: hasBody ? { ...headers, "content-type": "application/json" } : headers,
    body: hasBody ? "{}" : undefined,
  });
}

describe("auth on every route", () => {
  it("documents more than the health route", async () => {
    expect((await documentedOperations()).length).toBeGreaterThan(1);
  });

  it("answers 401 UNAUTHORIZED without a token, except /healthz", async () => {
    for (const op of await documentedOperations()) {
      const res = await call(op);
      if (op.path === "/healthz") {
        expect(res.status, `${op.method} ${op.path}`).toBe(200);
        continue;
      }
      expect(res.status, `${op.method} ${op.path}`).toBe(401);
      expect(await res.json()).toMatchObject({ error_code: "UNAUTHORIZED" });
    }
  });

  it("answers 401 for a wrong token and for a non-bearer scheme", async () => {
    for (const op of await documentedOperations()) {
      if (op.path === "/healthz") continue;
      const authorizations = ["Bearer wrong-token", "Basic dGVzdC1hZG1pbi10b2tlbg==", "Bearer", "test-admin-token"];
      // At once per route: four sequential requests for each of 30 routes outlast the timeout on a loaded machine.
      const statuses = await Promise.all(authorizations.map(async (authorization) => (await call(op, { authorization })).status));
      expect(statuses, `${op.method} ${op.path} with ${authorizations.join(" | ")}`).toEqual(authorizations.map(() => 401));
    }
  });

  it("answers 403 FORBIDDEN to the read token on every write", async () => {
    for (const op of await documentedOperations()) {
      // Running a query and inferring a schema read only: the read token may POST them (test/api/query.test.ts).
      if (op.method === "GET" || (op.method === "POST" && ["/query", "/schema"].includes(op.path))) continue;
      const res = await call(op, READ);
      expect(res.status, `${op.method} ${op.path}`).toBe(403);
      expect(await res.json()).toMatchObject({ error_code: "FORBIDDEN" });
    }
  });

  it("lets the read token read", async () => {
    const res = await api("/openapi.json", { headers: READ });
    expect(res.status).toBe(200);
  });

  it("also guards unknown routes, so they reveal nothing without a token", async () => {
    const res = await withoutToken("/no-such-route");
    expect(res.status).toBe(401);
  });
});

describe("auth configuration", () => {
  async function fetchWith(vars: Partial<Env>, path: string): Promise<Response> {
    return fetchWorker(path, {}, vars);
  }

  it("answers 503 AUTH_NOT_CONFIGURED when no token is set and auth is not disabled", async () => {
    const res = await fetchWith({ AMP_ADMIN_TOKEN: undefined, AMP_READ_TOKEN: undefined }, "/openapi.json");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error_code: "AUTH_NOT_CONFIGURED" });
  });

  it("keeps /healthz open when auth is not configured", async () => {
    const res = await fetchWith({ AMP_ADMIN_TOKEN: undefined, AMP_READ_TOKEN: undefined }, "/healthz");
    expect(res.status).toBe(200);
  });

  it("runs open only with AMP_AUTH=disabled and no token", async () => {
    const res = await fetchWith({ AMP_ADMIN_TOKEN: undefined, AMP_READ_TOKEN: undefined, AMP_AUTH: "disabled" }, "/openapi.json");
    expect(res.status).toBe(200);
  });

  it("enforces a configured token even when AMP_AUTH=disabled", async () => {
    const res = await fetchWith({ AMP_AUTH: "disabled" }, "/openapi.json");
    expect(res.status).toBe(401);
  });
});
