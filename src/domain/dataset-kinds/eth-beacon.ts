import type { ArrowDataType, ArrowField } from "../arrow";
import { BLOCK_NUM_FIELD, type DatasetKindDefinition, type KindTable, noDependencies, rawChain } from "./kind-definition";

/**
 * The one table an eth-beacon dataset produces: one row per beacon slot,
 * `_block_num` = `block_num` = the slot. A skipped slot (no block proposed)
 * is a row of nulls, so every column but the slot is nullable. Columns,
 * order and types as the original's (amp-later Part A.4).
 */

const u64: ArrowDataType = "UInt64";
const root: ArrowDataType = { FixedSizeBinary: 32 };
const blsSignature: ArrowDataType = { FixedSizeBinary: 96 };

const opt = (name: string, type: ArrowDataType): ArrowField => ({ name, type, nullable: true });

export const ETH_BEACON_BLOCKS: readonly ArrowField[] = [
  { name: "block_num", type: u64, nullable: false },
  opt("version", "Utf8"),
  opt("signature", blsSignature),
  opt("proposer_index", u64),
  opt("parent_root", root),
  opt("state_root", root),
  opt("randao_reveal", blsSignature),
  opt("eth1_data_deposit_root", root),
  opt("eth1_data_deposit_count", u64),
  opt("eth1_data_block_hash", root),
  opt("graffiti", root),
];

export const ETH_BEACON_KIND_TABLES: readonly KindTable[] = [{ name: "blocks", fields: [BLOCK_NUM_FIELD, ...ETH_BEACON_BLOCKS] }];

export const ETH_BEACON_KIND: DatasetKindDefinition = {
  cannotRun: null,
  providerKind: "eth-beacon",
  chain: rawChain,
  dependencies: noDependencies,
  // As in the original, the table comes from code whatever the manifest lists (its fixture even omits `_block_num`).
  tables: () => ETH_BEACON_KIND_TABLES,
};
