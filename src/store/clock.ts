/** The current time as the RFC 3339 UTC string every table stores, e.g. `2025-11-06T12:56:59.123Z`. */
export function nowTimestamp(): string {
  return new Date().toISOString();
}
