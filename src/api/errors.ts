import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Every error code the API can answer, with its HTTP status. The codes are
 * those of the admin spec; a code is added here before any handler uses it.
 */
const errorStatus = {
  // generic
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  AUTH_NOT_CONFIGURED: 503,
  INTERNAL_ERROR: 500,
  // request shape
  INVALID_PATH: 400,
  INVALID_BODY: 400,
  INVALID_PAYLOAD_FORMAT: 400,
  INVALID_REQUEST_BODY: 400,
  INVALID_QUERY_PARAM: 400,
  INVALID_QUERY_PARAMETERS: 400,
  INVALID_HASH: 400,
  INVALID_JOB_ID: 400,
  INVALID_LOCATION_ID: 400,
  INVALID_FILE_ID: 400,
  INVALID_WORKER_ID: 400,
  INVALID_PROVIDER_NAME: 400,
  LIMIT_INVALID: 400,
  LIMIT_TOO_LARGE: 400,
  // datasets and manifests
  INVALID_MANIFEST: 400,
  UNSUPPORTED_DATASET_KIND: 400,
  DEPENDENCY_VALIDATION_ERROR: 400,
  CANNOT_DELETE_LATEST_VERSION: 400,
  DATASET_NOT_FOUND: 404,
  MANIFEST_NOT_FOUND: 404,
  MANIFEST_LINKED: 409,
  MANIFEST_REGISTRATION_ERROR: 500,
  MANIFEST_STORAGE_ERROR: 500,
  MANIFEST_LINKING_ERROR: 500,
  // providers
  DATA_CONVERSION_ERROR: 400,
  PROVIDER_NOT_FOUND: 404,
  PROVIDER_CONFLICT: 409,
  // jobs, locations, files, workers
  JOB_NOT_FOUND: 404,
  EVENT_NOT_FOUND: 404,
  JOB_CONFLICT: 409,
  LOCATION_NOT_FOUND: 404,
  ACTIVE_LOCATION_CONFLICT: 409,
  ONGOING_JOB_CONFLICT: 409,
  FILE_NOT_FOUND: 404,
  RANGE_NOT_SATISFIABLE: 416,
  WORKER_NOT_FOUND: 404,
  SCHEDULER_ERROR: 500,
  WORKER_NOT_AVAILABLE: 400,
  UNEXPECTED_STATE_CONFLICT: 500,
  TABLE_NOT_FOUND: 404,
  // partitions
  INVALID_BLOCK_RANGE: 400,
  LIST_TABLE_PARTITIONS_ERROR: 500,
  INVALIDATE_PARTITIONS_ERROR: 500,
  REBUILD_PARTITIONS_ERROR: 500,
  // an endpoint that fails unexpectedly (failure-codes.ts)
  LIST_ALL_DATASETS_ERROR: 500,
  STORE_ERROR: 500,
  UNLINK_DATASET_MANIFESTS_ERROR: 500,
  LIST_VERSION_TAGS_ERROR: 500,
  RESOLVE_REVISION_ERROR: 500,
  DELETE_VERSION_TAG_ERROR: 500,
  GET_DATASET_ERROR: 500,
  GET_DATASET_PROGRESS_ERROR: 500,
  GET_TABLE_PROGRESS_ERROR: 500,
  LIST_TABLE_FILES_ERROR: 500,
  LIST_ORPHANED_MANIFESTS_ERROR: 500,
  MANIFEST_RETRIEVAL_ERROR: 500,
  MANIFEST_DELETE_ERROR: 500,
  LIST_DATASET_TAGS_ERROR: 500,
  LIST_JOBS_ERROR: 500,
  DELETE_JOBS_BY_STATUS_ERROR: 500,
  GET_JOB_ERROR: 500,
  DELETE_JOB_ERROR: 500,
  STOP_JOB_ERROR: 500,
  LIST_JOB_EVENTS_ERROR: 500,
  GET_JOB_PROGRESS_ERROR: 500,
  METADATA_DB_ERROR: 500,
  METADATA_DB_LIST_ERROR: 500,
  METADATA_DB_GET_BY_ID_ERROR: 500,
  // schedules
  SCHEDULE_NOT_FOUND: 404,
  SET_SCHEDULE_ERROR: 500,
  GET_SCHEDULE_ERROR: 500,
  DELETE_SCHEDULE_ERROR: 500,
  LIST_SCHEDULES_ERROR: 500,
  // metrics
  METRICS_ERROR: 500,
  // table revisions (the original's name for locations) and restores
  INVALID_PATH_PARAMETERS: 400,
  REVISION_NOT_FOUND: 404,
  TABLE_NOT_IN_MANIFEST: 404,
  TABLE_NOT_REGISTERED: 404,
  REVISION_IS_ACTIVE: 409,
  WRITER_JOB_NOT_TERMINAL: 409,
  REVISION_TABLE_MISMATCH: 409,
  INVALID_STORED_FILE: 422,
  LIST_ALL_MANIFESTS_ERROR: 500,
  GET_JOB_EVENT_ERROR: 500,
  GET_SYNC_PROGRESS_ERROR: 500,
  RESTORE_TABLE_REVISION_ERROR: 500,
  LIST_ALL_TABLE_REVISIONS_ERROR: 500,
  GET_REVISION_BY_LOCATION_ID_ERROR: 500,
  REGISTER_TABLE_REVISION_ERROR: 500,
  ACTIVATE_TABLE_REVISION_ERROR: 500,
  DEACTIVATE_TABLE_REVISION_ERROR: 500,
  DELETE_TABLE_REVISION_ERROR: 500,
  TRUNCATE_ERROR: 500,
  PRUNE_ERROR: 500,
  REGISTER_FILES_ERROR: 500,
  // SQL: POST /query and POST /schema (derived-datasets.md §4.3, §5.1)
  INVALID_SQL_STRING: 400,
  SQL_PARSE_ERROR: 400,
  INVALID_PLAN: 400,
  QUERY_ERROR: 400,
  CATALOG_QUALIFIED_TABLE: 400,
  TABLE_REFERENCE_RESOLUTION: 400,
  FUNCTION_REFERENCE_RESOLUTION: 400,
  QUERY_LIMIT_EXCEEDED: 413,
  EMPTY_TABLES_AND_FUNCTIONS: 400,
  INVALID_TABLE_SQL: 400,
  INVALID_TABLE_NAME: 400,
  NO_TABLE_REFERENCES: 400,
  SELF_REFERENCING_TABLE: 400,
  SELF_REF_TABLE_NOT_FOUND: 400,
  CYCLIC_DEPENDENCY: 400,
  NON_INCREMENTAL_QUERY: 400,
  SCHEMA_INFERENCE: 400,
  DEPENDENCY_NOT_FOUND: 404,
  PLANNING_ERROR: 500,
  DEPENDENCY_VERSION_RESOLUTION: 500,
  // garbage collection
  GC_RUN_NOT_FOUND: 404,
  GC_PLAN_ERROR: 500,
  GC_START_ERROR: 500,
  GET_GC_RUN_ERROR: 500,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof errorStatus;

/** A failure the API answers as `{error_code, error_message}`. */
export class ApiError extends Error {
  /** `options.cause`, for a 500, is logged, never answered: a store's error may name its queries and values. */
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "ApiError";
  }

  get status(): ContentfulStatusCode {
    return errorStatus[this.code];
  }
}

export interface ErrorBody {
  error_code: ErrorCode;
  error_message: string;
}

export function errorResponse(code: ErrorCode, message: string, headers?: HeadersInit): Response {
  const body: ErrorBody = { error_code: code, error_message: message };
  return new Response(JSON.stringify(body), {
    status: errorStatus[code],
    headers: { "content-type": "application/json", ...headers },
  });
}

/** Whether a code is one this API answers (the fuzzing campaign checks every answer against the list). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(errorStatus, code);
}
