import { describe, expect, it } from "vitest";
import { api, expectError } from "./api-client";

describe("unknown routes and methods", () => {
  it("answers 404 NOT_FOUND as ErrorResponse JSON", async () => {
    await expectError(await api("/nope"), 404, "NOT_FOUND");
  });

  it("answers 405 METHOD_NOT_ALLOWED with an Allow header", async () => {
    const res = await api("/healthz", { method: "DELETE" });
    expect(res.headers.get("allow")).toBe("GET");
    await expectError(res, 405, "METHOD_NOT_ALLOWED");
  });
});

/** A valid value for each path parameter the API documents. */
const SAMPLE_PARAMS: Record<string, string> = {
  namespace: "_",
  name: "sample",
  revision: "latest",
  version: "1.0.0",
  hash: "a".repeat(64),
  id: "1",
  location_id: "1",
  file_id: "1",
  table: "blocks",
};

const ODD_SEGMENTS = ["%", "%ZZ", "%00", "%E0%A4%A", "%2F", "%2E%2E", "9".repeat(400), "1e308", "-0", "%20", "__proto__"];
const ODD_BODIES = ["[]", '"x"', "null", "1e400", "{}", '{"a":1e400,"end_block":-0}', `{"deep":${"[".repeat(10_000)}${"]".repeat(10_000)}}`, "\uFEFF{}"];

/** An odd answer: a 5xx, or an error that is not `{error_code, error_message}` JSON. */
async function oddAnswer(method: string, path: string, body?: string): Promise<string | null> {
  const init: RequestInit = body === undefined ? { method } : { method, body, headers: { "content-type": "application/json" } };
  const res = await api(path, init);
  const text = await res.text();
  if (res.status >= 500) return `${method} ${path.slice(0, 80)} ${body?.slice(0, 40) ?? ""} -> ${res.status} ${text.slice(0, 120)}`;
  if (res.status < 400 || method === "HEAD") return null;
  try {
    const error = JSON.parse(text) as { error_code?: unknown; error_message?: unknown };
    if (typeof error.error_code === "string" && typeof error.error_message === "string") return null;
  } catch {}
  return `${method} ${path.slice(0, 80)} -> ${res.status} without an ErrorResponse: ${text.slice(0, 120)}`;
}

describe("odd input never answers 5xx", () => {
  it("on any documented route: odd path segments, trailing slashes, repeated and odd query parameters, odd bodies", async () => {
    const doc = (await (await api("/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
    const odd: (string | null)[] = [];
    for (const [template, item] of Object.entries(doc.paths)) {
      const params = [...template.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? "");
      const withParams = (replace: (param: string) => string) => template.replace(/\{(\w+)\}/g, (_, param: string) => replace(param));
      const sample = withParams((param) => SAMPLE_PARAMS[param] ?? "x");
      for (const method of Object.keys(item).map((m) => m.toUpperCase())) {
        const calls: Promise<string | null>[] = [];
        for (const param of params) {
          for (const segment of ODD_SEGMENTS) calls.push(oddAnswer(method, withParams((p) => (p === param ? segment : (SAMPLE_PARAMS[p] ?? "x")))));
        }
        calls.push(oddAnswer(method, `${sample}/`), oddAnswer(method, sample.replace(/\/([^/]*)$/, "//$1")));
        calls.push(oddAnswer(method, `${sample}?limit=1&limit=2&status=x&status=y&force=true&force=false&last_job_id=%FF`));
        if (method === "POST" || method === "PUT") for (const body of ODD_BODIES) calls.push(oddAnswer(method, sample, body));
        // One route at a time keeps a loaded machine from timing the requests out.
        odd.push(...(await Promise.all(calls)));
      }
    }
    expect(odd.filter((answer) => answer !== null)).toEqual([]);
  }, 120_000);
});
