/**
 * The derived tables that read a table (`POST .../partitions/invalidate` invalidates them with it, `.../rebuild`
 * rebuilds them after it): every active derived table whose SQL names it through a dependency alias, or names
 * through `self.` a sibling that does, and so on down the derived datasets reading those. An alias means the
 * manifest the table's writer job pinned when it started (what its files were derived from, even after a version
 * tag moved); for a table whose writer holds no pins yet (not started), the manifest the alias resolves to now,
 * which is what that job will pin.
 */
import { jobRunnerStub } from "../../durable-objects/job-runner";
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

/** Each alias's manifest hash: the writer job's pins when it holds them, else the alias resolved now. */
async function aliasHashes(db: Db, runners: DurableObjectNamespace, manifest: DerivedManifest, writer: number | null): Promise<Map<string, string>> {
  const pins = writer === null ? null : await jobRunnerStub(runners, writer).pins();
  const aliases = new Map<string, string>();
  for (const [alias, reference] of Object.entries(manifest.dependencies)) {
    const pinned = pins?.[alias]?.hash;
    const hash = pinned ?? (await resolveRevision(db, reference, reference.revision))?.hash;
    if (hash !== undefined) aliases.set(alias, hash);
  }
  return aliases;
}

/** Each table's reads; a table whose SQL does not parse (registration refuses such SQL) reads nothing. */
function tableReads(manifest: DerivedManifest, aliases: ReadonlyMap<string, string>): Map<string, DerivedReads> {
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
export async function dependantLocations(db: Db, bucket: R2Bucket, runners: DurableObjectNamespace, origin: TableKey): Promise<Location[]> {
  const candidates = await listActiveDerivedLocations(db);
  const manifests = new Map<string, DerivedManifest | null>();
  // By manifest and writer: the tables of one derived manifest may be written by different jobs, each with its pins.
  const readsOf = new Map<string, Map<string, DerivedReads>>();
  const readsKey = (location: Location) => `${location.manifestHash}/${location.writer ?? ""}`;
  for (const location of candidates) {
    if (readsOf.has(readsKey(location))) continue;
    if (!manifests.has(location.manifestHash)) manifests.set(location.manifestHash, await derivedManifest(bucket, location.manifestHash));
    const manifest = manifests.get(location.manifestHash);
    if (manifest) readsOf.set(readsKey(location), tableReads(manifest, await aliasHashes(db, runners, manifest, location.writer)));
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
      const reads = readsOf.get(readsKey(location))?.get(location.tableName);
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
