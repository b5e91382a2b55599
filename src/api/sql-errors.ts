import { SqlInputError } from "../sql/sql-errors";
import { ApiError, type ErrorCode } from "./errors";

/**
 * A failed query or schema inference as the API answers it. The engine's
 * own codes map to the original's (derived-datasets.md §4.3, §5.1); a
 * missing dataset is DATASET_NOT_FOUND for a query and DEPENDENCY_NOT_FOUND
 * for `/schema`, as there. Errors that are not a query's fault stay
 * unhandled, so they reach the app's INTERNAL_ERROR with a log line.
 */
export function sqlApiError(error: unknown, context: "query" | "schema"): unknown {
  if (!(error instanceof SqlInputError)) return error;
  const codes: Record<SqlInputError["code"], ErrorCode> = {
    SQL_PARSE_ERROR: context === "schema" ? "INVALID_TABLE_SQL" : "SQL_PARSE_ERROR",
    INVALID_PLAN: "INVALID_PLAN",
    CATALOG_QUALIFIED_TABLE: "CATALOG_QUALIFIED_TABLE",
    UNQUALIFIED_TABLE: context === "schema" ? "SCHEMA_INFERENCE" : "TABLE_REFERENCE_RESOLUTION",
    DATASET_NOT_FOUND: context === "schema" ? "DEPENDENCY_NOT_FOUND" : "DATASET_NOT_FOUND",
    TABLE_NOT_FOUND: context === "schema" ? "SCHEMA_INFERENCE" : "TABLE_NOT_FOUND",
    FUNCTION_NOT_FOUND: context === "schema" ? "SCHEMA_INFERENCE" : "FUNCTION_REFERENCE_RESOLUTION",
    QUERY_ERROR: "QUERY_ERROR",
    QUERY_LIMIT_EXCEEDED: "QUERY_LIMIT_EXCEEDED",
    TABLE_REFERENCE_RESOLUTION: "TABLE_REFERENCE_RESOLUTION",
    NO_TABLE_REFERENCES: "NO_TABLE_REFERENCES",
    SELF_REFERENCING_TABLE: "SELF_REFERENCING_TABLE",
    SELF_REF_TABLE_NOT_FOUND: "SELF_REF_TABLE_NOT_FOUND",
    CYCLIC_DEPENDENCY: "CYCLIC_DEPENDENCY",
    NON_INCREMENTAL_QUERY: "NON_INCREMENTAL_QUERY",
  };
  return new ApiError(codes[error.code], error.message);
}
