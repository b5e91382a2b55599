import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("GET /healthz", () => {
  it("answers 200 without a token", async () => {
    const res = await SELF.fetch("https://amp.test/healthz");
    expect(res.status).toBe(200);
  });
});

describe("unknown routes and methods", () => {
  const auth = { authorization: "Bearer test-admin-token" };
  it("answers 404 NOT_FOUND as ErrorResponse JSON", async () => {
    const res = await SELF.fetch("https://amp.test/nope", { headers: auth });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error_code: "NOT_FOUND" });
  });
  it("answers 405 METHOD_NOT_ALLOWED with an Allow header", async () => {
    const res = await SELF.fetch("https://amp.test/healthz", { method: "DELETE", headers: auth });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
    expect(await res.json()).toMatchObject({ error_code: "METHOD_NOT_ALLOWED" });
  });
});
