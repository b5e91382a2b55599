import type { ArrowDataType, ArrowField } from "../arrow";
import { BLOCK_NUM_FIELD, type DatasetKindDefinition, rawChain, type KindTable, noDependencies } from "./kind-definition";

/**
 * The tables an evm-rpc dataset produces, with exactly the columns, order,
 * nullability and types of the original (reference §5.1). `_block_num` comes
 * first in every file; manifests list the fields without it.
 */

const u64: ArrowDataType = "UInt64";
const u32: ArrowDataType = "UInt32";
const hash32: ArrowDataType = { FixedSizeBinary: 32 };
const address: ArrowDataType = { FixedSizeBinary: 20 };
const currency: ArrowDataType = { Decimal128: [38, 0] };
const timestamp: ArrowDataType = { Timestamp: ["Nanosecond", "+00:00"] };

const req = (name: string, type: ArrowDataType): ArrowField => ({ name, type, nullable: false });
const opt = (name: string, type: ArrowDataType): ArrowField => ({ name, type, nullable: true });

export const EVM_RPC_TABLES = {
  blocks: [
    req("block_num", u64),
    req("timestamp", timestamp),
    req("hash", hash32),
    req("parent_hash", hash32),
    req("ommers_hash", hash32),
    req("miner", address),
    req("state_root", hash32),
    req("transactions_root", hash32),
    req("receipt_root", hash32),
    req("logs_bloom", "Binary"),
    req("difficulty", currency),
    opt("total_difficulty", currency),
    req("gas_limit", u64),
    req("gas_used", u64),
    req("extra_data", "Binary"),
    req("mix_hash", hash32),
    req("nonce", u64),
    opt("base_fee_per_gas", currency),
    opt("withdrawals_root", hash32),
    opt("blob_gas_used", u64),
    opt("excess_blob_gas", u64),
    opt("parent_beacon_root", hash32),
  ],
  logs: [
    req("block_hash", hash32),
    req("block_num", u64),
    req("timestamp", timestamp),
    req("tx_hash", hash32),
    req("tx_index", u32),
    req("log_index", u32),
    req("address", address),
    opt("topic0", hash32),
    opt("topic1", hash32),
    opt("topic2", hash32),
    opt("topic3", hash32),
    req("data", "Binary"),
  ],
  transactions: [
    req("block_hash", hash32),
    req("block_num", u64),
    req("timestamp", timestamp),
    req("tx_index", u32),
    req("tx_hash", hash32),
    opt("to", address),
    req("nonce", u64),
    opt("gas_price", currency),
    req("gas_limit", u64),
    req("value", currency),
    req("input", "Binary"),
    req("v", "Binary"),
    req("r", "Binary"),
    req("s", "Binary"),
    req("gas_used", u64),
    req("type", "Int32"),
    opt("max_fee_per_gas", currency),
    opt("max_priority_fee_per_gas", currency),
    opt("max_fee_per_blob_gas", currency),
    req("from", address),
    req("status", "Boolean"),
  ],
} as const satisfies Record<string, readonly ArrowField[]>;

export type EvmRpcTableName = keyof typeof EVM_RPC_TABLES;

export const EVM_RPC_TABLE_NAMES = Object.keys(EVM_RPC_TABLES) as EvmRpcTableName[];

/** The columns of a table as written to Parquet: `_block_num` first. */
export function fileFields(table: EvmRpcTableName): ArrowField[] {
  return [BLOCK_NUM_FIELD, ...EVM_RPC_TABLES[table]];
}

export const EVM_RPC_KIND_TABLES: readonly KindTable[] = EVM_RPC_TABLE_NAMES.map((name) => ({ name, fields: fileFields(name) }));

export const EVM_RPC_KIND: DatasetKindDefinition = {
  cannotRun: null,
  providerKind: "evm-rpc",
  // The runtime's tables come from code, whatever the manifest lists (reference §2.2).
  chain: rawChain,
  dependencies: noDependencies,
  tables: () => EVM_RPC_KIND_TABLES,
};
