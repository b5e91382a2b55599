import { describe, expect, it } from "vitest";
import {
  DEFAULT_HEAD_POLL_MS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_STEP_SIZE,
  jobSettings,
  MAX_HEAD_POLL_MS,
  MAX_MAX_ATTEMPTS,
  MAX_STEP_SIZE,
} from "../../src/domain/job-settings";

const BAD = ["0", "-5", "1.5", "1e3", " 10", "10 ", "010", "+10", "ten", "0x10", "99999999999999999999"];

describe("jobSettings (AMP_STEP_SIZE, AMP_STEP_MAX_ATTEMPTS, AMP_HEAD_POLL_MS)", () => {
  it("defaults to 1000 blocks per step, 10 attempts and a head read every 10 s when absent or empty", () => {
    expect([DEFAULT_STEP_SIZE, DEFAULT_MAX_ATTEMPTS, DEFAULT_HEAD_POLL_MS]).toEqual([1000, 10, 10_000]);
    const defaults = { ok: true, settings: { stepSize: 1000, maxAttempts: 10, headPollMs: 10_000 } };
    expect(jobSettings({})).toEqual(defaults);
    expect(jobSettings({ AMP_STEP_SIZE: "", AMP_STEP_MAX_ATTEMPTS: "", AMP_HEAD_POLL_MS: "" })).toEqual(defaults);
  });

  it("takes whole numbers from 1 to each maximum", () => {
    expect(jobSettings({ AMP_STEP_SIZE: "1", AMP_STEP_MAX_ATTEMPTS: "1", AMP_HEAD_POLL_MS: "1" })).toEqual({
      ok: true,
      settings: { stepSize: 1, maxAttempts: 1, headPollMs: 1 },
    });
    expect(
      jobSettings({ AMP_STEP_SIZE: String(MAX_STEP_SIZE), AMP_STEP_MAX_ATTEMPTS: String(MAX_MAX_ATTEMPTS), AMP_HEAD_POLL_MS: String(MAX_HEAD_POLL_MS) }),
    ).toEqual({
      ok: true,
      settings: { stepSize: MAX_STEP_SIZE, maxAttempts: MAX_MAX_ATTEMPTS, headPollMs: MAX_HEAD_POLL_MS },
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

  it.each([...BAD, String(MAX_HEAD_POLL_MS + 1)])("refuses AMP_HEAD_POLL_MS=%j with a reason naming the var", (value) => {
    const result = jobSettings({ AMP_HEAD_POLL_MS: value });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(`AMP_HEAD_POLL_MS must be a whole number of milliseconds from 1 to ${MAX_HEAD_POLL_MS}, not ${JSON.stringify(value)}`);
  });
});
