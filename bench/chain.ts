/**
 * The benchmark chains: anvil 1.4.4 on a free loopback port, holding the same
 * fixed chain every time, so figures of different runs and benches compare.
 * Shared by the benches (extract, jobs).
 *
 * A chain is seeded once, then its state (blocks, transactions and receipts
 * included) is dumped with anvil_dumpState into
 * `<tmpdir>/amp-edge-bench-chains/<name>-<shape hash>.json` and later runs
 * start anvil with `--load-state` from it, in a second or two instead of
 * the minutes seeding takes. Changing a chain's shape changes its hash, so a
 * stale dump is never used; delete the folder to reseed everything.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { type AnvilNode, seedBulkChain, seedShapedChain, startAnvil } from "../test/support/anvil";

/**
 * The chain bench:extract has always used: 5,000 blocks, 8,000 transactions,
 * 8 per busy block, every 5th block busy (see seedBulkChain). A third move
 * value, the rest call the log emitter, most of them emitting one log with 1
 * or 4 topics and some reverting: about 5,000 logs.
 */
export const BENCH_CHAIN = { blocks: 5_000, transactions: 8_000, perBlock: 8 } as const;

export type ChainName = "bench" | "busy" | "mainnet-density";

/**
 * What each chain holds (seedShapedChain's mix: about 2 logs per transaction,
 * reverts, a contract creation every 100 transactions):
 * - busy: 5,000 blocks, every 5th empty, 5 transactions in the others (4 per block, about 8 logs);
 * - mainnet-density: 200 blocks of 160 transactions (about 330 logs each).
 */
const SHAPES = {
  bench: { seeder: "bulk", ...BENCH_CHAIN },
  busy: { seeder: "shaped", blocks: 5_000, perBlock: 5, emptyEvery: 5 },
  "mainnet-density": { seeder: "shaped", blocks: 200, perBlock: 160, emptyEvery: 0 },
} as const;

export const CHAIN_NAMES = Object.keys(SHAPES) as ChainName[];

export interface BenchChain {
  name: ChainName;
  url: string;
  /** The last block; the seeded blocks are 1..=head. */
  head: number;
  /** Transactions and logs the node holds in 0..=head, counted from its receipts. */
  transactions: number;
  logs: number;
  /** Seconds to seed it, or to load its dumped state. */
  seedSeconds: number;
  /** True when the state came from an earlier run's dump. */
  loaded: boolean;
  /** The anvil process. */
  pid: number;
  stop(): Promise<void>;
}

interface ChainFacts {
  head: number;
  transactions: number;
  logs: number;
}

const CACHE_DIR = path.join(os.tmpdir(), "amp-edge-bench-chains");

function cachePaths(name: ChainName): { state: string; facts: string } {
  const hash = createHash("sha256").update(JSON.stringify({ shape: SHAPES[name], anvil: "1.4.4", mix: 1 })).digest("hex").slice(0, 12);
  const base = path.join(CACHE_DIR, `${name}-${hash}`);
  return { state: `${base}.json`, facts: `${base}.facts.json` };
}

/**
 * Starts anvil with chain `name`, from its dump when there is one, else
 * seeding it and dumping it for next time; stops the node again on failure.
 * Without --prune-history anvil writes the states of old blocks to
 * ~/.foundry/anvil/tmp (about 850 MB for BENCH_CHAIN) and leaves them there
 * when stopped; the benches read blocks and receipts only, which it keeps
 * either way (and which the dump holds).
 */
export async function startBenchChain(name: ChainName = "bench"): Promise<BenchChain> {
  const began = performance.now();
  const paths = cachePaths(name);
  if (existsSync(paths.state) && existsSync(paths.facts)) {
    const facts = JSON.parse(await readFile(paths.facts, "utf8")) as ChainFacts;
    const node = await startAnvil(["--prune-history", "--load-state", paths.state]);
    try {
      const head = await blockNumber(node.url);
      if (head !== facts.head) throw new Error(`the dump of ${name} in ${paths.state} loaded with head ${head}, not ${facts.head}: delete it`);
      return { name, url: node.url, ...facts, seedSeconds: (performance.now() - began) / 1000, loaded: true, pid: node.pid, stop: node.stop };
    } catch (error) {
      await node.stop();
      throw error;
    }
  }
  const node: AnvilNode = await startAnvil(["--prune-history"]);
  try {
    const shape = SHAPES[name];
    const { head } = shape.seeder === "bulk" ? await seedBulkChain(node.url, shape) : await seedShapedChain(node.url, shape);
    const seedSeconds = (performance.now() - began) / 1000;
    const facts: ChainFacts = { head, ...(await countRows(node.url, head)) };
    await dumpState(node.url, paths.state);
    await writeFile(paths.facts, JSON.stringify(facts));
    return { name, url: node.url, ...facts, seedSeconds, loaded: false, pid: node.pid, stop: node.stop };
  } catch (error) {
    await node.stop();
    throw error;
  }
}

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const answer = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
  return answer.result;
}

async function blockNumber(url: string): Promise<number> {
  return Number(await rpc(url, "eth_blockNumber"));
}

/** anvil_dumpState answers the gzipped JSON state as hex; --load-state reads the JSON. Written aside, then renamed, so a crash leaves no half file. */
async function dumpState(url: string, file: string): Promise<void> {
  const hex = (await rpc(url, "anvil_dumpState")) as string;
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(`${file}.partial`, gunzipSync(Buffer.from(hex.slice(2), "hex")));
  await rename(`${file}.partial`, file);
}

/** Transactions (reverted ones included) and logs of blocks 0..=head, from the node itself. */
async function countRows(url: string, head: number): Promise<{ transactions: number; logs: number }> {
  let transactions = 0;
  let logs = 0;
  const batch = 100;
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
