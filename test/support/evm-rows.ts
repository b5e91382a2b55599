import { type EvmRpcTableName, fileFields } from "../../src/domain/dataset-kinds/evm-rpc";
import type { ColumnValues } from "../../src/parquet";

/**
 * Synthetic but mainnet-shaped rows for the three evm-rpc tables, for the
 * Parquet tests and bench/parquet.ts: hashes and signatures are random, while
 * addresses, event signatures, calldata and amounts repeat and have the zero
 * padding real ones have, so dictionary and snappy behave as on real data.
 * Deterministic for a seed.
 */

export type RowValue = bigint | number | boolean | Uint8Array | null;
export type Row = Record<string, RowValue>;

export interface EvmRows {
  blocks: Row[];
  transactions: Row[];
  logs: Row[];
}

export interface SyntheticOptions {
  startBlock: number;
  blockCount: number;
  /** Transactions per block on average (mainnet: ~150). */
  transactionsPerBlock: number;
  /** Logs per transaction on average (mainnet: ~2.5). */
  logsPerTransaction: number;
  seed: number;
}

/** xorshift32: small, fast and deterministic. */
export function createRandom(seed: number): { next(): number; below(n: number): number; bytes(n: number): Uint8Array } {
  let state = seed >>> 0 || 0x9e3779b9;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
  return {
    next,
    below: (n) => Math.floor(next() * n),
    bytes: (n) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = (next() * 256) | 0;
      return out;
    },
  };
}

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from({ length: hex.length / 2 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
}

const EMPTY_OMMERS_HASH = fromHex("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347");

function padAddress(address: Uint8Array): Uint8Array {
  const word = new Uint8Array(32);
  word.set(address, 12);
  return word;
}

function amountWord(random: ReturnType<typeof createRandom>): Uint8Array {
  const word = new Uint8Array(32);
  const significant = 4 + random.below(10);
  word.set(random.bytes(significant), 32 - significant);
  return word;
}

export function syntheticEvmRows(options: SyntheticOptions): EvmRows {
  const random = createRandom(options.seed);
  const miners = Array.from({ length: 20 }, () => random.bytes(20));
  const accounts = Array.from({ length: 5000 }, () => random.bytes(20));
  const contracts = Array.from({ length: 300 }, () => random.bytes(20));
  const eventSignatures = Array.from({ length: 60 }, () => random.bytes(32));
  const selectors = Array.from({ length: 80 }, () => random.bytes(4));
  const rows: EvmRows = { blocks: [], transactions: [], logs: [] };
  let parentHash = random.bytes(32);

  for (let b = 0; b < options.blockCount; b++) {
    const number = BigInt(options.startBlock + b);
    const hash = random.bytes(32);
    const timestamp = (1_650_000_000n + BigInt(b) * 12n) * 1_000_000_000n;
    const baseFee = 5_000_000_000n + BigInt(random.below(50_000_000_000));
    const transactionCount = random.below(2 * options.transactionsPerBlock + 1);
    let cumulativeGas = 0n;
    let logIndex = 0;

    for (let t = 0; t < transactionCount; t++) {
      const txHash = random.bytes(32);
      const creation = random.next() < 0.01;
      const transfer = !creation && random.next() < 0.3;
      const to = creation ? null : transfer ? accounts[random.below(accounts.length)]! : contracts[random.below(contracts.length)]!;
      let input: Uint8Array;
      if (creation) {
        input = random.bytes(2000 + random.below(20_000));
      } else if (transfer) {
        input = new Uint8Array(0);
      } else {
        const words = 1 + random.below(6);
        input = new Uint8Array(4 + 32 * words);
        input.set(selectors[random.below(selectors.length)]!, 0);
        for (let w = 0; w < words; w++) {
          input.set(random.next() < 0.5 ? padAddress(accounts[random.below(accounts.length)]!) : amountWord(random), 4 + 32 * w);
        }
      }
      const gas = 21_000n + BigInt(random.below(300_000));
      cumulativeGas += gas;
      const type = random.next() < 0.8 ? 2 : 0;
      const priorityFee = BigInt(random.below(3_000_000_000));
      rows.transactions.push({
        _block_num: number,
        block_hash: hash,
        block_num: number,
        timestamp,
        tx_index: t,
        tx_hash: txHash,
        to,
        nonce: BigInt(random.below(100_000)),
        gas_price: baseFee + priorityFee,
        gas_limit: gas + BigInt(random.below(100_000)),
        value: transfer ? BigInt(random.below(1_000_000_000)) * 1_000_000_000n : 0n,
        input,
        v: random.next() < 0.5 ? new Uint8Array(0) : Uint8Array.of(1),
        r: random.bytes(32),
        s: random.bytes(32),
        gas_used: cumulativeGas,
        type,
        max_fee_per_gas: type === 2 ? baseFee * 2n + priorityFee : null,
        max_priority_fee_per_gas: type === 2 ? priorityFee : null,
        max_fee_per_blob_gas: null,
        from: accounts[random.below(accounts.length)]!,
        status: true,
      });

      const logCount = transfer ? 0 : random.below(2 * options.logsPerTransaction + 1);
      for (let l = 0; l < logCount; l++) {
        const topicCount = random.below(5);
        const topic = (i: number): Uint8Array | null =>
          i >= topicCount ? null : i === 0 ? eventSignatures[random.below(eventSignatures.length)]! : padAddress(accounts[random.below(accounts.length)]!);
        rows.logs.push({
          _block_num: number,
          block_hash: hash,
          block_num: number,
          timestamp,
          tx_hash: txHash,
          tx_index: t,
          log_index: logIndex++,
          address: contracts[random.below(contracts.length)]!,
          topic0: topic(0),
          topic1: topic(1),
          topic2: topic(2),
          topic3: topic(3),
          data: random.next() < 0.2 ? new Uint8Array(0) : random.next() < 0.8 ? amountWord(random) : random.bytes(32 * (2 + random.below(6))),
        });
      }
    }

    const bloom = new Uint8Array(256);
    for (let i = 0; i < 3 * logIndex; i++) bloom[random.below(256)]! |= 1 << random.below(8);
    const cancun = random.next() < 0.5;
    rows.blocks.push({
      _block_num: number,
      block_num: number,
      timestamp,
      hash,
      parent_hash: parentHash,
      ommers_hash: EMPTY_OMMERS_HASH,
      miner: miners[random.below(miners.length)]!,
      state_root: random.bytes(32),
      transactions_root: random.bytes(32),
      receipt_root: random.bytes(32),
      logs_bloom: bloom,
      difficulty: 0n,
      // Post-merge nodes stopped sending totalDifficulty; older ones send it.
      total_difficulty: random.next() < 0.5 ? null : 58_750_003_716_598_352_816_469n,
      gas_limit: 30_000_000n,
      gas_used: cumulativeGas,
      extra_data: random.bytes(random.below(33)),
      mix_hash: random.bytes(32),
      nonce: 0n,
      base_fee_per_gas: baseFee,
      withdrawals_root: random.bytes(32),
      blob_gas_used: cancun ? BigInt(random.below(6) * 131_072) : null,
      excess_blob_gas: cancun ? BigInt(random.below(10_000_000)) : null,
      parent_beacon_root: cancun ? random.bytes(32) : null,
    });
    parentHash = hash;
  }
  return rows;
}

/** The rows of a table as one array per column, in file order. */
export function columnsOf(table: EvmRpcTableName, rows: readonly Row[]): ColumnValues[] {
  return fileFields(table).map((field) => rows.map((row) => {
    const value = row[field.name];
    if (value === undefined) throw new Error(`row has no ${field.name}`);
    return value;
  }) as ColumnValues);
}
