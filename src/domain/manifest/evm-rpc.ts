import { EVM_RPC_TABLE_NAMES, EVM_RPC_TABLES } from "../dataset-kinds/evm-rpc";
import type { RawManifest, RawTable } from "./kinds";

export interface EvmRpcManifestOptions {
  startBlock?: number;
  finalizedBlocksOnly?: boolean;
}

/**
 * The evm-rpc manifest for a network, with the tables this project extracts,
 * as `ampctl manifest generate` writes it: each table's fields without
 * `_block_num`, which every file adds as its first column.
 */
export function evmRpcManifest(network: string, options: EvmRpcManifestOptions = {}): RawManifest {
  const tables: Record<string, RawTable> = {};
  for (const name of EVM_RPC_TABLE_NAMES) {
    tables[name] = { schema: { arrow: { fields: EVM_RPC_TABLES[name].map((field) => ({ ...field })) } }, network };
  }
  return {
    kind: "evm-rpc",
    network,
    start_block: options.startBlock ?? 0,
    finalized_blocks_only: options.finalizedBlocksOnly ?? false,
    tables,
  };
}
