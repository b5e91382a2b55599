/// <reference path="./squirreling-evaluate.d.ts" />
/**
 * One dependency table as a squirreling data source: the Parquet files of its
 * canonical chain in R2, read with hyparquet over ranged gets. A scan reads
 * only the columns the plan asks for, skips files whose block range and row
 * groups whose statistics cannot match (the `_block_num` bounds of the scan,
 * from the step's block range or the query's WHERE, and equalities on other
 * columns), and counts every byte it fetches against the query's budget.
 */
import { asyncRow, type AsyncDataSource, type AsyncRow, type ExecuteContext, type ScanOptions, type ScanResults } from "squirreling";
import { evaluateExpr } from "squirreling/src/expression/evaluate.js";
import type { BlockRange } from "../domain/block-range";
import { hexToBytes } from "../domain/hex";
import { type ParquetFooter, rangeSource, readParquetFooter, readRowGroupColumns, rowGroupColumnRange } from "../parquet";
import { type ColumnBounds, scanBounds } from "./scan-bounds";
import type { QueryBudget } from "./query-budget";
import { StorageError } from "./sql-errors";
import type { SqlField } from "./sql-types";
import { toEngine, type ToEngine } from "./sql-values";

/** A file of the table's canonical chain. */
export interface TableFile {
  key: string;
  size: number;
  range: BlockRange;
  /** The hash of the range's end block, when the listing knows it. */
  hash?: string;
}

export interface ParquetTableOptions {
  bucket: R2Bucket;
  fields: readonly SqlField[];
  files: readonly TableFile[];
  /** The rows a step may see: `_block_num` within it. Absent for ad hoc queries. */
  blocks?: BlockRange;
  budget: QueryBudget;
  /** Rows in no file yet (a sibling table's, computed earlier in the same step), in engine form. */
  pendingRows?: PendingRows;
}

/** Rows that replace the files' rows from block `from` on. */
export interface PendingRows {
  from: number;
  rows: readonly Record<string, unknown>[];
}

/** Row groups a scan will read: which file, which group, how many bytes its needed columns take. */
export interface PlannedGroup {
  file: TableFile;
  footer: ParquetFooter;
  group: number;
  bytes: number;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Whether a value may lie within [min, max] of a row group's statistics. */
function mayContain(min: unknown, max: unknown, value: string | bigint | number): boolean {
  if (typeof value === "string") {
    if (!(min instanceof Uint8Array) || !(max instanceof Uint8Array) || !/^0x([0-9a-f]{2})*$/.test(value)) return true;
    const bytes = hexToBytes(value);
    return compareBytes(min, bytes) <= 0 && compareBytes(bytes, max) <= 0;
  }
  if ((typeof min === "bigint" || typeof min === "number") && (typeof max === "bigint" || typeof max === "number")) {
    return min <= value && value <= max;
  }
  return true;
}

export class ParquetTable implements AsyncDataSource {
  readonly columns: string[];
  private readonly footers = new Map<string, Promise<ParquetFooter>>();
  private readonly converters: Map<string, ToEngine>;
  /**
   * The query's tables and functions, for evaluating a scan's WHERE here: squirreling's own filter
   * buffers every row of a scan without LIMIT before it evaluates any (filterRows starts with a chunk
   * of `limit ?? Infinity` rows), which would hold a whole table in memory.
   */
  context: ExecuteContext | null = null;

  constructor(private readonly options: ParquetTableOptions) {
    this.columns = options.fields.map((field) => field.name);
    this.converters = new Map(options.fields.map((field) => [field.name, toEngine(field)]));
  }

  private fileSource(file: TableFile) {
    const { bucket, budget } = this.options;
    return rangeSource(file.size, async (offset, length) => {
      budget.chargeBytes(length);
      try {
        const object = await bucket.get(file.key, { range: { offset, length } });
        if (!object) throw new StorageError(`file ${file.key} is listed but missing from R2`);
        return await object.arrayBuffer();
      } catch (error) {
        throw error instanceof StorageError ? error : new StorageError(`reading ${file.key} from R2 failed`, { cause: error });
      }
    });
  }

  private footer(file: TableFile): Promise<ParquetFooter> {
    let footer = this.footers.get(file.key);
    if (!footer) {
      footer = readParquetFooter(this.fileSource(file));
      this.footers.set(file.key, footer);
    }
    return footer;
  }

  private blockBounds(bounds: ColumnBounds): BlockRange | null {
    let start = this.options.blocks?.start ?? 0;
    let end = this.options.blocks?.end ?? Number.MAX_SAFE_INTEGER;
    const own = bounds.ranges.get("_block_num");
    if (own) {
      start = Math.max(start, own.start);
      end = Math.min(end, own.end);
    }
    return start <= end ? { start, end } : null;
  }

  /** The row groups a scan with these hints reads, after pruning; reads footers only. */
  async plan(hints: Pick<ScanOptions, "columns" | "where">): Promise<PlannedGroup[]> {
    const bounds = scanBounds(hints.where);
    const blocks = this.blockBounds(bounds);
    if (!blocks) return [];
    const columns = hints.columns ?? this.columns;
    const planned: PlannedGroup[] = [];
    for (const file of this.options.files) {
      if (file.range.end < blocks.start || file.range.start > blocks.end) continue;
      const footer = await this.footer(file);
      footer.metadata.row_groups.forEach((rowGroup, group) => {
        const blockRange = rowGroupColumnRange(footer, group, "_block_num");
        if (blockRange && typeof blockRange.min === "bigint" && typeof blockRange.max === "bigint") {
          if (blockRange.max < BigInt(blocks.start) || blockRange.min > BigInt(blocks.end)) return;
        }
        for (const [column, value] of bounds.equals) {
          const range = rowGroupColumnRange(footer, group, column);
          if (range && !mayContain(range.min, range.max, value)) return;
        }
        let bytes = 0;
        for (const chunk of rowGroup.columns) {
          const name = chunk.meta_data?.path_in_schema.join(".");
          if (name !== undefined && columns.includes(name)) bytes += Number(chunk.meta_data?.total_compressed_size ?? 0n);
        }
        planned.push({ file, footer, group, bytes });
      });
    }
    return planned;
  }

  scan(options: ScanOptions): ScanResults {
    const columns = options.columns && options.columns.length > 0 ? options.columns : this.columns;
    // The step's range is enforced row by row: a row group straddles it.
    const pendingFrom = this.options.pendingRows?.from;
    const read = [...new Set(this.options.blocks || pendingFrom !== undefined ? ["_block_num", ...columns] : columns)];
    const blocks = this.options.blocks;
    const table = this;
    const where = options.where;
    const context = this.context;
    return {
      appliedWhere: where !== undefined && context !== null,
      appliedLimitOffset: false,
      async *rows(): AsyncGenerator<AsyncRow> {
        const groups = await table.plan({ columns, where: options.where });
        for (const { file, footer, group } of groups) {
          if (options.signal?.aborted) return;
          const values = await readRowGroupColumns(table.fileSource(file), footer, group, read);
          const blockNums = values._block_num;
          const length = values[read[0]!]?.length ?? 0;
          const converted = columns.map((name) => {
            const convert = table.converters.get(name)!;
            return values[name]!.map(convert);
          });
          for (let i = 0; i < length; i++) {
            if (blocks && blockNums) {
              const n = Number(blockNums[i]);
              if (n < blocks.start || n > blocks.end) continue;
            }
            if (pendingFrom !== undefined && blockNums && Number(blockNums[i]) >= pendingFrom) continue;
            table.options.budget.chargeRows(1);
            const row: Record<string, unknown> = {};
            for (let c = 0; c < columns.length; c++) row[columns[c]!] = converted[c]![i];
            const engineRow = asyncRow(row as Parameters<typeof asyncRow>[0], columns);
            if (where !== undefined && context !== null && !(await evaluateExpr({ node: where, row: engineRow, rowIndex: i, context }))) continue;
            yield engineRow;
          }
        }
        const pending = table.options.pendingRows?.rows ?? [];
        for (let i = 0; i < pending.length; i++) {
          const row = pending[i]!;
          const n = Number(row._block_num);
          if (blocks && (n < blocks.start || n > blocks.end)) continue;
          table.options.budget.chargeRows(1);
          const engineRow = asyncRow(row as Parameters<typeof asyncRow>[0], columns);
          if (where !== undefined && context !== null && !(await evaluateExpr({ node: where, row: engineRow, rowIndex: i, context }))) continue;
          yield engineRow;
        }
      },
    };
  }
}
