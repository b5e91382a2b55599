import { describe, expect, it } from "vitest";
import { DEFAULT_STEP_SIZE, MAX_STEP_SIZE, parseStepSize } from "../../../src/domain/job-settings";

describe("parseStepSize (AMP_STEP_SIZE)", () => {
  it("defaults to 1000 blocks when absent or empty", () => {
    expect(DEFAULT_STEP_SIZE).toBe(1000);
    expect(parseStepSize(undefined)).toEqual({ ok: true, stepSize: 1000 });
    expect(parseStepSize("")).toEqual({ ok: true, stepSize: 1000 });
  });

  it("takes whole numbers from 1 to the maximum", () => {
    expect(parseStepSize("1")).toEqual({ ok: true, stepSize: 1 });
    expect(parseStepSize("10")).toEqual({ ok: true, stepSize: 10 });
    expect(parseStepSize(String(MAX_STEP_SIZE))).toEqual({ ok: true, stepSize: MAX_STEP_SIZE });
  });

  it.each(["0", "-5", "1.5", "1e3", " 10", "10 ", "010", "+10", "ten", "0x10", String(MAX_STEP_SIZE + 1), "99999999999999999999"])(
    "refuses %j with a reason naming the var",
    (value) => {
      const parsed = parseStepSize(value);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.reason).toContain("AMP_STEP_SIZE");
    },
  );
});
