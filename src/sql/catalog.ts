/**
 * Which dataset and table a schema-qualified name in SQL means, and what of
 * it can be read (derived-datasets.md §1.4, HEAD's order):
 * 1. `self` → a table of the dataset being derived (only with a context);
 * 2. a dependency alias of that dataset → the revision it pins;
 * 3. otherwise a partial reference `[namespace/]name[@revision]` looked up in
 *    the registry: namespace `_` and revision `latest` when left out (ad hoc
 *    queries, which may name any registered dataset).
 * A table's data is the canonical chain of its active location; a table
 * without one has no files yet and reads as empty.
 */
import { kindTables } from "../domain/dataset-kinds/registry";
import type { Manifest } from "../domain/manifest/kinds";
import { parseManifest } from "../domain/manifest/parse";
import { type DatasetReference, formatDatasetReference, parsePartialDatasetReference, type Revision } from "../domain/revision";
import type { Db } from "../store/db";
import { findActiveLocation } from "../store/locations";
import { readManifestObject } from "../store/manifests";
import { resolveRevision } from "../store/revisions";
import { listCanonicalFiles } from "../store/canonical-files";
import type { TableFile } from "./parquet-table";
import { SqlInputError } from "./sql-errors";
import type { SqlField } from "./sql-types";

export interface ResolvedDataset {
  /** `namespace/name@revision` as it resolved. */
  reference: string;
  hash: string;
  manifest: Manifest;
}

export interface CatalogTable {
  /** null for a `self.` table, whose schema is the one inferred for it so far. */
  dataset: ResolvedDataset | null;
  name: string;
  fields: readonly SqlField[];
  network: string;
  startBlock: number;
}

/** A derived dataset's own names: its aliases and, for `self.`, its sibling tables' schemas so far. */
export interface DerivationContext {
  dependencies: Record<string, DatasetReference>;
  selfTables?: Record<string, { fields: readonly SqlField[]; network: string }>;
}

export class SqlCatalog {
  private readonly datasets = new Map<string, Promise<ResolvedDataset>>();

  constructor(
    private readonly db: Db,
    private readonly bucket: R2Bucket,
    private readonly context?: DerivationContext,
  ) {}

  /** A dataset by the schema part of a qualified name; SqlInputError when there is none. */
  dataset(schema: string): Promise<ResolvedDataset> {
    let found = this.datasets.get(schema);
    if (!found) {
      found = this.lookUp(schema);
      this.datasets.set(schema, found);
    }
    return found;
  }

  private async lookUp(schema: string): Promise<ResolvedDataset> {
    const pinned = this.context?.dependencies[schema];
    let namespace: string;
    let name: string;
    let revision: Revision;
    if (pinned) {
      ({ namespace, name, revision } = pinned);
    } else {
      const partial = parsePartialDatasetReference(schema);
      if (!partial) throw new SqlInputError("DATASET_NOT_FOUND", `'${schema}' is neither a dependency alias nor a dataset reference`);
      namespace = partial.namespace ?? "_";
      name = partial.name;
      revision = partial.revision ?? { kind: "latest" };
    }
    const reference = formatDatasetReference({ namespace, name, revision });
    const resolved = await resolveRevision(this.db, { namespace, name }, revision);
    if (!resolved) throw new SqlInputError("DATASET_NOT_FOUND", `dataset ${reference} (from '${schema}') is not registered`);
    const text = await readManifestObject(this.bucket, resolved.hash);
    const parsed = text === null ? null : parseManifest(safeJson(text));
    if (!parsed?.ok) throw new SqlInputError("DATASET_NOT_FOUND", `the manifest of ${reference} cannot be read`);
    return { reference, hash: resolved.hash, manifest: parsed.manifest };
  }

  async table(schema: string, table: string): Promise<CatalogTable> {
    const self = this.context?.selfTables;
    if (schema === "self" && self) {
      const sibling = self[table];
      if (!sibling) throw new SqlInputError("SELF_REF_TABLE_NOT_FOUND", `self.${table}: the dataset has no table '${table}'`);
      return { dataset: null, name: table, fields: sibling.fields, network: sibling.network, startBlock: 0 };
    }
    const dataset = await this.dataset(schema);
    const found = kindTables(dataset.manifest).find((t) => t.name === table);
    if (!found) {
      const names = kindTables(dataset.manifest).map((t) => t.name).join(", ");
      throw new SqlInputError("TABLE_NOT_FOUND", `table '${table}' not found in ${dataset.reference} (tables: ${names})`);
    }
    const manifest = dataset.manifest;
    const network = manifest.kind === "manifest" ? (manifest.tables[table]?.network ?? "") : manifest.network;
    // A derived table starts where its own dependencies do, which its manifest does not say: any chain counts.
    const startBlock = manifest.kind === "manifest" ? Number.MAX_SAFE_INTEGER : manifest.start_block;
    return { dataset, name: table, fields: found.fields, network, startBlock };
  }

  /** The files of the table's canonical chain; none when it has no active location yet. */
  async files(table: CatalogTable): Promise<TableFile[]> {
    if (table.dataset === null) return [];
    const location = await findActiveLocation(this.db, table.dataset.hash, table.name);
    if (!location) return [];
    const canonical = await listCanonicalFiles(this.db, location, table.startBlock);
    return Promise.all(
      canonical.map(async (file) => ({
        key: file.key,
        size: file.size ?? (await this.bucket.head(file.key))?.size ?? 0,
        range: file.range,
        hash: file.hash,
      })),
    );
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
