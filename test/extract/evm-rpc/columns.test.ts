/**
 * The client against a real anvil, column by column: every row of every
 * table of the seeded chain is compared with what the node itself returns
 * (raw JSON-RPC, decoded with viem's helpers, not ours), and each kind of
 * block gets its own explicit checks.
 */
import { hexToBigInt, hexToBytes, hexToNumber, pad, type Hex } from "viem";
import { beforeAll, describe, expect, it } from "vitest";
import { fileFields, type EvmRpcTableName } from "../../../src/domain/dataset-kinds/evm-rpc";
import type { ColumnValue } from "../../../src/extract/block-source";
import { word } from "../../support/log-emitter";
import { harness } from "../../support/provided-context";
import { extractRange, quantity, rawRpc, rowsOf, type Extracted, type Json } from "./helpers";

const { anvilUrl, chain } = harness();
const NS = 1_000_000_000n;

type Row = Record<string, ColumnValue>;

const bytes = (hex: Hex) => hexToBytes(hex);
const optional = <T>(value: Hex | null | undefined, decode: (hex: Hex) => T): T | null => (value == null ? null : decode(value));

/** Rows the node's own data calls for, written from the row rules of reference §5.1. */
function expectedRows(block: Json, receipts: Json[], chainId: bigint): Record<EvmRpcTableName, Row[]> {
  const blockNum = hexToBigInt(block.number);
  const timestamp = hexToBigInt(block.timestamp) * NS;
  const blocks: Row[] = [
    {
      _block_num: blockNum,
      block_num: blockNum,
      timestamp,
      hash: bytes(block.hash),
      parent_hash: bytes(block.parentHash),
      ommers_hash: bytes(block.sha3Uncles),
      miner: bytes(block.miner),
      state_root: bytes(block.stateRoot),
      transactions_root: bytes(block.transactionsRoot),
      receipt_root: bytes(block.receiptsRoot),
      logs_bloom: bytes(block.logsBloom),
      difficulty: hexToBigInt(block.difficulty),
      total_difficulty: optional(block.totalDifficulty, hexToBigInt),
      gas_limit: hexToBigInt(block.gasLimit),
      gas_used: hexToBigInt(block.gasUsed),
      extra_data: bytes(block.extraData),
      mix_hash: block.mixHash ? bytes(block.mixHash) : new Uint8Array(32),
      nonce: block.nonce ? hexToBigInt(block.nonce) : 0n,
      base_fee_per_gas: optional(block.baseFeePerGas, hexToBigInt),
      withdrawals_root: optional(block.withdrawalsRoot, bytes),
      blob_gas_used: optional(block.blobGasUsed, hexToBigInt),
      excess_blob_gas: optional(block.excessBlobGas, hexToBigInt),
      parent_beacon_root: optional(block.parentBeaconBlockRoot, bytes),
    },
  ];
  const successful = (block.transactions as Json[])
    .map((tx, i) => ({ tx, receipt: receipts[i]! }))
    .filter(({ receipt }) => receipt.status === "0x1");
  const transactions: Row[] = successful.map(({ tx, receipt }, index) => {
    const legacyFees = tx.type === "0x0" || tx.type === "0x1";
    return {
      _block_num: blockNum,
      block_hash: bytes(block.hash),
      block_num: blockNum,
      timestamp,
      tx_index: index,
      tx_hash: bytes(tx.hash),
      to: optional(tx.to, bytes),
      nonce: hexToBigInt(tx.nonce),
      gas_price: legacyFees ? hexToBigInt(tx.gasPrice) : null,
      gas_limit: hexToBigInt(tx.gas),
      value: hexToBigInt(tx.value),
      input: bytes(tx.input),
      v: oddParity(tx, chainId) ? Uint8Array.of(1) : new Uint8Array(0),
      r: bytes(pad(tx.r as Hex, { size: 32 })),
      s: bytes(pad(tx.s as Hex, { size: 32 })),
      gas_used: hexToBigInt(receipt.cumulativeGasUsed),
      type: hexToNumber(tx.type),
      max_fee_per_gas: hexToBigInt(legacyFees ? tx.gasPrice : tx.maxFeePerGas),
      max_priority_fee_per_gas: legacyFees ? null : hexToBigInt(tx.maxPriorityFeePerGas),
      max_fee_per_blob_gas: tx.type === "0x3" ? hexToBigInt(tx.maxFeePerBlobGas) : null,
      from: bytes(tx.from),
      status: true,
    };
  });
  const logs: Row[] = successful.flatMap(({ receipt }) =>
    (receipt.logs as Json[]).map((log) => ({
      _block_num: blockNum,
      block_hash: bytes(log.blockHash),
      block_num: hexToBigInt(log.blockNumber),
      timestamp,
      tx_hash: bytes(log.transactionHash),
      tx_index: hexToNumber(log.transactionIndex),
      log_index: hexToNumber(log.logIndex),
      address: bytes(log.address),
      topic0: optional(log.topics[0], bytes),
      topic1: optional(log.topics[1], bytes),
      topic2: optional(log.topics[2], bytes),
      topic3: optional(log.topics[3], bytes),
      data: bytes(log.data),
    })),
  );
  return { blocks, transactions, logs };
}

/** Legacy: v = 27/28, or 35 + 2 * chainId + parity (EIP-155). Typed: yParity. */
function oddParity(tx: Json, chainId: bigint): boolean {
  if (tx.type !== "0x0") return hexToNumber(tx.yParity) === 1;
  const v = hexToBigInt(tx.v);
  return v <= 28n ? v === 28n : v - 35n - 2n * chainId === 1n;
}

describe("evm-rpc columns against the node", () => {
  let extracted: Extracted;
  const node = new Map<number, { block: Json; receipts: Json[] }>();
  let chainId: bigint;

  beforeAll(async () => {
    extracted = await extractRange({ url: anvilUrl }, 0, chain.head);
    chainId = hexToBigInt(await rawRpc(anvilUrl, "eth_chainId", []));
    for (let n = 0; n <= chain.head; n++) {
      node.set(n, {
        block: await rawRpc(anvilUrl, "eth_getBlockByNumber", [quantity(n), true]),
        receipts: await rawRpc(anvilUrl, "eth_getBlockReceipts", [quantity(n)]),
      });
    }
  });

  it("the oracle covers every column of every table, in file order", () => {
    const { block, receipts } = node.get(chain.blocks.logs)!;
    const expected = expectedRows(block, receipts, chainId);
    for (const table of ["blocks", "transactions", "logs"] as const) {
      expect(Object.keys(expected[table][0]!)).toEqual(fileFields(table).map((field) => field.name));
      expect(Object.keys(extracted.tables[table])).toEqual(fileFields(table).map((field) => field.name));
    }
  });

  it("every row of every block equals what the node returns", () => {
    for (let n = 0; n <= chain.head; n++) {
      const { block, receipts } = node.get(n)!;
      const expected = expectedRows(block, receipts, chainId);
      for (const table of ["blocks", "transactions", "logs"] as const) {
        expect(rowsOf(extracted.tables, table, n), `${table} of block ${n}`).toEqual(expected[table]);
      }
    }
  });

  it("all columns of a table have the same length, in block order", () => {
    for (const table of ["blocks", "transactions", "logs"] as const) {
      const columns = Object.values(extracted.tables[table]) as unknown[][];
      const length = columns[0]!.length;
      for (const values of columns) expect(values.length).toBe(length);
      const blockNums = extracted.tables[table]._block_num;
      expect([...blockNums].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(blockNums);
    }
    expect(extracted.tables.blocks._block_num).toEqual(Array.from({ length: chain.head + 1 }, (_, n) => BigInt(n)));
  });

  it("returns each block's number, hash and parent hash, hash-linked", () => {
    expect(extracted.blocks.map((ref) => ref.number)).toEqual(Array.from({ length: chain.head + 1 }, (_, n) => n));
    for (const ref of extracted.blocks) {
      const { block } = node.get(ref.number)!;
      expect(ref).toEqual({ number: ref.number, hash: block.hash, parentHash: block.parentHash });
      expect(ref.hash).toMatch(/^0x[0-9a-f]{64}$/);
      if (ref.number > 0) expect(ref.parentHash).toBe(extracted.blocks[ref.number - 1]!.hash);
    }
  });

  it("contract creation: the deployment has no `to`", () => {
    const [tx] = rowsOf(extracted.tables, "transactions", chain.blocks.contractCreation);
    expect(tx!.to).toBeNull();
    expect(tx!.type).toBe(2);
    expect((tx!.input as Uint8Array).length).toBeGreaterThan(15);
    expect(rowsOf(extracted.tables, "transactions", chain.blocks.contractCreation)).toHaveLength(1);
  });

  it("value transfers: legacy, EIP-2930 and EIP-1559 fee columns and signature parity", () => {
    const rows = rowsOf(extracted.tables, "transactions", chain.blocks.valueTransfers);
    expect(rows.map((row) => row.type)).toEqual([0, 1, 2, 0]);
    expect(rows.map((row) => row.gas_price)).toEqual([20_000_000_000n, 21_000_000_000n, null, 25_000_000_000n]);
    expect(rows.map((row) => row.max_fee_per_gas)).toEqual([20_000_000_000n, 21_000_000_000n, 30_000_000_000n, 25_000_000_000n]);
    expect(rows.map((row) => row.max_priority_fee_per_gas)).toEqual([null, null, 1_500_000_000n, null]);
    expect(rows.map((row) => row.max_fee_per_blob_gas)).toEqual([null, null, null, null]);
    expect(rows.map((row) => row.value)).toEqual([10n ** 18n, 12_345n, 3n * 10n ** 17n, 1n]);
    expect(rows.map((row) => row.tx_index)).toEqual([0, 1, 2, 3]);
    for (const row of rows) {
      expect((row.r as Uint8Array).length).toBe(32);
      expect((row.s as Uint8Array).length).toBe(32);
      expect([0, 1]).toContain((row.v as Uint8Array).length);
      expect(row.status).toBe(true);
    }
    // Cumulative gas: 21,000 per plain transfer, the EIP-2930 one pays for its access list too.
    const gasUsed = rows.map((row) => row.gas_used as bigint);
    expect(gasUsed[0]).toBe(21_000n);
    expect(gasUsed.every((gas, i) => i === 0 || gas > gasUsed[i - 1]!)).toBe(true);
  });

  it("logs with 0, 1, 2, 3 and 4 topics, then all five from one transaction", () => {
    const logs = rowsOf(extracted.tables, "logs", chain.blocks.logs);
    const topicCount = (row: Row) => ["topic0", "topic1", "topic2", "topic3"].filter((name) => row[name] !== null).length;
    expect(logs.map(topicCount)).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    expect(logs.map((row) => row.log_index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(logs.map((row) => row.tx_index)).toEqual([0, 1, 2, 3, 4, 5, 5, 5, 5, 5]);
    const [, , , , log4] = logs;
    expect(log4!.topic0).toEqual(hexToBytes(word(0x501)));
    expect(log4!.topic3).toEqual(hexToBytes(word(0x504)));
    // LOG4 has no fifth topic column: the emitter's fourth word stays in data only.
    expect(logs.every((row) => (row.address as Uint8Array).length === 20)).toBe(true);
    expect((logs[9]!.data as Uint8Array).slice(-4)).toEqual(Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
  });

  it("a reverted transaction in the middle: dropped with its logs, tx_index renumbered, logs keep the node's index", async () => {
    const txs = rowsOf(extracted.tables, "transactions", chain.blocks.revertedMiddle);
    const logs = rowsOf(extracted.tables, "logs", chain.blocks.revertedMiddle);
    const { block, receipts } = node.get(chain.blocks.revertedMiddle)!;
    expect(receipts.map((receipt) => receipt.status)).toEqual(["0x1", "0x0", "0x1"]);
    expect(txs.map((row) => row.tx_index)).toEqual([0, 1]);
    expect(txs.map((row) => row.tx_hash)).toEqual([bytes(block.transactions[0].hash), bytes(block.transactions[2].hash)]);
    // gas_used is cumulative, so the third transaction's includes the reverted one's gas.
    expect(txs[1]!.gas_used).toBe(hexToBigInt(receipts[2]!.cumulativeGasUsed));
    expect(logs).toHaveLength(1);
    expect(logs[0]!.tx_index).toBe(2);
    expect(logs[0]!.tx_hash).toEqual(bytes(block.transactions[2].hash));
  });

  it("a reverted transaction first: the next one becomes tx_index 0", () => {
    const txs = rowsOf(extracted.tables, "transactions", chain.blocks.revertedFirst);
    const logs = rowsOf(extracted.tables, "logs", chain.blocks.revertedFirst);
    expect(txs.map((row) => row.tx_index)).toEqual([0]);
    expect(logs.map((row) => row.tx_index)).toEqual([1]);
    expect(logs[0]!.topic2).toEqual(hexToBytes(word(0xa03)));
  });

  it("no reverted transaction, and no log of one, appears anywhere", () => {
    const reverted = new Set(chain.revertedTransactions.map((hash) => hash.toLowerCase()));
    expect(reverted.size).toBeGreaterThanOrEqual(2);
    const hex = (value: ColumnValue) => `0x${[...(value as Uint8Array)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
    expect(extracted.tables.transactions.tx_hash.map(hex).filter((hash) => reverted.has(hash))).toEqual([]);
    expect(extracted.tables.logs.tx_hash.map(hex).filter((hash) => reverted.has(hash))).toEqual([]);
    expect(extracted.tables.transactions.status.every((status) => status === true)).toBe(true);
  });

  it("an EIP-7702 transaction: type 4, no gas_price, its log from the delegating account", () => {
    const txs = rowsOf(extracted.tables, "transactions", chain.blocks.setCode);
    expect(txs.map((row) => row.type)).toEqual([4, 2]);
    expect(txs[0]!.gas_price).toBeNull();
    expect(txs[0]!.max_fee_per_gas).toBe(40_000_000_000n);
    expect(txs[0]!.max_priority_fee_per_gas).toBe(2_000_000_000n);
    const [log] = rowsOf(extracted.tables, "logs", chain.blocks.setCode);
    expect(log!.address).toEqual(txs[0]!.to);
  });

  it("empty blocks have a blocks row and nothing else", () => {
    expect(chain.blocks.empty.length).toBeGreaterThanOrEqual(5);
    for (const n of chain.blocks.empty) {
      expect(rowsOf(extracted.tables, "blocks", n)).toHaveLength(1);
      expect(rowsOf(extracted.tables, "transactions", n)).toHaveLength(0);
      expect(rowsOf(extracted.tables, "logs", n)).toHaveLength(0);
    }
  });

  it("timestamps are the block's seconds in nanoseconds, on every table", () => {
    const { block } = node.get(chain.blocks.logs)!;
    const ts = hexToBigInt(block.timestamp) * NS;
    for (const table of ["blocks", "transactions", "logs"] as const) {
      for (const row of rowsOf(extracted.tables, table, chain.blocks.logs)) expect(row.timestamp).toBe(ts);
    }
  });
});
