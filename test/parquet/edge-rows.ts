import type { EvmRpcTableName } from "../../src/domain/dataset-kinds/evm-rpc";
import { type EvmRows, type Row, syntheticEvmRows } from "../support/evm-rows";

/**
 * Synthetic rows of the three tables with the values that break naive
 * encoders written over some of them: u64 above 2^53 and 2^63 up to 2^64-1,
 * decimals at +-(10^38 - 1), u32 at 2^31 and 2^32-1, i32 extremes, empty
 * binaries, nulls in every nullable column, and a row that is null wherever
 * it can be.
 */
export const U64_MAX = (1n << 64n) - 1n;
export const DECIMAL_MAX = 10n ** 38n - 1n;

function patch(rows: Row[], index: number, values: Row): void {
  const row = rows[index];
  if (row === undefined) throw new Error(`no row ${index}`);
  Object.assign(row, values);
}

export function edgeRows(): EvmRows {
  const rows = syntheticEvmRows({ startBlock: 15_000_000, blockCount: 40, transactionsPerBlock: 8, logsPerTransaction: 2, seed: 42 });

  patch(rows.blocks, 0, {
    nonce: U64_MAX,
    gas_limit: 2n ** 53n + 1n,
    gas_used: 2n ** 63n,
    difficulty: DECIMAL_MAX,
    extra_data: new Uint8Array(0),
    base_fee_per_gas: null,
    withdrawals_root: null,
    blob_gas_used: U64_MAX,
    excess_blob_gas: 0n,
    parent_beacon_root: null,
  });
  patch(rows.blocks, 1, { difficulty: -DECIMAL_MAX, base_fee_per_gas: DECIMAL_MAX, nonce: 2n ** 63n - 1n });
  const lastBlock = rows.blocks.length - 1;
  patch(rows.blocks, lastBlock, {
    base_fee_per_gas: null,
    withdrawals_root: null,
    blob_gas_used: null,
    excess_blob_gas: null,
    parent_beacon_root: null,
  });

  patch(rows.transactions, 0, {
    to: null,
    nonce: U64_MAX,
    gas_price: null,
    value: DECIMAL_MAX,
    input: new Uint8Array(0),
    v: new Uint8Array(0),
    gas_used: 2n ** 63n + 5n,
    tx_index: 2 ** 32 - 1,
    type: -(2 ** 31),
    max_fee_per_gas: null,
    max_priority_fee_per_gas: null,
    max_fee_per_blob_gas: DECIMAL_MAX,
    status: false,
  });
  patch(rows.transactions, 1, { tx_index: 2 ** 31, type: 2 ** 31 - 1, value: 0n, gas_price: 1n });
  patch(rows.transactions, rows.transactions.length - 1, {
    to: null,
    gas_price: null,
    max_fee_per_gas: null,
    max_priority_fee_per_gas: null,
    max_fee_per_blob_gas: null,
  });

  patch(rows.logs, 0, { log_index: 2 ** 32 - 1, tx_index: 2 ** 31, topic0: null, topic1: null, topic2: null, topic3: null, data: new Uint8Array(0) });
  patch(rows.logs, 1, { topic3: new Uint8Array(32).fill(0xff), data: new Uint8Array(1000).fill(7) });
  return rows;
}

/** Splits rows into row groups of uneven sizes: one row, a third, the rest. */
export function rowGroups<T>(rows: readonly T[]): T[][] {
  const third = Math.max(1, Math.floor(rows.length / 3));
  return [rows.slice(0, 1), rows.slice(1, 1 + third), rows.slice(1 + third)].filter((group) => group.length > 0);
}

export const TABLES: readonly EvmRpcTableName[] = ["blocks", "transactions", "logs"];
