import type { Manifest } from "../manifest/kinds";
import { type DatasetKindDefinition, type KindChain, manifestTables } from "./kind-definition";

/**
 * Derived datasets (kind `manifest`): SQL over other datasets' tables, read
 * from their files, never from a provider. Its steps' source is the derive
 * layer's (src/derive/), which the queue consumer is handed in src/index.ts.
 */
export const DERIVED_KIND: DatasetKindDefinition = {
  cannotRun: null,
  providerKind: null,
  tables: manifestTables,
  dependencies: (manifest: Manifest) => (manifest.kind === "manifest" ? manifest.dependencies : {}),
  // All tables of a derived dataset are of one network. It starts where every dependency has data:
  // the latest of their first blocks (block 0 without dependencies, which registration refuses anyway).
  chain: (manifest: Manifest, dependencies: Readonly<Record<string, KindChain>>): KindChain => ({
    network: Object.values(manifest.tables)[0]?.network || (Object.values(dependencies)[0]?.network ?? ""),
    startBlock: Object.values(dependencies).reduce((start, chain) => Math.max(start, chain.startBlock), 0),
    finalizedOnly: false,
  }),
};
