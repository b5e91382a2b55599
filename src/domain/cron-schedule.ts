/**
 * A schedule's cron expression and time zone, parsed with croner. Five fields
 * only (minute hour day-of-month month day-of-week): the Worker's Cron trigger
 * fires once a minute, so a seconds field could never be honoured.
 */
import { Cron } from "croner";

export interface CronSchedule {
  /** The first due time strictly after `after`, or null when the expression never fires again. */
  nextAfter(after: Date): Date | null;
}

export type CronParse = { readonly ok: true; readonly schedule: CronSchedule } | { readonly ok: false; readonly reason: string };

/** Validates an expression and an IANA time zone; the reason is croner's or Intl's own message. */
export function parseCronSchedule(expression: string, timezone: string): CronParse {
  try {
    // Throws a RangeError for an unknown zone, which croner would only notice when computing a run.
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
  } catch (error) {
    return { ok: false, reason: `invalid time zone '${timezone}': ${messageOf(error)}` };
  }
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone, paused: true, mode: "5-part" });
  } catch (error) {
    return { ok: false, reason: `invalid cron expression '${expression}': ${messageOf(error)}` };
  }
  return { ok: true, schedule: { nextAfter: (after) => cron.nextRun(after) } };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
