import { foreignKey, index, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

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

/** Semver version tags plus the special `latest` and `dev` rows. */
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
