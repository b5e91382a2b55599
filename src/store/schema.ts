import { sql } from "drizzle-orm";
import { foreignKey, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** Timestamps are RFC 3339 UTC strings ending in `Z`, written by the application. */
const timestamp = (name: string) => text(name).notNull();

/** Content-addressed manifests; the canonical bytes live in R2 under `manifests/<hash>`. */
export const manifestFiles = sqliteTable("manifest_files", {
  hash: text("hash").primaryKey(),
  path: text("path").notNull(),
  kind: text("kind").notNull(),
  createdAt: timestamp("created_at"),
});

/** Many-to-many link between a dataset (namespace, name) and its manifests. */
export const datasetManifests = sqliteTable(
  "dataset_manifests",
  {
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    hash: text("hash")
      .notNull()
      .references(() => manifestFiles.hash, { onDelete: "cascade" }),
    createdAt: timestamp("created_at"),
  },
  (t) => [primaryKey({ columns: [t.namespace, t.name, t.hash] }), index("dataset_manifests_hash_idx").on(t.hash)],
);

/** Semver version tags plus the special `dev` row; `latest` is derived as the highest version, not stored. */
export const tags = sqliteTable(
  "tags",
  {
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    version: text("version").notNull(),
    hash: text("hash").notNull(),
    createdAt: timestamp("created_at"),
    updatedAt: timestamp("updated_at"),
  },
  (t) => [
    primaryKey({ columns: [t.namespace, t.name, t.version] }),
    foreignKey({
      columns: [t.namespace, t.name, t.hash],
      foreignColumns: [datasetManifests.namespace, datasetManifests.name, datasetManifests.hash],
    }).onDelete("cascade"),
    index("tags_hash_idx").on(t.hash),
  ],
);

/** Data source providers; `config` holds the kind-specific fields as JSON. */
export const providers = sqliteTable("providers", {
  name: text("name").primaryKey(),
  kind: text("kind").notNull(),
  network: text("network").notNull(),
  config: text("config", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
  createdAt: timestamp("created_at"),
});

/** Executors that run steps (queue consumers) or own jobs (JobRunners), with their liveness. */
export const workers = sqliteTable("workers", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  nodeId: text("node_id").notNull().unique(),
  info: text("info", { mode: "json" }).$type<Record<string, string>>().notNull(),
  createdAt: timestamp("created_at"),
  registeredAt: timestamp("registered_at"),
  heartbeatAt: timestamp("heartbeat_at"),
});

/**
 * Jobs, mirrored from their JobRunner Durable Object, which owns the state
 * machine. A job's node id is its runner's (`jobrunner-<id>`), so it is not stored.
 */
export const jobs = sqliteTable(
  "jobs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    manifestHash: text("manifest_hash").notNull(),
    descriptor: text("descriptor", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    status: text("status").notNull(),
    failureReason: text("failure_reason"),
    /** The provider the job's runner chose when the job started; null until then, and for jobs that never ran. */
    providerName: text("provider_name"),
    createdAt: timestamp("created_at"),
    updatedAt: timestamp("updated_at"),
  },
  (t) => [
    index("jobs_manifest_status_idx").on(t.manifestHash, t.status),
    index("jobs_status_idx").on(t.status),
    // At most one job per manifest that blocks a new deploy: concurrent deploys cannot both insert.
    uniqueIndex("jobs_one_active_per_manifest_idx")
      .on(t.manifestHash)
      .where(sql`${t.status} IN ('SCHEDULED', 'RUNNING')`),
  ],
);

/** A job's timeline: every transition and step outcome, oldest first by id. */
export const jobEvents = sqliteTable(
  "job_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    jobId: integer("job_id")
      .notNull()
      .references(() => jobs.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(),
    detail: text("detail", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp("created_at"),
  },
  (t) => [index("job_events_job_idx").on(t.jobId, t.id)],
);

/** One storage revision (R2 prefix) of a logical table (manifest hash, table name). */
export const locations = sqliteTable(
  "locations",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    manifestHash: text("manifest_hash").notNull(),
    tableName: text("table_name").notNull(),
    datasetNamespace: text("dataset_namespace").notNull(),
    datasetName: text("dataset_name").notNull(),
    bucket: text("bucket").notNull(),
    path: text("path").notNull(),
    url: text("url").notNull().unique(),
    active: integer("active", { mode: "boolean" }).notNull(),
    writer: integer("writer").references(() => jobs.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at"),
  },
  (t) => [
    uniqueIndex("locations_one_active_idx")
      .on(t.manifestHash, t.tableName)
      .where(sql`${t.active} = 1`),
    index("locations_writer_idx").on(t.writer),
  ],
);

/** One row per Parquet file: a contiguous, hash-linked block range of one table. */
export const files = sqliteTable(
  "files",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    locationId: integer("location_id")
      .notNull()
      .references(() => locations.id, { onDelete: "cascade" }),
    fileName: text("file_name").notNull(),
    rangeStart: integer("range_start").notNull(),
    rangeEnd: integer("range_end").notNull(),
    endHash: text("end_hash").notNull(),
    prevHash: text("prev_hash"),
    rowCount: integer("row_count").notNull(),
    objectSize: integer("object_size"),
    objectETag: text("object_e_tag"),
    objectVersion: text("object_version"),
    metadata: text("metadata", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp("created_at"),
  },
  (t) => [uniqueIndex("files_location_name_idx").on(t.locationId, t.fileName), index("files_location_range_idx").on(t.locationId, t.rangeEnd)],
);

/**
 * Running progress aggregate of a location's canonical chain, kept by the
 * writer job so the progress API never reads every file row.
 */
export const locationProgress = sqliteTable("location_progress", {
  locationId: integer("location_id")
    .primaryKey()
    .references(() => locations.id, { onDelete: "cascade" }),
  startBlock: integer("start_block"),
  currentBlock: integer("current_block"),
  filesCount: integer("files_count").notNull(),
  totalSizeBytes: integer("total_size_bytes").notNull(),
  updatedAt: timestamp("updated_at"),
});

/**
 * A cron schedule per dataset revision, as the revision was named (`latest`
 * follows new versions). `next_run_at` is the due time the Cron trigger
 * claims with a compare-and-set, so each due time deploys at most once.
 */
export const schedules = sqliteTable(
  "schedules",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    revision: text("revision").notNull(),
    cron: text("cron").notNull(),
    timezone: text("timezone").notNull(),
    /** The deploy's end_block as given: null, a string or an integer. */
    endBlock: text("end_block", { mode: "json" }).$type<string | number | null>(),
    parallelism: integer("parallelism").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    /** Null while disabled or once the expression never fires again. */
    nextRunAt: text("next_run_at"),
    /** The last due time claimed, what came of it, and the job it deployed or found running. */
    lastDueAt: text("last_due_at"),
    lastRunAt: text("last_run_at"),
    lastOutcome: text("last_outcome"),
    lastJobId: integer("last_job_id"),
    lastMessage: text("last_message"),
    createdAt: timestamp("created_at"),
    updatedAt: timestamp("updated_at"),
  },
  (t) => [uniqueIndex("schedules_revision_idx").on(t.namespace, t.name, t.revision), index("schedules_due_idx").on(t.enabled, t.nextRunAt)],
);

/**
 * The chain head a manifest's job last read from its provider, for the lag
 * of each table behind the head in GET /metrics. Written at every head read.
 */
export const chainHeads = sqliteTable("chain_heads", {
  manifestHash: text("manifest_hash").primaryKey(),
  network: text("network").notNull(),
  headBlock: integer("head_block").notNull(),
  observedAt: timestamp("observed_at"),
});

/**
 * Files a revision prune (`DELETE /revisions/{id}/prune`) handed to garbage collection: each may be deleted
 * once `expires_at` has passed, if it is still off its location's canonical chain then.
 */
export const gcScheduledFiles = sqliteTable(
  "gc_scheduled_files",
  {
    fileId: integer("file_id")
      .primaryKey()
      .references(() => files.id, { onDelete: "cascade" }),
    locationId: integer("location_id")
      .notNull()
      .references(() => locations.id, { onDelete: "cascade" }),
    expiresAt: timestamp("expires_at"),
  },
  (t) => [index("gc_scheduled_files_expiry_idx").on(t.expiresAt)],
);

/**
 * Garbage collection runs (`POST /gc`, the daily Cron run): a job-like status to poll. `scheduled_for` is the
 * UTC day of a Cron run, unique, so the minute trigger starts at most one a day however often it fires.
 */
export const gcRuns = sqliteTable("gc_runs", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  status: text("status").notNull(),
  trigger: text("trigger").notNull(),
  olderThanSecs: integer("older_than_secs").notNull(),
  cutoff: timestamp("cutoff"),
  scheduledFor: text("scheduled_for").unique(),
  filesRemoved: integer("files_removed").notNull(),
  objectsRemoved: integer("objects_removed").notNull(),
  bytesRemoved: integer("bytes_removed").notNull(),
  error: text("error"),
  createdAt: timestamp("created_at"),
  updatedAt: timestamp("updated_at"),
  finishedAt: text("finished_at"),
});

/**
 * Prefixes of locations whose row `DELETE /revisions/{id}` deleted while their objects stay in R2: garbage
 * collection deletes those objects once the grace period has passed, unless a location row names the prefix again.
 */
export const gcDeletedLocations = sqliteTable("gc_deleted_locations", {
  url: text("url").primaryKey(),
  path: text("path").notNull(),
  deletedAt: timestamp("deleted_at"),
});

/**
 * Block ranges of a location taken out of counting (`POST .../partitions/invalidate`, and a derived table's
 * dependants with it): files registered up to `file_id_ceiling` that hold a block of the range no longer count
 * in the canonical chain. Append-only: a rebuild adds newer files, it does not remove the row. `cause_id` names
 * the invalidation of the dependency this one followed from.
 */
export const partitionInvalidations = sqliteTable(
  "partition_invalidations",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    locationId: integer("location_id")
      .notNull()
      .references(() => locations.id, { onDelete: "cascade" }),
    rangeStart: integer("range_start").notNull(),
    rangeEnd: integer("range_end").notNull(),
    fileIdCeiling: integer("file_id_ceiling").notNull(),
    reason: text("reason").notNull(),
    requestedBy: text("requested_by").notNull(),
    causeId: integer("cause_id"),
    createdAt: timestamp("created_at"),
  },
  (t) => [index("partition_invalidations_location_idx").on(t.locationId, t.rangeStart)],
);
