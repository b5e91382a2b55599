/**
 * The dataset kinds, one entry each. Adding a kind means a module beside this
 * one (its tables, whether it can run, its provider kind), its block source in
 * src/extract/<kind>/ with an entry in src/extract/block-sources.ts, and one
 * line here.
 */
import type { DatasetKind, Manifest } from "../manifest/kinds";
import { DERIVED_KIND } from "./derived";
import { ETH_BEACON_KIND } from "./eth-beacon";
import { EVM_RPC_KIND } from "./evm-rpc";
import { FIREHOSE_KIND } from "./firehose";
import type { DatasetKindDefinition, KindTable } from "./kind-definition";

const DATASET_KINDS: Readonly<Record<DatasetKind, DatasetKindDefinition>> = {
  "evm-rpc": EVM_RPC_KIND,
  "eth-beacon": ETH_BEACON_KIND,
  firehose: FIREHOSE_KIND,
  manifest: DERIVED_KIND,
};

export function datasetKind(kind: DatasetKind): DatasetKindDefinition {
  return DATASET_KINDS[kind];
}

/** The kinds whose jobs run here. */
export function runnableKinds(): DatasetKind[] {
  return (Object.keys(DATASET_KINDS) as DatasetKind[]).filter((kind) => DATASET_KINDS[kind].cannotRun === null);
}

/** The tables a job of the manifest writes. */
export function kindTables(manifest: Manifest): readonly KindTable[] {
  return DATASET_KINDS[manifest.kind].tables(manifest);
}
