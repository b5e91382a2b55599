/** Shared by the evm-rpc tests: raw JSON-RPC against a node, and whole ranges through the client. */
import { fileFields, type EvmRpcTableName } from "../../../src/domain/dataset-kinds/evm-rpc";
import { EvmRpcClient, type EvmRpcClientOptions, type EvmRpcProviderSettings } from "../../../src/extract/evm-rpc/client";
import type { ColumnValue, TableColumns } from "../../../src/extract/block-source";
import { emptyColumns, type EvmRpcColumns } from "../../../src/extract/evm-rpc/columns";
import type { BlockRef } from "../../../src/extract/block-source";

export type Json = Record<string, unknown> & { [key: string]: any };

/** One JSON-RPC call straight to a node, bypassing the client: the oracle of the tests. */
export async function rawRpc(url: string, method: string, params: unknown[]): Promise<any> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: unknown };
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

export const quantity = (n: number) => `0x${n.toString(16)}`;

export interface Extracted {
  blocks: BlockRef[];
  tables: EvmRpcColumns;
  chunks: number;
}

/** Every chunk of `start..=end` concatenated. */
export async function extractRange(
  settings: EvmRpcProviderSettings,
  start: number,
  end: number,
  options: EvmRpcClientOptions = {},
): Promise<Extracted> {
  const client = new EvmRpcClient(settings, { retry: { baseDelayMs: 1, maxDelayMs: 10 }, ...options });
  const all: Extracted = { blocks: [], tables: emptyColumns(), chunks: 0 };
  for await (const chunk of client.blocks(start, end)) {
    all.chunks++;
    all.blocks.push(...chunk.blocks);
    for (const table of ["blocks", "transactions", "logs"] as const) {
      const into = all.tables[table] as unknown as TableColumns;
      const from = chunk.tables[table] as unknown as TableColumns;
      for (const name of Object.keys(into)) into[name]!.push(...from[name]!);
    }
  }
  return all;
}

/** The rows of one block in a table, as objects keyed by column name. */
export function rowsOf(tables: EvmRpcColumns, table: EvmRpcTableName, blockNumber: number): Record<string, ColumnValue>[] {
  const columns = tables[table] as unknown as TableColumns;
  const names = fileFields(table).map((field) => field.name);
  const rows: Record<string, ColumnValue>[] = [];
  const blockNums = columns._block_num!;
  for (let i = 0; i < blockNums.length; i++) {
    if (blockNums[i] !== BigInt(blockNumber)) continue;
    rows.push(Object.fromEntries(names.map((name) => [name, columns[name]![i] as ColumnValue])));
  }
  return rows;
}

export async function expectRejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

/** Drains a range through the client, for the error tests. */
export async function drain(client: EvmRpcClient, start: number, end: number): Promise<number> {
  let blocks = 0;
  for await (const chunk of client.blocks(start, end)) blocks += chunk.blocks.length;
  return blocks;
}
