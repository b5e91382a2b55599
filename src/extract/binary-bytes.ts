/**
 * The bytes of a run of rows' binary values, by column type, for TableFile's memory estimate of a row group. A
 * fixed-width column without nulls (hashes, addresses) is its width times the rows, read without looking at a
 * value; a nullable one counts its non-null values; only variable-width columns (input, data, logs_bloom...) read
 * each value's length. Looking at every value of every binary column (an instanceof and a byteLength each) showed
 * in a step's profile (bench:cpu: `binaryBytes`, 69 ms of a busy-chain job's 5.4 s of the Worker's samples).
 * Values of a FixedSizeBinary column are exactly its width: the kinds' row builders decode them so, and the
 * Parquet writer refuses any other.
 */
import type { ArrowField } from "../domain/arrow";
import type { TableColumns } from "./block-source";

export type BinaryBytes = (columns: TableColumns, from: number, to: number) => number;

export function binaryBytesOf(fields: readonly ArrowField[]): BinaryBytes {
  const fixedRows: { name: string; width: number }[] = [];
  const fixedNullable: { name: string; width: number }[] = [];
  const variable: string[] = [];
  for (const field of fields) {
    if (field.type === "Binary") variable.push(field.name);
    else if (typeof field.type === "object" && "FixedSizeBinary" in field.type) {
      (field.nullable ? fixedNullable : fixedRows).push({ name: field.name, width: field.type.FixedSizeBinary });
    }
  }
  return (columns, from, to) => {
    let bytes = 0;
    for (const { name, width } of fixedRows) if (columns[name] !== undefined) bytes += (to - from) * width;
    for (const { name, width } of fixedNullable) {
      const values = columns[name] ?? [];
      for (let i = from; i < to; i++) if (values[i] !== null && values[i] !== undefined) bytes += width;
    }
    for (const name of variable) {
      const values = columns[name] ?? [];
      for (let i = from; i < to; i++) bytes += (values[i] as Uint8Array | null | undefined)?.byteLength ?? 0;
    }
    return bytes;
  };
}
