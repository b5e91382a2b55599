/**
 * The benchmark chain: anvil 1.4.4 on a free loopback port, seeded with the
 * same fixed chain every time, so figures of different runs and benches
 * compare. Shared by the benches (extract, jobs).
 */
import { type AnvilNode, seedBulkChain, startAnvil } from "../test/support/anvil";

/**
 * Blocks the seeding adds after the genesis block, and transactions spread
 * over them: 8 per busy block, every 5th block busy (see seedBulkChain). A
 * third move value, the rest call the log emitter, most of them emitting one
 * log with 1 or 4 topics and some reverting: about 5,000 logs.
 */
export const BENCH_CHAIN = { blocks: 5_000, transactions: 8_000, perBlock: 8 } as const;

export interface BenchChain {
  url: string;
  /** The last block; the seeded blocks are 1..=head. */
  head: number;
  /** Transactions and logs the node holds in 0..=head, counted from its receipts. */
  transactions: number;
  logs: number;
  seedSeconds: number;
  stop(): Promise<void>;
}

/**
 * Starts anvil and seeds BENCH_CHAIN; stops the node again if seeding fails.
 * Without --prune-history anvil writes the states of old blocks to
 * ~/.foundry/anvil/tmp (about 850 MB for BENCH_CHAIN) and leaves them there
 * when stopped; the benches read blocks and receipts only, which it keeps
 * either way.
 */
export async function startBenchChain(): Promise<BenchChain> {
  const began = performance.now();
  const node: AnvilNode = await startAnvil(["--prune-history"]);
  try {
    const { head } = await seedBulkChain(node.url, BENCH_CHAIN);
    const seedSeconds = (performance.now() - began) / 1000;
    const { transactions, logs } = await countRows(node.url, head);
    return { url: node.url, head, transactions, logs, seedSeconds, stop: node.stop };
  } catch (error) {
    await node.stop();
    throw error;
  }
}

/** Transactions (reverted ones included) and logs of blocks 0..=head, from the node itself. */
async function countRows(url: string, head: number): Promise<{ transactions: number; logs: number }> {
  let transactions = 0;
  let logs = 0;
  const batch = 500;
  for (let from = 0; from <= head; from += batch) {
    const numbers = Array.from({ length: Math.min(batch, head - from + 1) }, (_, i) => from + i);
    const body = numbers.map((n, i) => ({ jsonrpc: "2.0", id: i, method: "eth_getBlockReceipts", params: [`0x${n.toString(16)}`] }));
    const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const results = (await response.json()) as { result: { logs: unknown[] }[] | null }[];
    for (const { result } of results) {
      for (const receipt of result ?? []) {
        transactions++;
        logs += receipt.logs.length;
      }
    }
  }
  return { transactions, logs };
}
