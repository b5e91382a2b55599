/**
 * Job settings that come from the Worker's vars rather than from a deploy
 * body. They are checked when a job is scheduled, so a bad value refuses the
 * deploy with a clear message instead of failing inside the runner.
 */

/** Blocks per step when `AMP_STEP_SIZE` is not set. */
export const DEFAULT_STEP_SIZE = 1000;
/** A step must fit a consumer's wall time and memory; a million blocks is far past either. */
export const MAX_STEP_SIZE = 1_000_000;
/** Tries of a failing step or chain-head read when `AMP_STEP_MAX_ATTEMPTS` is not set. */
export const DEFAULT_MAX_ATTEMPTS = 10;
/** With backoff capped at a minute, a hundred tries already keep a broken job alive for well over an hour. */
export const MAX_MAX_ATTEMPTS = 100;
/** How often a job that waits for new blocks reads the chain head when `AMP_HEAD_POLL_MS` is not set: about a block time. */
export const DEFAULT_HEAD_POLL_MS = 10_000;
/** An hour: a job that polls less often than that is not following the head. */
export const MAX_HEAD_POLL_MS = 3_600_000;

export interface JobSettings {
  /** Blocks per extraction step. */
  readonly stepSize: number;
  /** Tries of a step or a chain-head read that fails with a retryable error, the first included, before the job fails. */
  readonly maxAttempts: number;
  /** Milliseconds between two head reads of a job that waits for new blocks (a continuous one, or one whose end is ahead). */
  readonly headPollMs: number;
}

export interface JobSettingVars {
  readonly AMP_STEP_SIZE?: string;
  readonly AMP_STEP_MAX_ATTEMPTS?: string;
  readonly AMP_HEAD_POLL_MS?: string;
}

export type JobSettingsResult = { ok: true; settings: JobSettings } | { ok: false; reason: string };

type Setting = { ok: true; value: number } | { ok: false; reason: string };

/** Decimal digits without leading zeros, 1 to `max`; absent or empty means `fallback`. */
function wholeNumberVar(name: string, value: string | undefined, fallback: number, max: number, unit: string): Setting {
  if (value === undefined || value === "") return { ok: true, value: fallback };
  if (!/^[1-9][0-9]*$/.test(value) || Number(value) > max) {
    return { ok: false, reason: `${name} must be a whole number of ${unit} from 1 to ${max}, not ${JSON.stringify(value)}` };
  }
  return { ok: true, value: Number(value) };
}

/** `AMP_STEP_SIZE` (default 1000 blocks), `AMP_STEP_MAX_ATTEMPTS` (default 10) and `AMP_HEAD_POLL_MS` (default 10 s), or the first one that is invalid. */
export function jobSettings(vars: JobSettingVars): JobSettingsResult {
  const stepSize = wholeNumberVar("AMP_STEP_SIZE", vars.AMP_STEP_SIZE, DEFAULT_STEP_SIZE, MAX_STEP_SIZE, "blocks");
  if (!stepSize.ok) return stepSize;
  const maxAttempts = wholeNumberVar("AMP_STEP_MAX_ATTEMPTS", vars.AMP_STEP_MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS, MAX_MAX_ATTEMPTS, "attempts");
  if (!maxAttempts.ok) return maxAttempts;
  const headPollMs = wholeNumberVar("AMP_HEAD_POLL_MS", vars.AMP_HEAD_POLL_MS, DEFAULT_HEAD_POLL_MS, MAX_HEAD_POLL_MS, "milliseconds");
  if (!headPollMs.ok) return headPollMs;
  return { ok: true, settings: { stepSize: stepSize.value, maxAttempts: maxAttempts.value, headPollMs: headPollMs.value } };
}
