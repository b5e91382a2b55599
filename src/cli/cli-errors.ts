/** Exit codes scripts can rely on, and the errors that end the CLI with them. */

export const EXIT_OK = 0;
/** An API error (its error_code is printed), an unreachable API, or a job that ended FAILED or STOPPED. */
export const EXIT_FAILED = 1;
/** Bad usage: unknown command or option, a missing or malformed argument. */
export const EXIT_USAGE = 2;

/** Bad usage the CLI itself detects (a malformed reference or number), after commander parsed the line. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A job that ended without completing, or a local failure (a file that cannot be read), exit 1. */
export class CommandFailure extends Error {
  override name = "CommandFailure";
}
