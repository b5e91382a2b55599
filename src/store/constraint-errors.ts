/**
 * D1 reports a violated constraint only in the error's message (or its
 * cause's), so the stores that turn one into an outcome read it there.
 */
export function isConstraintViolation(error: unknown, constraint: "UNIQUE" | "FOREIGN KEY"): boolean {
  const message = error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : String(error);
  return message.toUpperCase().includes(`${constraint} CONSTRAINT FAILED`);
}
