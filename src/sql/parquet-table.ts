/// <reference path="./squirreling-evaluate.d.ts" />
/**
 * One dependency table as a squirreling data source: the Parquet files of its
 * canonical chain in R2, read with hyparquet over ranged gets. A scan reads
 * only the columns the plan asks for, skips files whose block range and row
 * groups whose statistics cannot match (the `_block_num` bounds of the scan,
 * from the step's block range or the query's WHERE, and equalities on other
 * columns), and counts every byte it fetches against the query's budget.
 * Within a row group it reads the columns of the WHERE's column tests
 * (scan-filter.ts) first and the others only if a row passes, and builds rows
 * only for the rows that pass: squirreling's cost is per row it sees.
 */
import { asyncRow, type AsyncCells, type AsyncDataSource, type AsyncRow, type ExecuteContext, type ScanOptions, type ScanResults, type SqlPrimitive } from "squirreling";
import { evaluateExpr } from "squirreling/src/expression/evaluate.js";
import type { BlockRange } from "../domain/block-range";
import { hexToBytes } from "../domain/hex";
import { type ParquetFooter, type ParquetValue, rangeSource, readParquetFooter, readRowGroupColumns, rowGroupColumnRange } from "../parquet";
import { type ColumnBounds, scanBounds } from "./scan-bounds";
import type { QueryBudget } from "./query-budget";
import { StorageError } from "./sql-errors";
import type { SqlField } from "./sql-types";
import { compileScanFilter } from "./scan-filter";
import { isBinaryType, toEngine, type ToEngine } from "./sql-values";

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

/**
 * Row `i` of a row group's columns, each value converted to its engine form
 * when the engine first asks for it: a column the scan reads only for its
 * WHERE (`topic0`), already decided by the column tests, is never converted.
 */
function lazyRow(columns: string[], stored: readonly ParquetValue[][], converters: readonly ToEngine[], i: number): AsyncRow {
  const cells: AsyncCells = {};
  for (let c = 0; c < columns.length; c++) {
    const raw = stored[c]![i] ?? null;
    const convert = converters[c]!;
    let value: Promise<SqlPrimitive> | undefined;
    cells[columns[c]!] = () => (value ??= Promise.resolve(convert(raw)));
  }
  return { columns, cells };
}

export class ParquetTable implements AsyncDataSource {
  readonly columns: string[];
  private readonly footers = new Map<string, Promise<ParquetFooter>>();
  private readonly converters: Map<string, ToEngine>;
  private readonly binaryColumns: Set<string>;
  /**
   * The query's tables and functions, for evaluating a scan's WHERE here: squirreling's own filter
   * buffers every row of a scan without LIMIT before it evaluates any (filterRows starts with a chunk
   * of `limit ?? Infinity` rows), which would hold a whole table in memory.
   */
  context: ExecuteContext | null = null;

  constructor(private readonly options: ParquetTableOptions) {
    this.columns = options.fields.map((field) => field.name);
    this.converters = new Map(options.fields.map((field) => [field.name, toEngine(field)]));
    this.binaryColumns = new Set(options.fields.filter((field) => isBinaryType(field.type)).map((field) => field.name));
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

  /**
   * Whether every row of a group lies within the rows the scan may see (the step's range, and below the
   * pending rows), by its `_block_num` statistics, so no row needs its own check.
   */
  private groupWithinBlocks(footer: ParquetFooter, group: number): boolean {
    const blocks = this.options.blocks;
    const pendingFrom = this.options.pendingRows?.from;
    if (!blocks && pendingFrom === undefined) return true;
    const range = rowGroupColumnRange(footer, group, "_block_num");
    if (!range || typeof range.min !== "bigint" || typeof range.max !== "bigint") return false;
    if (blocks && (range.min < BigInt(blocks.start) || range.max > BigInt(blocks.end))) return false;
    return pendingFrom === undefined || range.max < BigInt(pendingFrom);
  }

  scan(options: ScanOptions): ScanResults {
    const columns = options.columns && options.columns.length > 0 ? options.columns : this.columns;
    const blocks = this.options.blocks;
    const pendingFrom = this.options.pendingRows?.from;
    const table = this;
    const where = options.where;
    const context = this.context;
    // Without the query's context the engine filters the rows itself, so only tests that cannot be wrong are run here.
    const filter = compileScanFilter(where, { converters: this.converters, binary: this.binaryColumns });
    const residual = context !== null ? filter.residual : undefined;
    const testColumns = [...new Set(filter.tests.map((t) => t.column))];
    return {
      appliedWhere: where !== undefined && context !== null,
      appliedLimitOffset: false,
      async *rows(): AsyncGenerator<AsyncRow> {
        const groups = await table.plan({ columns, where: options.where });
        for (const { file, footer, group } of groups) {
          if (options.signal?.aborted) return;
          const source = table.fileSource(file);
          // The step's range is enforced row by row where a row group straddles it.
          const checkBlocks = !table.groupWithinBlocks(footer, group);
          const first = [...new Set(checkBlocks ? ["_block_num", ...testColumns] : testColumns)];
          const values: Record<string, ParquetValue[]> = first.length > 0 ? await readRowGroupColumns(source, footer, group, first) : {};
          const length = footer.rowGroups[group]!.rowCount;
          // The rows this group contributes: in range first (those are the rows scanned), then past the tests.
          let selected: number[] | null = null;
          if (checkBlocks) {
            const blockNums = values._block_num!;
            selected = [];
            for (let i = 0; i < length; i++) {
              const n = Number(blockNums[i]);
              if (blocks && (n < blocks.start || n > blocks.end)) continue;
              if (pendingFrom !== undefined && n >= pendingFrom) continue;
              selected.push(i);
            }
          }
          table.options.budget.chargeRows(selected ? selected.length : length);
          for (const { column, test } of filter.tests) {
            const stored = values[column]!;
            if (selected) selected = selected.filter((i) => test(stored[i] ?? null));
            else {
              selected = [];
              for (let i = 0; i < length; i++) if (test(stored[i] ?? null)) selected.push(i);
            }
          }
          if (selected && selected.length === 0) continue;
          const rest = columns.filter((name) => !(name in values));
          if (rest.length > 0) Object.assign(values, await readRowGroupColumns(source, footer, group, rest));
          const stored = columns.map((name) => values[name]!);
          const converters = columns.map((name) => table.converters.get(name)!);
          const count = selected ? selected.length : length;
          for (let k = 0; k < count; k++) {
            const i = selected ? selected[k]! : k;
            const engineRow = lazyRow(columns, stored, converters, i);
            if (residual !== undefined && !(await evaluateExpr({ node: residual, row: engineRow, rowIndex: i, context: context! }))) continue;
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
