/**
 * The node as the oracle of the chaos jobs: its blocks (hash, parent,
 * transactions) and logs, read with raw JSON-RPC batches, and each table's
 * canonical chain, from the store and the Parquet objects in R2, checked
 * against them block by block.
 */
import { env } from "cloudflare:test";
import { expect } from "vitest";
import { canonicalChain } from "../../../src/domain/canonical-chain";
import { bytesToHex } from "../../../src/domain/hex";
import { readParquetRows } from "../../../src/parquet";
import { openDb } from "../../../src/store/db";
import { type ChainFile, listChainFiles } from "../../../src/store/files";
import { type Location, locationPrefix } from "../../e2e/e2e-support";

export interface NodeBlock {
  hash: string;
  parentHash: string;
  /** The block's successful transactions in order (the transactions table drops failed ones with their logs). */
  transactions: string[];
  /** Logs of the block's receipts. */
  logs: number;
}

/** Calls sent in one JSON-RPC batch. */
const BATCH = 200;

async function batchRpc(url: string, calls: { method: string; params: unknown[] }[]): Promise<unknown[]> {
  const results: unknown[] = [];
  for (let i = 0; i < calls.length; i += BATCH) {
    const body = calls.slice(i, i + BATCH).map((call, k) => ({ jsonrpc: "2.0", id: i + k, ...call }));
    const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const answers = (await response.json()) as { id: number; result?: unknown; error?: unknown }[];
    for (const answer of answers.sort((a, b) => a.id - b.id)) {
      if (answer.error) throw new Error(`JSON-RPC error from the node: ${JSON.stringify(answer.error)}`);
      results.push(answer.result);
    }
  }
  return results;
}

/** Blocks `start..=end` of the node's chain as it is now. */
export async function nodeChain(url: string, start: number, end: number): Promise<Map<number, NodeBlock>> {
  const numbers = Array.from({ length: Math.max(0, end - start + 1) }, (_, i) => start + i);
  const blocks = (await batchRpc(url, numbers.map((n) => ({ method: "eth_getBlockByNumber", params: [`0x${n.toString(16)}`, false] })))) as {
    hash: string;
    parentHash: string;
    transactions: string[];
  }[];
  const chain = new Map<number, NodeBlock>();
  numbers.forEach((n, i) => {
    const block = blocks[i];
    if (!block) throw new Error(`the node has no block ${n}`);
    chain.set(n, { hash: block.hash, parentHash: block.parentHash, transactions: block.transactions, logs: 0 });
  });
  const busy = numbers.filter((n) => chain.get(n)!.transactions.length > 0);
  const receipts = (await batchRpc(url, busy.map((n) => ({ method: "eth_getBlockReceipts", params: [`0x${n.toString(16)}`] })))) as {
    transactionHash: string;
    status: string;
    logs: unknown[];
  }[][];
  busy.forEach((n, i) => {
    const block = chain.get(n)!;
    const succeeded = receipts[i]!.filter((receipt) => receipt.status === "0x1");
    block.transactions = succeeded.map((receipt) => receipt.transactionHash);
    block.logs = succeeded.reduce((sum, receipt) => sum + receipt.logs.length, 0);
  });
  return chain;
}

/** The node's head block number. */
export async function nodeHead(url: string): Promise<number> {
  const [head] = (await batchRpc(url, [{ method: "eth_blockNumber", params: [] }])) as string[];
  return Number(head);
}

export interface TableChain {
  /** Every file row of the table. */
  files: ChainFile[];
  /** The canonical chain of those files. */
  canonical: readonly ChainFile[];
}

/** A location's file rows and their canonical chain, from the store. */
export async function tableChain(location: Location, startBlock: number): Promise<TableChain> {
  const files = await listChainFiles(openDb(env.DB), location.id);
  return { files, canonical: canonicalChain(files, startBlock) };
}

const lower = (hash: string) => hash.toLowerCase();

/**
 * Whether a table's canonical chain covers `start..=head` of the node's chain
 * with the node's hashes at every file boundary: the cheap check a test polls
 * while a job settles, before the block-by-block one.
 */
export function chainReaches(chain: TableChain, node: ReadonlyMap<number, NodeBlock>, start: number, head: number): boolean {
  let next = start;
  for (const file of chain.canonical) {
    if (file.range.start !== next) return false;
    const end = node.get(file.range.end);
    if (!end || lower(end.hash) !== lower(file.hash)) return false;
    next = file.range.end + 1;
  }
  return next === head + 1;
}

/**
 * Checks the canonical chain of a table against the node block by block:
 * the files tile `start..=head`, each links to its neighbour by the node's
 * hashes, and their rows are exactly the node's: one blocks row per block
 * with its hash, the block's transactions in order, as many logs as its
 * receipts hold, every row with its block's hash.
 */
export async function expectChainIsNodes(location: Location, chain: TableChain, node: ReadonlyMap<number, NodeBlock>, start: number, head: number): Promise<void> {
  const what = `${location.table} (location ${location.id})`;
  expect(chainReaches(chain, node, start, head), `${what}: canonical ${JSON.stringify(chain.canonical.map((f) => [f.range.start, f.range.end, f.hash]))}`).toBe(true);
  const seen = new Map<number, { rows: number; txs: string[] }>();
  for (const file of chain.canonical) {
    if (file.range.start > 0) expect(lower(file.prevHash ?? ""), `${what} ${file.fileName}: parent hash`).toBe(lower(node.get(file.range.start - 1)!.hash));
    const object = await env.BUCKET.get(locationPrefix(location) + file.fileName);
    if (!object) throw new Error(`${what}: the object of ${file.fileName} is missing`);
    const columns = location.table === "blocks" ? ["_block_num", "hash"] : ["_block_num", "block_hash", "tx_hash"];
    for (const row of await readParquetRows(await object.arrayBuffer(), { columns })) {
      const number = Number(row._block_num as bigint);
      expect(number >= file.range.start && number <= file.range.end, `${what} ${file.fileName} holds block ${number}`).toBe(true);
      const hash = bytesToHex((row.hash ?? row.block_hash) as Uint8Array);
      expect(lower(hash), `${what}: block ${number}'s hash`).toBe(lower(node.get(number)!.hash));
      const entry = seen.get(number) ?? { rows: 0, txs: [] };
      entry.rows++;
      if (row.tx_hash) entry.txs.push(bytesToHex(row.tx_hash as Uint8Array));
      seen.set(number, entry);
    }
  }
  for (let n = start; n <= head; n++) {
    const block = node.get(n)!;
    const rows = seen.get(n) ?? { rows: 0, txs: [] };
    if (location.table === "blocks") expect(rows.rows, `${what}: rows of block ${n}`).toBe(1);
    if (location.table === "transactions") expect(rows.txs.map(lower), `${what}: transactions of block ${n}`).toEqual(block.transactions.map(lower));
    if (location.table === "logs") expect(rows.rows, `${what}: logs of block ${n}`).toBe(block.logs);
  }
}
