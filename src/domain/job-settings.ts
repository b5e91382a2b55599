/**
 * Job settings that come from the Worker's vars rather than from a deploy
 * body. They are checked when a job is scheduled, so a bad value refuses the
 * deploy with a clear message instead of failing inside the runner.
 */

/** Blocks per step when `AMP_STEP_SIZE` is not set. */
export const DEFAULT_STEP_SIZE = 1000;
/** A step must fit a consumer's wall time and memory; a million blocks is far past either. */
export const MAX_STEP_SIZE = 1_000_000;

export type StepSizeSetting = { ok: true; stepSize: number } | { ok: false; reason: string };

/** `AMP_STEP_SIZE`: decimal digits without leading zeros, 1 to MAX_STEP_SIZE; absent or empty means the default. */
export function parseStepSize(value: string | undefined): StepSizeSetting {
  if (value === undefined || value === "") return { ok: true, stepSize: DEFAULT_STEP_SIZE };
  if (!/^[1-9][0-9]*$/.test(value) || Number(value) > MAX_STEP_SIZE) {
    return { ok: false, reason: `AMP_STEP_SIZE must be a whole number of blocks from 1 to ${MAX_STEP_SIZE}, not ${JSON.stringify(value)}` };
  }
  return { ok: true, stepSize: Number(value) };
}
