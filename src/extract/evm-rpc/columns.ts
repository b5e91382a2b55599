import type { TableColumns } from "../block-source";
import { fileFields, type EvmRpcTableName } from "../../domain/dataset-kinds/evm-rpc";

/**
 * evm-rpc's tables as typed columns (see TableColumns in ../block-source.ts
 * for the value of each Arrow type), in the order of `fileFields(table)`.
 */

type Bytes = Uint8Array[];
type NullableBytes = (Uint8Array | null)[];
type U64 = bigint[];
type NullableBig = (bigint | null)[];

/** Keys and order as fileFields("blocks"). */
export type BlocksColumns = {
  _block_num: U64;
  block_num: U64;
  timestamp: U64;
  hash: Bytes;
  parent_hash: Bytes;
  ommers_hash: Bytes;
  miner: Bytes;
  state_root: Bytes;
  transactions_root: Bytes;
  receipt_root: Bytes;
  logs_bloom: Bytes;
  difficulty: U64;
  total_difficulty: NullableBig;
  gas_limit: U64;
  gas_used: U64;
  extra_data: Bytes;
  mix_hash: Bytes;
  nonce: U64;
  base_fee_per_gas: NullableBig;
  withdrawals_root: NullableBytes;
  blob_gas_used: NullableBig;
  excess_blob_gas: NullableBig;
  parent_beacon_root: NullableBytes;
};

/** Keys and order as fileFields("transactions"). */
export type TransactionsColumns = {
  _block_num: U64;
  block_hash: Bytes;
  block_num: U64;
  timestamp: U64;
  tx_index: number[];
  tx_hash: Bytes;
  to: NullableBytes;
  nonce: U64;
  gas_price: NullableBig;
  gas_limit: U64;
  value: U64;
  input: Bytes;
  v: Bytes;
  r: Bytes;
  s: Bytes;
  gas_used: U64;
  type: number[];
  max_fee_per_gas: NullableBig;
  max_priority_fee_per_gas: NullableBig;
  max_fee_per_blob_gas: NullableBig;
  from: Bytes;
  status: boolean[];
};

/** Keys and order as fileFields("logs"). */
export type LogsColumns = {
  _block_num: U64;
  block_hash: Bytes;
  block_num: U64;
  timestamp: U64;
  tx_hash: Bytes;
  tx_index: number[];
  log_index: number[];
  address: Bytes;
  topic0: NullableBytes;
  topic1: NullableBytes;
  topic2: NullableBytes;
  topic3: NullableBytes;
  data: Bytes;
};

export type EvmRpcColumns = {
  blocks: BlocksColumns;
  transactions: TransactionsColumns;
  logs: LogsColumns;
};


function emptyTableColumns(table: EvmRpcTableName): TableColumns {
  const columns: TableColumns = {};
  for (const field of fileFields(table)) columns[field.name] = [];
  return columns;
}

/** Empty arrays for every column, built from the table definitions so keys and order follow them. */
export function emptyColumns(): EvmRpcColumns {
  return {
    blocks: emptyTableColumns("blocks") as unknown as BlocksColumns,
    transactions: emptyTableColumns("transactions") as unknown as TransactionsColumns,
    logs: emptyTableColumns("logs") as unknown as LogsColumns,
  };
}

export function rowCount(columns: { _block_num: unknown[] }): number {
  return columns._block_num.length;
}

export interface TableRowCounts {
  blocks: number;
  transactions: number;
  logs: number;
}

/** Rows of each table so far, to cut back to with truncateColumns. */
export function rowCounts(columns: EvmRpcColumns): TableRowCounts {
  return { blocks: rowCount(columns.blocks), transactions: rowCount(columns.transactions), logs: rowCount(columns.logs) };
}

/** Cuts every column of every table back to the given row counts (undoing a partly appended block). */
export function truncateColumns(columns: EvmRpcColumns, rows: TableRowCounts): void {
  for (const table of ["blocks", "transactions", "logs"] as const) {
    for (const values of Object.values(columns[table]) as unknown[][]) values.length = rows[table];
  }
}
