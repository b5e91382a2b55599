/**
 * Structured log lines: one JSON object per line, so Workers Logs (and any
 * log pipeline) can filter on its fields. Lines are written for job
 * transitions, steps, head reads and schedule runs, never per RPC call.
 */

export type LogEvent = "job_transition" | "step_completed" | "step_failed" | "head_read_failed" | "schedule_run";

/** The line for `event`, with `fields` flattened into it; undefined fields are left out. */
export function logLine(event: LogEvent, fields: Record<string, unknown>): string {
  const level = event === "step_failed" || event === "head_read_failed" || fields["to"] === "FAILED" ? "warn" : "info";
  return JSON.stringify({ level, event, ...fields });
}
