import { describe, expect, it } from "vitest";
import { withoutToken } from "./api-client";

describe("GET /healthz", () => {
  it("answers 200 without a token", async () => {
    const res = await withoutToken("/healthz");
    expect(res.status).toBe(200);
  });
});
