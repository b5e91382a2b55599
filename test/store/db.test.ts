import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openDb } from "../../src/store/db";
import { jobs } from "../../src/store/schema";
import { failingD1 } from "../support/workerd/failing-d1";

describe("openDb", () => {
  it("gives one drizzle instance per D1 binding, made once", () => {
    expect(openDb(env.DB)).toBe(openDb(env.DB));
  });

  it("keeps each binding's instance on its own binding", async () => {
    const failing = failingD1();
    const broken = openDb(failing);
    expect(broken).not.toBe(openDb(env.DB));
    expect(openDb(failing)).toBe(broken);
    // drizzle reports the binding's failure as the cause of its own "Failed query" error.
    const failure = await broken.select().from(jobs).then(
      () => null,
      (error: unknown) => error,
    );
    expect((failure as Error | null)?.cause).toMatchObject({ message: expect.stringMatching(/injected: the database is unavailable/) });
    await expect(openDb(env.DB).select().from(jobs)).resolves.toBeInstanceOf(Array);
  });
});
