/**
 * Mainnet block 15,000,000 as a JSON-RPC node sends it (eth_getBlockByNumber
 * with full transactions, eth_getBlockReceipts), rebuilt from the original's
 * three reference files (reference-parquet.ts), read with DuckDB (they are
 * zstd-compressed, which hyparquet does not read). Node only.
 *
 * The files keep every field the header, the transactions and the receipts
 * need but three the transactions table never had, filled in here:
 * - chain id: mainnet's, 1;
 * - access lists: empty (the block's hashes and roots agree, so none had one);
 * - a legacy transaction's v: the file keeps only the y-parity, so v is
 *   EIP-155's 37 + parity or the older 27 + parity, whichever gives the
 *   transaction's own hash. The roots are then checked against that.
 * A receipt's status is the transaction's, its cumulative gas the
 * transaction's gas_used, its logs those of the logs file with its tx_index.
 */
import path from "node:path";
import { keccak256, type Hex } from "viem";
import { encodeTransaction } from "../../src/domain/evm-verification/transaction-envelope";
import { openDuckDb, sqlString } from "./duckdb";
import { REFERENCE_PARQUET_DIR } from "./reference-parquet";

export type RpcJson = Record<string, unknown>;

export interface ReferenceBlock {
  block: RpcJson & { transactions: RpcJson[] };
  receipts: RpcJson[];
}

const file = (table: string) => sqlString(path.join(REFERENCE_PARQUET_DIR, `${table}.parquet`));
const hex = (column: string) => `'0x' || lower(hex("${column}")) AS "${column}"`;
const quantity = (value: unknown) => `0x${BigInt(String(value)).toString(16)}`;

export async function readReferenceBlock(): Promise<ReferenceBlock> {
  const duck = await openDuckDb();
  try {
    const [header] = await duck.query(
      `SELECT block_num, epoch(timestamp)::BIGINT AS seconds, difficulty::VARCHAR AS difficulty, gas_limit, gas_used, nonce::VARCHAR AS nonce,
              base_fee_per_gas::VARCHAR AS base_fee_per_gas,
              ${["hash", "parent_hash", "ommers_hash", "miner", "state_root", "transactions_root", "receipt_root", "logs_bloom", "extra_data", "mix_hash"].map(hex).join(", ")}
       FROM ${file("blocks")}`,
    );
    const txs = await duck.query(
      `SELECT tx_index, nonce, gas_price::VARCHAR AS gas_price, gas_limit, value::VARCHAR AS value, gas_used, type, status,
              max_fee_per_gas::VARCHAR AS max_fee_per_gas, max_priority_fee_per_gas::VARCHAR AS max_priority_fee_per_gas,
              "to" IS NULL AS creation, ${["tx_hash", "to", "input", "v", "r", "s", "from"].map(hex).join(", ")}
       FROM ${file("transactions")} ORDER BY tx_index`,
    );
    const logs = await duck.query(
      `SELECT tx_index, log_index, ${["tx_hash", "address", "topic0", "topic1", "topic2", "topic3", "data"].map(hex).join(", ")}
       FROM ${file("logs")} ORDER BY log_index`,
    );
    const h = header!;
    const blockHash = h.hash as string;
    const transactions = txs.map((tx) => referenceTransaction(tx, blockHash));
    const receipts = txs.map((tx, i) => ({
      transactionHash: tx.tx_hash,
      transactionIndex: quantity(i),
      blockHash,
      blockNumber: quantity(h.block_num),
      type: quantity(tx.type),
      status: tx.status ? "0x1" : "0x0",
      cumulativeGasUsed: quantity(tx.gas_used),
      logs: logs
        .filter((log) => log.tx_index === tx.tx_index)
        .map((log) => ({
          address: log.address,
          topics: ["topic0", "topic1", "topic2", "topic3"].map((t) => log[t]).filter((topic) => topic !== null && topic !== "0x"),
          data: log.data,
          blockHash,
          blockNumber: quantity(h.block_num),
          transactionHash: log.tx_hash,
          transactionIndex: quantity(log.tx_index),
          logIndex: quantity(log.log_index),
        })),
    }));
    const block = {
      number: quantity(h.block_num),
      hash: blockHash,
      parentHash: h.parent_hash,
      sha3Uncles: h.ommers_hash,
      miner: h.miner,
      stateRoot: h.state_root,
      transactionsRoot: h.transactions_root,
      receiptsRoot: h.receipt_root,
      logsBloom: h.logs_bloom,
      difficulty: quantity(h.difficulty),
      gasLimit: quantity(h.gas_limit),
      gasUsed: quantity(h.gas_used),
      timestamp: quantity(h.seconds),
      extraData: h.extra_data,
      mixHash: h.mix_hash,
      nonce: `0x${BigInt(String(h.nonce)).toString(16).padStart(16, "0")}`,
      baseFeePerGas: quantity(h.base_fee_per_gas),
      transactions,
    };
    return { block, receipts };
  } finally {
    duck.close();
  }
}

function referenceTransaction(tx: RpcJson, blockHash: string): RpcJson {
  const type = Number(tx.type);
  const parity = tx.v === "0x01" ? 1 : 0;
  const common: RpcJson = {
    hash: tx.tx_hash,
    blockHash,
    transactionIndex: quantity(tx.tx_index),
    type: quantity(type),
    nonce: quantity(tx.nonce),
    gas: quantity(tx.gas_limit),
    to: tx.creation ? null : tx.to,
    value: quantity(tx.value),
    input: tx.input,
    from: tx.from,
    r: tx.r,
    s: tx.s,
  };
  if (type !== 0) {
    return {
      ...common,
      chainId: "0x1",
      maxFeePerGas: quantity(tx.max_fee_per_gas),
      maxPriorityFeePerGas: quantity(tx.max_priority_fee_per_gas),
      accessList: [],
      yParity: quantity(parity),
      v: quantity(parity),
    };
  }
  // Which v it had is not in the file: the one whose envelope hashes to the transaction's hash.
  const candidates = [37 + parity, 27 + parity].map((v) => ({ ...common, gasPrice: quantity(tx.gas_price), v: quantity(v) }));
  return candidates.find((candidate) => keccak256(encodeTransaction(candidate, "")) === (tx.tx_hash as Hex)) ?? candidates[0]!;
}
