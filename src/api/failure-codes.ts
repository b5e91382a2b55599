import type { ErrorCode } from "./errors";

/**
 * The 500 code each endpoint answers when it fails unexpectedly (D1 or R2
 * down, a bug): the one the admin spec lists for it, so a client can tell
 * which operation failed. Where the spec lists several, the code of the
 * operation as a whole; a handler that knows the failing step more precisely
 * (MANIFEST_STORAGE_ERROR for R2, MANIFEST_LINKING_ERROR, ...) throws its own.
 * Endpoints the spec does not have get a code named the same way. Keys are
 * `METHOD /openapi/path`.
 */
const FAILURE_CODES = {
  "GET /datasets": "LIST_ALL_DATASETS_ERROR",
  "POST /datasets": "STORE_ERROR",
  "DELETE /datasets/{namespace}/{name}": "UNLINK_DATASET_MANIFESTS_ERROR",
  "GET /datasets/{namespace}/{name}/versions": "LIST_VERSION_TAGS_ERROR",
  "GET /datasets/{namespace}/{name}/versions/{revision}": "RESOLVE_REVISION_ERROR",
  "DELETE /datasets/{namespace}/{name}/versions/{version}": "DELETE_VERSION_TAG_ERROR",
  "GET /datasets/{namespace}/{name}/versions/{revision}/manifest": "RESOLVE_REVISION_ERROR",
  "POST /datasets/{namespace}/{name}/versions/{revision}/deploy": "GET_DATASET_ERROR",
  "GET /datasets/{namespace}/{name}/versions/{revision}/progress": "GET_DATASET_PROGRESS_ERROR",
  "GET /datasets/{namespace}/{name}/versions/{revision}/tables/{table}/progress": "GET_TABLE_PROGRESS_ERROR",
  "GET /datasets/{namespace}/{name}/versions/{revision}/tables/{table}/files": "LIST_TABLE_FILES_ERROR",
  "GET /datasets/{namespace}/{name}/versions/{revision}/tables/{table}/partitions": "LIST_TABLE_PARTITIONS_ERROR",
  "POST /datasets/{namespace}/{name}/versions/{revision}/tables/{table}/partitions/invalidate": "INVALIDATE_PARTITIONS_ERROR",
  "POST /datasets/{namespace}/{name}/versions/{revision}/tables/{table}/partitions/rebuild": "REBUILD_PARTITIONS_ERROR",
  "POST /manifests": "MANIFEST_REGISTRATION_ERROR",
  "DELETE /manifests": "LIST_ORPHANED_MANIFESTS_ERROR",
  "GET /manifests/{hash}": "MANIFEST_RETRIEVAL_ERROR",
  "DELETE /manifests/{hash}": "MANIFEST_DELETE_ERROR",
  "GET /manifests/{hash}/datasets": "LIST_DATASET_TAGS_ERROR",
  "GET /providers": "STORE_ERROR",
  "POST /providers": "STORE_ERROR",
  "GET /providers/{name}": "STORE_ERROR",
  "DELETE /providers/{name}": "STORE_ERROR",
  "GET /jobs": "LIST_JOBS_ERROR",
  "DELETE /jobs": "DELETE_JOBS_BY_STATUS_ERROR",
  "GET /jobs/{id}": "GET_JOB_ERROR",
  "DELETE /jobs/{id}": "DELETE_JOB_ERROR",
  "PUT /jobs/{id}/stop": "STOP_JOB_ERROR",
  "GET /jobs/{id}/events": "LIST_JOB_EVENTS_ERROR",
  "GET /jobs/{id}/progress": "GET_JOB_PROGRESS_ERROR",
  "GET /locations": "METADATA_DB_ERROR",
  "GET /locations/{id}": "METADATA_DB_ERROR",
  "DELETE /locations/{id}": "METADATA_DB_ERROR",
  "GET /locations/{location_id}/files": "METADATA_DB_ERROR",
  "GET /files/{file_id}": "METADATA_DB_ERROR",
  "GET /files/{file_id}/content": "METADATA_DB_ERROR",
  "PUT /datasets/{namespace}/{name}/versions/{revision}/schedule": "SET_SCHEDULE_ERROR",
  "GET /datasets/{namespace}/{name}/versions/{revision}/schedule": "GET_SCHEDULE_ERROR",
  "DELETE /datasets/{namespace}/{name}/versions/{revision}/schedule": "DELETE_SCHEDULE_ERROR",
  "GET /schedules": "LIST_SCHEDULES_ERROR",
  "GET /metrics": "METRICS_ERROR",
  "GET /manifests": "LIST_ALL_MANIFESTS_ERROR",
  "GET /jobs/{id}/events/{event_id}": "GET_JOB_EVENT_ERROR",
  "GET /datasets/{namespace}/{name}/versions/{revision}/jobs": "LIST_JOBS_ERROR",
  "GET /datasets/{namespace}/{name}/versions/{revision}/sync-progress": "GET_SYNC_PROGRESS_ERROR",
  "POST /datasets/{namespace}/{name}/versions/{revision}/restore": "RESTORE_TABLE_REVISION_ERROR",
  "POST /datasets/{namespace}/{name}/versions/{revision}/tables/{table_name}/restore": "RESTORE_TABLE_REVISION_ERROR",
  "GET /revisions": "LIST_ALL_TABLE_REVISIONS_ERROR",
  "GET /revisions/{id}": "GET_REVISION_BY_LOCATION_ID_ERROR",
  "POST /revisions": "REGISTER_TABLE_REVISION_ERROR",
  "POST /revisions/{id}/activate": "ACTIVATE_TABLE_REVISION_ERROR",
  "POST /revisions/deactivate": "DEACTIVATE_TABLE_REVISION_ERROR",
  "DELETE /revisions/{id}": "DELETE_TABLE_REVISION_ERROR",
  "DELETE /revisions/{id}/truncate": "TRUNCATE_ERROR",
  "DELETE /revisions/{id}/prune": "PRUNE_ERROR",
  "POST /revisions/{id}/restore": "REGISTER_FILES_ERROR",
  "GET /gc": "GC_PLAN_ERROR",
  "POST /gc": "GC_START_ERROR",
  "GET /gc/{id}": "GET_GC_RUN_ERROR",
  "GET /workers": "METADATA_DB_LIST_ERROR",
  "GET /workers/{id}": "METADATA_DB_GET_BY_ID_ERROR",
  "POST /query": "PLANNING_ERROR",
  "POST /schema": "DEPENDENCY_VERSION_RESOLUTION",
} as const satisfies Record<string, ErrorCode>;

/** `/jobs/:id` (Hono's route path) as `/jobs/{id}` (OpenAPI's). */
function openApiPath(routePath: string): string {
  return routePath.replace(/:(\w+)/g, "{$1}");
}

/** The endpoint's own 500 code, or INTERNAL_ERROR outside the documented endpoints (/openapi.json, /docs). */
export function failureCode(method: string, routePath: string): ErrorCode {
  const key = `${method.toUpperCase()} ${openApiPath(routePath)}`;
  return (FAILURE_CODES as Record<string, ErrorCode>)[key] ?? "INTERNAL_ERROR";
}

/** Every documented endpoint with its code, for the OpenAPI document's 500 descriptions and the tests. */
export function failureCodes(): ReadonlyMap<string, ErrorCode> {
  return new Map(Object.entries(FAILURE_CODES));
}
