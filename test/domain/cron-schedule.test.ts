import { describe, expect, it } from "vitest";
import { parseCronSchedule } from "../../src/domain/cron-schedule";

function next(expression: string, timezone: string, after: string): string | undefined {
  const parsed = parseCronSchedule(expression, timezone);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.schedule.nextAfter(new Date(after))?.toISOString();
}

describe("parseCronSchedule", () => {
  it("gives the first due time strictly after the given instant", () => {
    expect(next("0 * * * *", "UTC", "2026-03-01T10:00:00.000Z")).toBe("2026-03-01T11:00:00.000Z");
    expect(next("0 * * * *", "UTC", "2026-03-01T10:59:59.999Z")).toBe("2026-03-01T11:00:00.000Z");
    expect(next("*/15 * * * *", "UTC", "2026-03-01T10:07:00.000Z")).toBe("2026-03-01T10:15:00.000Z");
  });

  it("reads the expression in its time zone, across daylight saving changes", () => {
    // 02:00 in Berlin: UTC+1 in winter, UTC+2 from 29 March 2026.
    expect(next("0 2 * * *", "Europe/Berlin", "2026-03-27T12:00:00.000Z")).toBe("2026-03-28T01:00:00.000Z");
    expect(next("0 3 * * *", "Europe/Berlin", "2026-03-29T12:00:00.000Z")).toBe("2026-03-30T01:00:00.000Z");
    expect(next("30 9 * * 1-5", "America/New_York", "2026-07-03T14:00:00.000Z")).toBe("2026-07-06T13:30:00.000Z");
  });

  it("refuses six-field expressions, bad fields and unknown zones with the parser's message", () => {
    const reason = (expression: string, timezone = "UTC") => {
      const parsed = parseCronSchedule(expression, timezone);
      return parsed.ok ? "parsed" : parsed.reason;
    };
    expect(reason("0 0 * * * *")).toMatch(/requires exactly 5 parts/);
    expect(reason("* * 32 * *")).toMatch(/day/i);
    expect(reason("")).toMatch(/invalid cron expression/);
    expect(reason("0 * * * *", "Nowhere/City")).toMatch(/invalid time zone 'Nowhere\/City'/);
  });
});
