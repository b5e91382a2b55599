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
