/**
 * What the engine needs to know about one kind of dataset. Generic code (the
 * API, the JobRunner, the step runner) asks these questions of the registry
 * and never names a kind; each kind answers them in a module of its own.
 */
import type { ArrowField } from "../arrow";
import type { Manifest } from "../manifest/kinds";
import type { ProviderKind } from "../provider/types";
import type { DatasetReference } from "../revision";

/** Every file starts with it: the block number (or slot) the row belongs to. */
export const BLOCK_NUM_FIELD: ArrowField = { name: "_block_num", type: "UInt64", nullable: false };

/** A table a job of the kind writes: its Parquet columns, `_block_num` first. */
export interface KindTable {
  readonly name: string;
  readonly fields: readonly ArrowField[];
}

/** The chain a job of the kind follows, as its manifest says. */
export interface KindChain {
  readonly network: string;
  readonly startBlock: number;
  readonly finalizedOnly: boolean;
}

export interface DatasetKindDefinition {
  /** Why a job of this kind cannot run here, or null when it can; a deploy still answers 202 and the job fails with it. */
  readonly cannotRun: string | null;
  /** The kind of provider whose endpoints serve it; null for a kind that reads other datasets instead. */
  readonly providerKind: ProviderKind | null;
  /** The tables a job writes, in the order they are listed. */
  tables(manifest: Manifest): readonly KindTable[];
  /** The datasets a job reads instead of a provider, by alias; none for a raw kind. */
  dependencies(manifest: Manifest): Readonly<Record<string, DatasetReference>>;
  /** The network and block range start a job follows, given the chains of its dependencies (by alias). */
  chain(manifest: Manifest, dependencies: Readonly<Record<string, KindChain>>): KindChain;
}

/** A raw manifest reads no other dataset. */
export function noDependencies(): Readonly<Record<string, DatasetReference>> {
  return {};
}

/** A raw manifest names its chain itself. */
export function rawChain(manifest: Manifest): KindChain {
  if (manifest.kind === "manifest") throw new TypeError("a derived manifest names no chain of its own");
  return { network: manifest.network, startBlock: manifest.start_block, finalizedOnly: manifest.finalized_blocks_only };
}

/** The tables a manifest declares, each with `_block_num` first: for kinds whose tables come from the manifest. */
export function manifestTables(manifest: Manifest): KindTable[] {
  return Object.entries(manifest.tables)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, table]) => ({
      name,
      fields: [BLOCK_NUM_FIELD, ...table.schema.arrow.fields.filter((field) => field.name !== BLOCK_NUM_FIELD.name)],
    }));
}
