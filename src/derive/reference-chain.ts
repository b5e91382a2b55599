/**
 * Block refs (number, hash, parent hash) from a raw dataset's `blocks`
 * table: the hashes derived files carry in their ranges (derived-datasets.md
 * §2.4), read from the canonical chain's files with the same pruned range
 * reads as queries.
 */
import type { BlockRange } from "../domain/block-range";
import type { BlockRef } from "../extract/block-source";
import { ParquetTable, type TableFile } from "../sql/parquet-table";
import { DEFAULT_QUERY_LIMITS, QueryBudget } from "../sql/query-budget";
import type { SqlField } from "../sql/sql-types";

const COLUMNS = ["_block_num", "hash", "parent_hash"];

const LIMITS = { ...DEFAULT_QUERY_LIMITS, maxBytes: Number.MAX_SAFE_INTEGER, maxScannedRows: Number.MAX_SAFE_INTEGER };

/** The blocks of `range` the files hold, in block order. */
export async function readBlockRefs(bucket: R2Bucket, fields: readonly SqlField[], files: readonly TableFile[], range: BlockRange): Promise<BlockRef[]> {
  const table = new ParquetTable({ bucket, fields, files, blocks: range, budget: new QueryBudget(LIMITS) });
  const refs: BlockRef[] = [];
  for await (const row of table.scan({ columns: COLUMNS }).rows()) {
    const [number, hash, parentHash] = await Promise.all(COLUMNS.map((column) => row.cells[column]!()));
    refs.push({ number: Number(number), hash: String(hash), parentHash: parentHash === null ? null : String(parentHash) });
  }
  return refs.sort((a, b) => a.number - b.number);
}
