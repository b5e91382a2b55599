import type { AsyncBuffer } from "hyparquet";
import { parquetRead } from "hyparquet/src/read.js";
import { decimalFromBytes, exactSchema, type ParquetFooter, type ParquetValue } from "./reader";

/**
 * Row groups one at a time, for readers that prune by statistics: a group's
 * min/max of a column, and a group's columns as arrays. Values follow the
 * reader's contract (bigint for 64-bit integers, timestamps in their stored
 * unit and decimals; Uint8Array for binary).
 */

export interface ColumnRange {
  min: ParquetValue | Date | string;
  max: ParquetValue | Date | string;
}

/** The min/max statistics of a column in a row group; null when the file has none. */
export function rowGroupColumnRange(footer: ParquetFooter, group: number, column: string): ColumnRange | null {
  const chunk = footer.metadata.row_groups[group]?.columns.find((c) => c.meta_data?.path_in_schema.join(".") === column);
  const stats = chunk?.meta_data?.statistics;
  if (!stats || stats.min_value === undefined || stats.max_value === undefined) return null;
  return { min: stats.min_value as ColumnRange["min"], max: stats.max_value as ColumnRange["max"] };
}

/** The first row of each row group, and the row count as the last entry. */
export function rowGroupStarts(footer: ParquetFooter): number[] {
  const starts = [0];
  for (const group of footer.metadata.row_groups) starts.push(starts[starts.length - 1]! + Number(group.num_rows));
  return starts;
}

/** The given columns of one row group, one array each. */
export async function readRowGroupColumns(
  file: AsyncBuffer,
  footer: ParquetFooter,
  group: number,
  columns: readonly string[],
): Promise<Record<string, ParquetValue[]>> {
  const starts = rowGroupStarts(footer);
  const rowStart = starts[group]!;
  const rowEnd = starts[group + 1]!;
  const { schema, decimalColumns: decimals } = exactSchema(footer);
  const out: Record<string, ParquetValue[]> = {};
  for (const name of columns) out[name] = new Array<ParquetValue>(rowEnd - rowStart);
  if (columns.length === 0 || rowEnd === rowStart) return out;
  await parquetRead({
    file,
    metadata: { ...footer.metadata, schema },
    columns: [...columns],
    rowStart,
    rowEnd,
    utf8: false,
    onChunk: ({ columnName, columnData, rowStart: chunkStart }) => {
      const target = out[columnName];
      if (!target) return;
      const decimal = decimals.has(columnName);
      const offset = chunkStart - rowStart;
      for (let i = 0; i < columnData.length; i++) {
        const index = offset + i;
        if (index < 0 || index >= target.length) continue;
        const value = columnData[i] as ParquetValue | undefined;
        target[index] = value === undefined || value === null ? null : decimal && value instanceof Uint8Array ? decimalFromBytes(value) : value;
      }
    },
  });
  return out;
}
