/**
 * The datasets a derived manifest reads, each alias pinned to the manifest
 * its revision names now (derived-datasets.md §1.4: "the hash pinned at
 * validation/job start"), so a job reads the same dependency for its whole
 * life even when a version tag moves. Never `_/<name>@latest` whatever the pin
 * says (fc27f54c's bug): the alias's own reference decides.
 */
import { datasetKind } from "../domain/dataset-kinds/registry";
import type { KindChain } from "../domain/dataset-kinds/kind-definition";
import type { Manifest } from "../domain/manifest/kinds";
import { parseManifest } from "../domain/manifest/parse";
import type { PinnedDependency } from "../domain/step-protocol";
import { type DatasetReference, formatDatasetReference } from "../domain/revision";
import type { Db } from "./db";
import { readManifestObject } from "./manifests";
import { resolveRevision } from "./revisions";

export interface PinnedDataset {
  pin: PinnedDependency;
  manifest: Manifest;
  /** The chain the dataset's jobs follow: its network and first block. */
  chain: KindChain;
}

export type DependencyPins = { ok: true; datasets: Record<string, PinnedDataset> } | { ok: false; reason: string };

/** Derived datasets reading derived datasets: deeper than this is taken for a cycle. */
const MAX_DEPTH = 16;

/** Resolves every alias to a registered manifest; the reason names the first that does not resolve. */
export async function pinDependencies(db: Db, bucket: R2Bucket, dependencies: Readonly<Record<string, DatasetReference>>, depth = 0): Promise<DependencyPins> {
  if (depth > MAX_DEPTH) return { ok: false, reason: `dependencies nest deeper than ${MAX_DEPTH} levels (a cycle?)` };
  const datasets: Record<string, PinnedDataset> = {};
  for (const alias of Object.keys(dependencies).sort()) {
    const reference = dependencies[alias]!;
    const shown = `dependency '${alias}' (${formatDatasetReference(reference)})`;
    const resolved = await resolveRevision(db, reference, reference.revision);
    if (!resolved) return { ok: false, reason: `${shown} is not registered` };
    const text = await readManifestObject(bucket, resolved.hash);
    const parsed = text === null ? null : parseManifest(parseJson(text));
    if (!parsed?.ok) return { ok: false, reason: `the manifest of ${shown} cannot be read` };
    const manifest = parsed.manifest;
    const kind = datasetKind(manifest.kind);
    const nested = await pinDependencies(db, bucket, kind.dependencies(manifest), depth + 1);
    if (!nested.ok) return { ok: false, reason: `${shown}: ${nested.reason}` };
    const chains = Object.fromEntries(Object.entries(nested.datasets).map(([name, dataset]) => [name, dataset.chain]));
    datasets[alias] = {
      pin: { namespace: reference.namespace, name: reference.name, hash: resolved.hash },
      manifest,
      chain: kind.chain(manifest, chains),
    };
  }
  return { ok: true, datasets };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
