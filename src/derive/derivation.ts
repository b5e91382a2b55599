/**
 * What a derived job's steps and probes need to know about its dataset,
 * loaded from its manifest and its pinned dependencies: each table's SQL,
 * the order tables run in (a table reading `self.<sibling>` after the
 * sibling, independent tables side by side), the dependency tables the SQL
 * reads, and the reference chain: the `blocks` table of the raw dataset the
 * dependencies lead to (derived-datasets.md §2.2), whose hashes the derived
 * files carry so they link into the same hash chain as raw data.
 */
import { kindTables } from "../domain/dataset-kinds/registry";
import { FatalError } from "../domain/errors";
import type { DerivedManifest } from "../domain/manifest/kinds";
import { parseManifest } from "../domain/manifest/parse";
import type { StepSourceContext } from "../domain/step-protocol";
import type { DatasetReference } from "../domain/revision";
import type { Db } from "../store/db";
import { readManifestObject } from "../store/manifests";
import { type CatalogTable, type ResolvedDataset, SqlCatalog } from "../sql/catalog";
import { SqlInputError } from "../sql/sql-errors";
import { rewriteSql } from "../sql/sql-rewrite";

/** A table of the dataset: its SQL and the siblings it reads. */
export interface DerivedTableSql {
  name: string;
  sql: string;
  siblings: readonly string[];
}

/** How the step's SQL sees tables: dependency aliases (pinned) and `self.` siblings, nothing else. */
export type StepCatalog = Pick<SqlCatalog, "table" | "files">;

export interface Derivation {
  manifest: DerivedManifest;
  catalog: StepCatalog;
  /** Tables grouped into levels: each level reads only tables of earlier levels. */
  levels: readonly (readonly DerivedTableSql[])[];
  /** The dependency tables the SQL reads (no `self.` siblings). */
  sources: readonly CatalogTable[];
  /** The raw `blocks` table whose canonical chain gives block hashes. */
  reference: CatalogTable;
  /** Whether each table's SQL reads history besides a microbatch's blocks, once planned. */
  readsHistory: Map<string, boolean>;
}

/** Raw datasets have their block hashes in this table. */
const REFERENCE_TABLE = "blocks";

/** Tables in levels by their `self.` references; registration already refused cycles. */
function levelsOf(tables: readonly DerivedTableSql[]): DerivedTableSql[][] {
  const levels: DerivedTableSql[][] = [];
  const placed = new Set<string>();
  let rest = [...tables];
  while (rest.length > 0) {
    const ready = rest.filter((table) => table.siblings.every((sibling) => placed.has(sibling)));
    if (ready.length === 0) throw new FatalError("query_failed", `tables read each other in a cycle: ${rest.map((t) => t.name).join(", ")}`);
    levels.push(ready);
    for (const table of ready) placed.add(table.name);
    rest = rest.filter((table) => !ready.includes(table));
  }
  return levels;
}

/** The first raw dataset with a `blocks` table found breadth first from the dependencies, preferring the job's network. */
async function referenceTable(db: Db, bucket: R2Bucket, catalog: SqlCatalog, aliases: readonly string[], network: string): Promise<CatalogTable> {
  const queue: { catalog: SqlCatalog; alias: string }[] = aliases.map((alias) => ({ catalog, alias }));
  let fallback: CatalogTable | null = null;
  for (let visited = 0; queue.length > 0 && visited < 64; visited++) {
    const next = queue.shift()!;
    const dataset = await next.catalog.dataset(next.alias);
    const manifest = dataset.manifest;
    if (manifest.kind === "manifest") {
      const nested = new SqlCatalog(db, bucket, { dependencies: manifest.dependencies });
      for (const alias of Object.keys(manifest.dependencies).sort()) queue.push({ catalog: nested, alias });
      continue;
    }
    if (!kindTables(manifest).some((table) => table.name === REFERENCE_TABLE)) continue;
    const table = await next.catalog.table(next.alias, REFERENCE_TABLE);
    if (manifest.network === network) return table;
    fallback ??= table;
  }
  if (fallback) return fallback;
  throw new FatalError("query_failed", "no dependency leads to a raw dataset with a blocks table, which gives derived files their block hashes");
}

export async function loadDerivation(db: Db, bucket: R2Bucket, context: StepSourceContext): Promise<Derivation> {
  const text = await readManifestObject(bucket, context.manifestHash);
  const parsed = text === null ? null : parseManifest(JSON.parse(text));
  if (!parsed?.ok || parsed.manifest.kind !== "manifest") throw new FatalError("query_failed", `manifest ${context.manifestHash} is not a readable derived manifest`);
  const manifest = parsed.manifest;
  const pins: Record<string, DatasetReference> = Object.fromEntries(
    Object.entries(context.dependencies).map(([alias, pin]) => [alias, { namespace: pin.namespace, name: pin.name, revision: { kind: "hash", hash: pin.hash } }]),
  );
  const inner = new SqlCatalog(db, bucket, { dependencies: pins });
  const own: ResolvedDataset = { reference: "self", hash: context.manifestHash, manifest };
  const ownTables = kindTables(manifest);
  const catalog: StepCatalog = {
    async table(schema, table) {
      if (schema === "self") {
        const sibling = ownTables.find((t) => t.name === table);
        if (!sibling) throw new SqlInputError("SELF_REF_TABLE_NOT_FOUND", `self.${table}: the dataset has no table '${table}'`);
        return { dataset: own, name: table, fields: sibling.fields, network: context.network, startBlock: context.startBlock };
      }
      if (!(schema in pins)) throw new SqlInputError("TABLE_REFERENCE_RESOLUTION", `'${schema}' is not a dependency alias of this dataset`);
      return inner.table(schema, table);
    },
    files: (table) => inner.files(table),
  };

  const tables: DerivedTableSql[] = [];
  const sources = new Map<string, CatalogTable>();
  for (const [name, definition] of Object.entries(manifest.tables).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const rewritten = rewriteSql(definition.input.sql);
    const siblings = new Set<string>();
    for (const ref of rewritten.tables) {
      if (ref.schema === "self") siblings.add(ref.table);
      else sources.set(`${ref.schema}.${ref.table}`, await catalog.table(ref.schema, ref.table));
    }
    tables.push({ name, sql: definition.input.sql, siblings: [...siblings] });
  }
  const reference = await referenceTable(db, bucket, inner, Object.keys(pins).sort(), context.network);
  return { manifest, catalog, levels: levelsOf(tables), sources: [...sources.values()], reference, readsHistory: new Map() };
}
