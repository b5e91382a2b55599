import { type DatasetKindDefinition, manifestTables } from "./kind-definition";

/** Derived datasets (kind `manifest`): SQL over other datasets' tables, read from their files, never from a provider. */
export const DERIVED_KIND: DatasetKindDefinition = {
  cannotRun: "derived datasets (kind manifest) cannot be run yet: their SQL can be queried (POST /query) and typed (POST /schema), but no step runner computes derived tables",
  providerKind: null,
  tables: manifestTables,
  // The tables of a derived dataset are all of one network; its blocks start where its dependencies' do.
  chain: (manifest) => ({ network: Object.values(manifest.tables)[0]?.network ?? "", startBlock: 0, finalizedOnly: false }),
};
