import { RetryableError } from "../../domain/errors";
import {
  ByteArena,
  HexError,
  hexToBigInt,
  hexToBytes,
  hexToFixedBytes,
  hexToSafeInteger,
  quantityToBytes,
} from "../../domain/hex";
import type { BlockRef } from "../block-source";
import { rowCounts, truncateColumns, type EvmRpcColumns } from "./columns";

/**
 * One block (from eth_getBlockByNumber with full transactions) and its
 * receipts, as rows of the blocks, transactions and logs tables, following
 * the row rules of the original extractor (reference §5.1):
 * - failed transactions (receipt status 0x0, or a pre-Byzantium zero state
 *   root) are dropped with their logs, and `transactions.tx_index` is the
 *   position among the successful ones;
 * - `logs.tx_index` is the node's transactionIndex, unchanged;
 * - `transactions.gas_used` is the receipt's cumulativeGasUsed;
 * - `v` is [0x01] when the signature's y-parity is odd, else empty; r and s
 *   are 32 bytes big-endian;
 * - `gas_price` only for legacy and EIP-2930 transactions; `max_fee_per_gas`
 *   is the gas price for those, so it is always set;
 * - a missing mix hash is 32 zero bytes, a missing nonce 0;
 * - timestamps are the block's, in nanoseconds.
 * Byte values are views into shared buffers (see ByteArena), and the rows of
 * one block share its hash: consumers treat values as read-only.
 */


/** The node's data for a block is inconsistent or malformed. Worth one refetch. */
export class BlockInvalidError extends RetryableError {
  constructor(
    readonly blockNumber: number,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super("block_invalid", `block ${blockNumber}: ${detail}`, options);
  }
}

type RpcObject = Record<string, unknown>;

const U32_MAX = 0xffff_ffff;
const I32_MAX = 0x7fff_ffff;
const U64_MAX = (1n << 64n) - 1n;
const I64_MAX = (1n << 63n) - 1n;
const I128_MAX = (1n << 127n) - 1n;
const NANOS_PER_SECOND = 1_000_000_000n;

/** Where every decoded byte value goes: the values of a chunk's rows live and die together. */
const arena = new ByteArena();

/** A field failed to parse; becomes a BlockInvalidError naming the block. */
class FieldError extends Error {}

/**
 * Appends the rows of one block to `columns` and returns the block's ref.
 * `receipts` must be in transaction order. On any inconsistency (number not
 * the one asked for, receipt count or hashes not matching the transactions,
 * a receipt's transactionIndex not its position, a log not of its receipt's
 * transaction, a malformed or out-of-range field) it throws BlockInvalidError and leaves
 * `columns` as they were.
 */
export function appendBlockRows(columns: EvmRpcColumns, requested: number, block: unknown, receipts: readonly unknown[]): BlockRef {
  const before = rowCounts(columns);
  try {
    return appendRows(columns, requested, block, receipts);
  } catch (error) {
    truncateColumns(columns, before);
    if (error instanceof BlockInvalidError) throw error;
    if (error instanceof FieldError || error instanceof HexError) throw new BlockInvalidError(requested, error.message, { cause: error });
    throw error;
  }
}

function appendRows(columns: EvmRpcColumns, requested: number, blockValue: unknown, receipts: readonly unknown[]): BlockRef {
  const block = object(blockValue, "block");
  const blockNum = u64(block, "number");
  if (blockNum !== BigInt(requested)) throw new BlockInvalidError(requested, `the node returned block ${blockNum}`);
  const hashHex = hexString(block, "hash");
  const parentHashHex = hexString(block, "parentHash");
  const hash = fixed(block, "hash", 32);
  const timestamp = u64(block, "timestamp") * NANOS_PER_SECOND;
  if (timestamp > I64_MAX) throw new FieldError(`timestamp out of range: ${String(block.timestamp)}`);
  const transactions = array(block, "transactions");
  if (transactions.length !== receipts.length) {
    throw new BlockInvalidError(requested, `${transactions.length} transactions but ${receipts.length} receipts`);
  }

  const b = columns.blocks;
  b._block_num.push(blockNum);
  b.block_num.push(blockNum);
  b.timestamp.push(timestamp);
  b.hash.push(hash);
  b.parent_hash.push(fixed(block, "parentHash", 32));
  b.ommers_hash.push(fixed(block, "sha3Uncles", 32));
  b.miner.push(fixed(block, "miner", 20));
  b.state_root.push(fixed(block, "stateRoot", 32));
  b.transactions_root.push(fixed(block, "transactionsRoot", 32));
  b.receipt_root.push(fixed(block, "receiptsRoot", 32));
  b.logs_bloom.push(fixed(block, "logsBloom", 256));
  b.difficulty.push(decimal(block, "difficulty"));
  // Post-merge nodes stopped sending it; older ones (and anvil) still do.
  b.total_difficulty.push(isAbsent(block.totalDifficulty) ? null : decimal(block, "totalDifficulty"));
  b.gas_limit.push(u64(block, "gasLimit"));
  b.gas_used.push(u64(block, "gasUsed"));
  b.extra_data.push(bytes(block, "extraData"));
  b.mix_hash.push(isAbsent(block.mixHash) ? new Uint8Array(32) : fixed(block, "mixHash", 32));
  b.nonce.push(isAbsent(block.nonce) ? 0n : u64(block, "nonce"));
  b.base_fee_per_gas.push(isAbsent(block.baseFeePerGas) ? null : decimal(block, "baseFeePerGas"));
  b.withdrawals_root.push(isAbsent(block.withdrawalsRoot) ? null : fixed(block, "withdrawalsRoot", 32));
  b.blob_gas_used.push(isAbsent(block.blobGasUsed) ? null : u64(block, "blobGasUsed"));
  b.excess_blob_gas.push(isAbsent(block.excessBlobGas) ? null : u64(block, "excessBlobGas"));
  b.parent_beacon_root.push(isAbsent(block.parentBeaconBlockRoot) ? null : fixed(block, "parentBeaconBlockRoot", 32));

  let successfulIndex = 0;
  for (let i = 0; i < transactions.length; i++) {
    const tx = object(transactions[i], "transaction");
    const receipt = object(receipts[i], "receipt");
    const txHash = hexString(tx, "hash");
    if (!sameHex(txHash, receipt.transactionHash)) {
      throw new BlockInvalidError(requested, `receipt ${i} is for ${String(receipt.transactionHash)}, not transaction ${txHash}`);
    }
    if (!isAbsent(receipt.blockHash) && !sameHex(hashHex, receipt.blockHash)) {
      throw new BlockInvalidError(requested, `receipt of ${txHash} is from block ${String(receipt.blockHash)}, not ${hashHex}`);
    }
    if (!isAbsent(receipt.transactionIndex) && smallQuantity(receipt, "transactionIndex") !== i) {
      throw new BlockInvalidError(requested, `receipt of ${txHash} has transactionIndex ${String(receipt.transactionIndex)}, not ${i}`);
    }
    if (!succeeded(receipt)) continue;
    appendTransaction(columns, tx, receipt, blockNum, hash, timestamp, successfulIndex++);
    for (const log of array(receipt, "logs")) appendLog(columns, object(log, "log"), blockNum, hashHex, hash, timestamp, txHash);
  }
  return { number: requested, hash: hashHex.toLowerCase(), parentHash: parentHashHex.toLowerCase() };
}

function appendTransaction(
  columns: EvmRpcColumns,
  tx: RpcObject,
  receipt: RpcObject,
  blockNum: bigint,
  blockHash: Uint8Array,
  timestamp: bigint,
  txIndex: number,
): void {
  const type = isAbsent(tx.type) ? 0 : int32(tx, "type");
  const t = columns.transactions;
  t._block_num.push(blockNum);
  t.block_hash.push(blockHash);
  t.block_num.push(blockNum);
  t.timestamp.push(timestamp);
  t.tx_index.push(txIndex);
  t.tx_hash.push(fixed(tx, "hash", 32));
  t.to.push(isAbsent(tx.to) ? null : fixed(tx, "to", 20));
  t.nonce.push(u64(tx, "nonce"));
  t.gas_limit.push(u64(tx, "gas"));
  t.value.push(decimal(tx, "value"));
  t.input.push(bytes(tx, "input"));
  t.gas_used.push(u64(receipt, "cumulativeGasUsed"));
  t.type.push(type);
  t.from.push(fixed(tx, "from", 20));
  t.status.push(true);
  appendFees(t, tx, type);
  appendSignature(t, tx, type);
}

/** Fee fields by transaction type, as the original reads them from alloy's typed envelopes. */
function appendFees(t: EvmRpcColumns["transactions"], tx: RpcObject, type: number): void {
  switch (type) {
    case 0: // legacy
    case 1: {
      // EIP-2930
      const gasPrice = decimal(tx, "gasPrice");
      t.gas_price.push(gasPrice);
      t.max_fee_per_gas.push(gasPrice);
      t.max_priority_fee_per_gas.push(null);
      t.max_fee_per_blob_gas.push(null);
      return;
    }
    case 2: // EIP-1559
    case 3: // EIP-4844
    case 4: // EIP-7702
      t.gas_price.push(null);
      t.max_fee_per_gas.push(decimal(tx, "maxFeePerGas"));
      t.max_priority_fee_per_gas.push(decimal(tx, "maxPriorityFeePerGas"));
      t.max_fee_per_blob_gas.push(type === 3 ? decimal(tx, "maxFeePerBlobGas") : null);
      return;
    default:
      // A type this network defines (e.g. an L2 deposit): whatever fields it has.
      t.gas_price.push(isAbsent(tx.gasPrice) ? null : decimal(tx, "gasPrice"));
      t.max_fee_per_gas.push(isAbsent(tx.maxFeePerGas) ? 0n : decimal(tx, "maxFeePerGas"));
      t.max_priority_fee_per_gas.push(isAbsent(tx.maxPriorityFeePerGas) ? null : decimal(tx, "maxPriorityFeePerGas"));
      t.max_fee_per_blob_gas.push(isAbsent(tx.maxFeePerBlobGas) ? null : decimal(tx, "maxFeePerBlobGas"));
  }
}

const ODD_PARITY = Uint8Array.of(1);

/**
 * v = [0x01] for an odd y-parity, else empty. Typed transactions carry
 * yParity (or v = 0/1); legacy ones v = 27/28 or, with EIP-155,
 * 35 + 2*chainId + parity: in all those encodings parity = (v + 1) mod 2.
 * Transaction types unknown to Ethereum may carry no signature: an all-zero
 * one, as the original does.
 */
function appendSignature(t: EvmRpcColumns["transactions"], tx: RpcObject, type: number): void {
  const known = type <= 4;
  const parityField = type !== 0 && !isAbsent(tx.yParity) ? "yParity" : "v";
  let odd = false;
  if (known || !isAbsent(tx[parityField])) {
    const v = quantity(tx, parityField);
    if (v === 0n || v === 1n) odd = v === 1n;
    else if (v >= 27n && parityField === "v") odd = (v & 1n) === 0n;
    else throw new FieldError(`${parityField} is not a signature parity: ${String(tx[parityField])}`);
  }
  t.v.push(odd ? ODD_PARITY.slice() : new Uint8Array(0));
  t.r.push(!known && isAbsent(tx.r) ? new Uint8Array(32) : scalar(tx, "r"));
  t.s.push(!known && isAbsent(tx.s) ? new Uint8Array(32) : scalar(tx, "s"));
}

function appendLog(
  columns: EvmRpcColumns,
  log: RpcObject,
  blockNum: bigint,
  blockHashHex: string,
  blockHash: Uint8Array,
  timestamp: bigint,
  txHashHex: string,
): void {
  if (!sameHex(blockHashHex, log.blockHash)) throw new FieldError(`log blockHash ${String(log.blockHash)} is not the block's ${blockHashHex}`);
  // tx_hash comes from the log itself: it must be its receipt's transaction.
  if (!sameHex(txHashHex, log.transactionHash)) throw new FieldError(`a log of ${txHashHex} names transaction ${String(log.transactionHash)}`);
  if (u64(log, "blockNumber") !== blockNum) throw new FieldError(`log blockNumber ${String(log.blockNumber)} is not the block's`);
  const topics = array(log, "topics");
  if (topics.length > 4) throw new FieldError(`a log has ${topics.length} topics`);
  const l = columns.logs;
  l._block_num.push(blockNum);
  l.block_hash.push(blockHash);
  l.block_num.push(blockNum);
  l.timestamp.push(timestamp);
  l.tx_hash.push(fixed(log, "transactionHash", 32));
  l.tx_index.push(u32(log, "transactionIndex"));
  l.log_index.push(u32(log, "logIndex"));
  l.address.push(fixed(log, "address", 20));
  l.topic0.push(topic(topics, 0));
  l.topic1.push(topic(topics, 1));
  l.topic2.push(topic(topics, 2));
  l.topic3.push(topic(topics, 3));
  l.data.push(bytes(log, "data"));
}

/** EIP-658 status, or before Byzantium a post-state root that is zero for a failed transaction. */
function succeeded(receipt: RpcObject): boolean {
  if (!isAbsent(receipt.status)) {
    const status = quantity(receipt, "status");
    if (status > 1n) throw new FieldError(`receipt status is ${String(receipt.status)}`);
    return status === 1n;
  }
  if (!isAbsent(receipt.root)) return fixed(receipt, "root", 32).some((byte) => byte !== 0);
  throw new FieldError(`receipt of ${String(receipt.transactionHash)} has neither status nor root`);
}

function isAbsent(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

function sameHex(a: string, b: unknown): boolean {
  return a === b || (typeof b === "string" && a.toLowerCase() === b.toLowerCase());
}

function object(value: unknown, what: string): RpcObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new FieldError(`${what} is not an object: ${String(value)}`);
  return value as RpcObject;
}

function array(source: RpcObject, key: string): unknown[] {
  const value = source[key];
  if (!Array.isArray(value)) throw new FieldError(`${key} is not an array`);
  return value;
}

function hexString(source: RpcObject, key: string): string {
  const value = source[key];
  if (typeof value !== "string") throw new FieldError(`${key} is missing`);
  return value;
}

/** A HexError names the value; this adds which field it was. */
function fieldError(key: string, error: unknown): unknown {
  return error instanceof HexError ? new FieldError(`${key}: ${error.message}`) : error;
}

function fixed(source: RpcObject, key: string, size: number): Uint8Array {
  try {
    return hexToFixedBytes(source[key], size, arena.allocate);
  } catch (error) {
    throw fieldError(key, error);
  }
}

function bytes(source: RpcObject, key: string): Uint8Array {
  try {
    return hexToBytes(source[key], arena.allocate);
  } catch (error) {
    throw fieldError(key, error);
  }
}

function scalar(source: RpcObject, key: string): Uint8Array {
  try {
    return quantityToBytes(source[key], 32, arena.allocate);
  } catch (error) {
    throw fieldError(key, error);
  }
}

function quantity(source: RpcObject, key: string): bigint {
  try {
    return hexToBigInt(source[key]);
  } catch (error) {
    throw fieldError(key, error);
  }
}

function smallQuantity(source: RpcObject, key: string): number {
  try {
    return hexToSafeInteger(source[key]);
  } catch (error) {
    throw fieldError(key, error);
  }
}

function u64(source: RpcObject, key: string): bigint {
  const value = quantity(source, key);
  if (value > U64_MAX) throw new FieldError(`${key} overflows UInt64: ${String(source[key])}`);
  return value;
}

function decimal(source: RpcObject, key: string): bigint {
  const value = quantity(source, key);
  if (value > I128_MAX) throw new FieldError(`${key} overflows Decimal128: ${String(source[key])}`);
  return value;
}

function u32(source: RpcObject, key: string): number {
  const value = smallQuantity(source, key);
  if (value > U32_MAX) throw new FieldError(`${key} overflows UInt32: ${String(source[key])}`);
  return value;
}

function int32(source: RpcObject, key: string): number {
  const value = smallQuantity(source, key);
  if (value > I32_MAX) throw new FieldError(`${key} overflows Int32: ${String(source[key])}`);
  return value;
}

function topic(topics: unknown[], index: number): Uint8Array | null {
  if (index >= topics.length) return null;
  try {
    return hexToFixedBytes(topics[index], 32, arena.allocate);
  } catch (error) {
    throw fieldError(`topics[${index}]`, error);
  }
}
