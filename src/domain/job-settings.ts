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

export interface JobSettings {
  /** Blocks per extraction step. */
  readonly stepSize: number;
  /** Tries of a step or a chain-head read that fails with a retryable error, the first included, before the job fails. */
  readonly maxAttempts: number;
}

export interface JobSettingVars {
  readonly AMP_STEP_SIZE?: string;
  readonly AMP_STEP_MAX_ATTEMPTS?: string;
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

/** `AMP_STEP_SIZE` (default 1000 blocks) and `AMP_STEP_MAX_ATTEMPTS` (default 10), or the first one that is invalid. */
export function jobSettings(vars: JobSettingVars): JobSettingsResult {
  const stepSize = wholeNumberVar("AMP_STEP_SIZE", vars.AMP_STEP_SIZE, DEFAULT_STEP_SIZE, MAX_STEP_SIZE, "blocks");
  if (!stepSize.ok) return stepSize;
  const maxAttempts = wholeNumberVar("AMP_STEP_MAX_ATTEMPTS", vars.AMP_STEP_MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS, MAX_MAX_ATTEMPTS, "attempts");
  if (!maxAttempts.ok) return maxAttempts;
  return { ok: true, settings: { stepSize: stepSize.value, maxAttempts: maxAttempts.value } };
}
