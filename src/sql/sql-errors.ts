/**
 * Failures of a query the user can fix, each with the stable code the API
 * answers (src/api/errors.ts maps them to statuses). Anything else thrown
 * while planning or running a query is reported as a query error too, never
 * as a crash: squirreling throws plain Errors for bad SQL.
 */
export type SqlErrorCode =
  | "SQL_PARSE_ERROR"
  | "INVALID_PLAN"
  | "CATALOG_QUALIFIED_TABLE"
  | "UNQUALIFIED_TABLE"
  | "DATASET_NOT_FOUND"
  | "TABLE_NOT_FOUND"
  | "FUNCTION_NOT_FOUND"
  | "QUERY_ERROR"
  | "QUERY_LIMIT_EXCEEDED"
  // derived tables (`/schema`, registration)
  | "TABLE_REFERENCE_RESOLUTION"
  | "NO_TABLE_REFERENCES"
  | "SELF_REFERENCING_TABLE"
  | "SELF_REF_TABLE_NOT_FOUND"
  | "CYCLIC_DEPENDENCY"
  | "NON_INCREMENTAL_QUERY";

export class SqlInputError extends Error {
  constructor(
    readonly code: SqlErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "SqlInputError";
  }
}

/** R2 failing under a query: not the query's fault, so it is never reported as one. */
export class StorageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StorageError";
  }
}
