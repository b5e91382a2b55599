/**
 * The derived tables that read a table (`POST .../partitions/invalidate` invalidates them with it): every
 * active derived table whose SQL names it through a dependency alias, or names through `self.` a sibling that
 * does, and so on down the derived datasets reading those. Aliases resolve as they do now, which is what a
 * derived job pins when it starts.
 */
import type { DerivedManifest } from "../domain/manifest/kinds";
import { parseManifest } from "../domain/manifest/parse";
import type { Db } from "../store/db";
import { type Location, listActiveDerivedLocations } from "../store/locations";
import { readManifestObject } from "../store/manifests";
import { resolveRevision } from "../store/revisions";
import { rewriteSql } from "../sql/sql-rewrite";

/** A table by manifest. */
export interface TableKey {
  readonly manifestHash: string;
  readonly table: string;
}

/** What a derived table reads: dependency tables by manifest, and its own siblings. */
interface DerivedReads {
  readonly dependencies: TableKey[];
  readonly siblings: string[];
}

async function derivedManifest(bucket: R2Bucket, hash: string): Promise<DerivedManifest | null> {
  const text = await readManifestObject(bucket, hash);
  if (text === null) return null;
  try {
    const parsed = parseManifest(JSON.parse(text));
    return parsed.ok && parsed.manifest.kind === "manifest" ? parsed.manifest : null;
  } catch {
    return null;
  }
}

/** Each table's reads; a table whose SQL does not parse (registration refuses such SQL) reads nothing. */
async function tableReads(db: Db, manifest: DerivedManifest): Promise<Map<string, DerivedReads>> {
  const aliases = new Map<string, string>();
  for (const [alias, reference] of Object.entries(manifest.dependencies)) {
    const resolved = await resolveRevision(db, reference, reference.revision);
    if (resolved) aliases.set(alias, resolved.hash);
  }
  const reads = new Map<string, DerivedReads>();
  for (const [name, definition] of Object.entries(manifest.tables)) {
    const entry: DerivedReads = { dependencies: [], siblings: [] };
    try {
      for (const ref of rewriteSql(definition.input.sql).tables) {
        if (ref.schema === "self") entry.siblings.push(ref.table);
        const hash = aliases.get(ref.schema);
        if (hash !== undefined) entry.dependencies.push({ manifestHash: hash, table: ref.table });
      }
    } catch {
      // Unreadable SQL names no table.
    }
    reads.set(name, entry);
  }
  return reads;
}

/** The active locations of the derived tables that read `origin`, directly or through other derived tables. */
export async function dependantLocations(db: Db, bucket: R2Bucket, origin: TableKey): Promise<Location[]> {
  const candidates = await listActiveDerivedLocations(db);
  const readsByHash = new Map<string, Map<string, DerivedReads>>();
  for (const hash of new Set(candidates.map((location) => location.manifestHash))) {
    const manifest = await derivedManifest(bucket, hash);
    if (manifest) readsByHash.set(hash, await tableReads(db, manifest));
  }
  const key = (t: TableKey) => `${t.manifestHash}/${t.table}`;
  const reached = new Set<string>([key(origin)]);
  const found: Location[] = [];
  // Breadth first until nothing new reads what was reached; each location is taken once, so cycles end.
  for (let changed = true; changed; ) {
    changed = false;
    for (const location of candidates) {
      const self = { manifestHash: location.manifestHash, table: location.tableName };
      if (reached.has(key(self))) continue;
      const reads = readsByHash.get(location.manifestHash)?.get(location.tableName);
      if (!reads) continue;
      const readsReached =
        reads.dependencies.some((dependency) => reached.has(key(dependency))) ||
        reads.siblings.some((sibling) => reached.has(key({ manifestHash: location.manifestHash, table: sibling })));
      if (readsReached) {
        reached.add(key(self));
        found.push(location);
        changed = true;
      }
    }
  }
  return found;
}
