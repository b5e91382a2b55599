/**
 * Data for the SQL tests, from a node of the test's own: an ERC-20-shaped
 * contract whose calls emit `Transfer(from, to, value)` logs exactly as a
 * token does (topics: signature, from, to; data: value), a run of transfers
 * whose values the test knows, then the node's blocks, transactions and logs
 * extracted with the project's client and written with the project's
 * Parquet writer into local R2, as files of an evm-rpc dataset's active
 * locations, as a job would leave them.
 */
import { env } from "cloudflare:test";
import { afterAll, beforeAll } from "vitest";
import { fileFields, EVM_RPC_TABLE_NAMES, type EvmRpcTableName } from "../../../src/domain/dataset-kinds/evm-rpc";
import type { BlockRange } from "../../../src/domain/block-range";
import { evmRpcManifest } from "../../../src/domain/manifest/evm-rpc";
import { prepareManifest } from "../../../src/domain/manifest/parse";
import { nozzleMetadata, parquetFileName } from "../../../src/domain/parquet-file";
import type { BlockRef, ColumnValue, TableColumns } from "../../../src/extract/block-source";
import { EvmRpcClient } from "../../../src/extract/evm-rpc/client";
import { BufferSink, type ColumnValues, ParquetStreamWriter } from "../../../src/parquet";
import { registerDatasetWithManifest } from "../../../src/store/datasets";
import { openDb } from "../../../src/store/db";
import { fileObjectKey, locationPath, locationUrl } from "../../../src/store/r2-layout";
import { files, locations } from "../../../src/store/schema";
import { startFreshNode } from "../fault-control";
import { harness } from "../provided-context";

export const TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

/**
 * Runtime: LOG3(topics = calldata words 0, 1, 2; data = calldata word 3).
 * PUSH1 32 PUSH1 96 PUSH1 0 CALLDATACOPY; PUSH1 64 CALLDATALOAD; PUSH1 32
 * CALLDATALOAD; PUSH1 0 CALLDATALOAD; PUSH1 32 PUSH1 0 LOG3; STOP. The init
 * code copies it to memory and returns it.
 */
const RUNTIME = "60206060600037604035602035600035602060" + "00a300";
const INIT = `0x6016600c60003960166000f3${RUNTIME}`;

export async function rpc<T = unknown>(url: string, method: string, params: unknown[]): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: T; error?: unknown };
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result as T;
}

const word = (hex: string) => hex.replace(/^0x/, "").padStart(64, "0");

export interface SentTransfer {
  block: number;
  txHash: string;
  from: string;
  to: string;
  value: bigint;
}

export interface TransferChain {
  token: string;
  sender: string;
  transfers: SentTransfer[];
  head: number;
}

/** Deploys the token-shaped emitter and sends `values.length` transfers between two accounts, one per block. */
export async function sendTransfers(url: string, values: readonly bigint[]): Promise<TransferChain> {
  const [sender, other] = await rpc<string[]>(url, "eth_accounts", []);
  const deployHash = await rpc<string>(url, "eth_sendTransaction", [{ from: sender, data: INIT, gas: "0x100000" }]);
  await rpc(url, "evm_mine", []);
  const receipt = await rpc<{ contractAddress: string }>(url, "eth_getTransactionReceipt", [deployHash]);
  const token = receipt.contractAddress.toLowerCase();
  const transfers: SentTransfer[] = [];
  for (const [i, value] of values.entries()) {
    const from = (i % 2 === 0 ? sender! : other!).toLowerCase();
    const to = (i % 2 === 0 ? other! : sender!).toLowerCase();
    const data = `0x${word(TRANSFER_TOPIC)}${word(from)}${word(to)}${value.toString(16).padStart(64, "0")}`;
    const txHash = await rpc<string>(url, "eth_sendTransaction", [{ from: sender, to: token, data, gas: "0x100000" }]);
    await rpc(url, "evm_mine", []);
    const tx = await rpc<{ blockNumber: string }>(url, "eth_getTransactionReceipt", [txHash]);
    transfers.push({ block: Number(tx.blockNumber), txHash, from, to, value });
  }
  const head = Number(await rpc<string>(url, "eth_blockNumber", []));
  return { token, sender: sender!.toLowerCase(), transfers, head };
}

export interface ExtractedDataset {
  hash: string;
  network: string;
  locations: Record<EvmRpcTableName, { id: number; path: string }>;
}

function slice(columns: TableColumns, from: number, to: number): Record<string, ColumnValues> {
  const out: Record<string, ColumnValue[]> = {};
  for (const [name, values] of Object.entries(columns)) out[name] = values.slice(from, to);
  return out as Record<string, ColumnValues>;
}

/** Writes one file per table for `range` (rows already extracted) and registers it. */
async function writeRangeFiles(dataset: ExtractedDataset, range: BlockRange, blocks: BlockRef[], tables: Record<string, TableColumns>) {
  const end = blocks.find((b) => b.number === range.end)!;
  const start = blocks.find((b) => b.number === range.start)!;
  for (const table of EVM_RPC_TABLE_NAMES) {
    const columns = tables[table]!;
    const blockNums = columns._block_num!;
    let from = 0;
    while (from < blockNums.length && Number(blockNums[from]) < range.start) from++;
    let to = from;
    while (to < blockNums.length && Number(blockNums[to]) <= range.end) to++;
    const fileName = parquetFileName(range, end.hash);
    const metadata = nozzleMetadata({ table, network: dataset.network, range, hash: end.hash, prevHash: start.parentHash }, Date.now());
    const sink = new BufferSink();
    const writer = new ParquetStreamWriter({ fields: fileFields(table), sink });
    if (to > from) await writer.writeRowGroup(slice(columns, from, to));
    await writer.finish({ nozzle_metadata: JSON.stringify(metadata), parent_file_ids: "[]", generation: "0" });
    const location = dataset.locations[table];
    const object = (await env.BUCKET.put(fileObjectKey(location.path, fileName), sink.bytes()))!;
    await openDb(env.DB)
      .insert(files)
      .values({
        locationId: location.id,
        fileName,
        rangeStart: range.start,
        rangeEnd: range.end,
        endHash: end.hash,
        prevHash: start.parentHash,
        rowCount: to - from,
        objectSize: object.size,
        objectETag: object.etag,
        objectVersion: null,
        metadata: metadata as unknown as Record<string, unknown>,
        createdAt: new Date().toISOString(),
      });
  }
}

/**
 * Registers `namespace/name@version` as the evm-rpc dataset of `network`,
 * and writes the node's blocks as files of the given ranges (each range one
 * file per table).
 */
export async function extractDataset(
  url: string,
  dataset: { namespace: string; name: string; version: string; network: string },
  ranges: readonly BlockRange[],
): Promise<ExtractedDataset> {
  const prepared = await prepareManifest(evmRpcManifest(dataset.network));
  if (!prepared.ok) throw new Error(prepared.message);
  const db = openDb(env.DB);
  await registerDatasetWithManifest(db, env.BUCKET, { hash: prepared.hash, canonical: prepared.canonical, kind: prepared.kind }, {
    dataset: { namespace: dataset.namespace, name: dataset.name },
    version: dataset.version,
  });
  const created = {} as Record<EvmRpcTableName, { id: number; path: string }>;
  for (const table of EVM_RPC_TABLE_NAMES) {
    const path = locationPath(dataset.name, table, crypto.randomUUID());
    const [row] = await db
      .insert(locations)
      .values({
        manifestHash: prepared.hash,
        tableName: table,
        datasetNamespace: dataset.namespace,
        datasetName: dataset.name,
        bucket: env.BUCKET_NAME,
        path,
        url: locationUrl(env.BUCKET_NAME, path),
        active: true,
        writer: null,
        createdAt: new Date().toISOString(),
      })
      .returning();
    created[table] = { id: row!.id, path };
  }
  const extracted: ExtractedDataset = { hash: prepared.hash, network: dataset.network, locations: created };
  await appendRanges(url, extracted, ranges);
  return extracted;
}

/** Extracts more ranges of the node into the dataset's files. */
export async function appendRanges(url: string, dataset: ExtractedDataset, ranges: readonly BlockRange[]): Promise<void> {
  const client = new EvmRpcClient({ url });
  for (const range of ranges) {
    const blocks: BlockRef[] = [];
    const tables: Record<string, TableColumns> = {};
    for await (const chunk of client.blocks(range.start, range.end)) {
      blocks.push(...chunk.blocks);
      for (const [table, columns] of Object.entries(chunk.tables)) {
        const into = (tables[table] ??= Object.fromEntries(Object.keys(columns).map((name) => [name, [] as ColumnValue[]])));
        for (const [name, values] of Object.entries(columns)) into[name]!.push(...values);
      }
    }
    await writeRangeFiles(dataset, range, blocks, tables);
  }
}

/** Transfer values covering what precision can lose: 0, above 2^53, above 2^64, and uint256's maximum. */
export const TRANSFER_VALUES = [1n, 10n ** 18n, 2n ** 64n + 7n, 2n ** 256n - 1n, 12345n, 0n];

/**
 * For a test file: a fresh node with the transfers, extracted as `_/eth_rpc@1.0.0` of network "anvil" in two
 * files per table; the returned object is filled before the tests run.
 */
export function useTransferDataset(): { chain: TransferChain; dataset: ExtractedDataset; url: string } {
  const state = {} as { chain: TransferChain; dataset: ExtractedDataset; url: string };
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const node = await startFreshNode(harness().harnessUrl, { seed: false });
    stop = node.stop;
    state.url = node.url;
    state.chain = await sendTransfers(node.url, TRANSFER_VALUES);
    const mid = Math.floor(state.chain.head / 2);
    state.dataset = await extractDataset(node.url, { namespace: "_", name: "eth_rpc", version: "1.0.0", network: "anvil" }, [
      { start: 0, end: mid },
      { start: mid + 1, end: state.chain.head },
    ]);
  });
  afterAll(async () => stop?.());
  return state;
}
