import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_STEP_SIZE, jobSettings, MAX_MAX_ATTEMPTS, MAX_STEP_SIZE } from "../../src/domain/job-settings";

const BAD = ["0", "-5", "1.5", "1e3", " 10", "10 ", "010", "+10", "ten", "0x10", "99999999999999999999"];

describe("jobSettings (AMP_STEP_SIZE, AMP_STEP_MAX_ATTEMPTS)", () => {
  it("defaults to 1000 blocks per step and 10 attempts when absent or empty", () => {
    expect([DEFAULT_STEP_SIZE, DEFAULT_MAX_ATTEMPTS]).toEqual([1000, 10]);
    expect(jobSettings({})).toEqual({ ok: true, settings: { stepSize: 1000, maxAttempts: 10 } });
    expect(jobSettings({ AMP_STEP_SIZE: "", AMP_STEP_MAX_ATTEMPTS: "" })).toEqual({ ok: true, settings: { stepSize: 1000, maxAttempts: 10 } });
  });

  it("takes whole numbers from 1 to each maximum", () => {
    expect(jobSettings({ AMP_STEP_SIZE: "1", AMP_STEP_MAX_ATTEMPTS: "1" })).toEqual({ ok: true, settings: { stepSize: 1, maxAttempts: 1 } });
    expect(jobSettings({ AMP_STEP_SIZE: String(MAX_STEP_SIZE), AMP_STEP_MAX_ATTEMPTS: String(MAX_MAX_ATTEMPTS) })).toEqual({
      ok: true,
      settings: { stepSize: MAX_STEP_SIZE, maxAttempts: MAX_MAX_ATTEMPTS },
    });
  });

  it.each([...BAD, String(MAX_STEP_SIZE + 1)])("refuses AMP_STEP_SIZE=%j with a reason naming the var", (value) => {
    const result = jobSettings({ AMP_STEP_SIZE: value });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(`AMP_STEP_SIZE must be a whole number of blocks from 1 to ${MAX_STEP_SIZE}, not ${JSON.stringify(value)}`);
  });

  it.each([...BAD, String(MAX_MAX_ATTEMPTS + 1)])("refuses AMP_STEP_MAX_ATTEMPTS=%j with a reason naming the var", (value) => {
    const result = jobSettings({ AMP_STEP_MAX_ATTEMPTS: value });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain("AMP_STEP_MAX_ATTEMPTS must be a whole number of attempts");
  });
});
