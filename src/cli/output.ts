/** What the CLI prints: aligned tables and key-value blocks for people, one JSON document for scripts (`--json`). */

export interface Output {
  json: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export type Cell = string | number | boolean | null | undefined;

/** Prints `value` as JSON with --json, else calls `human`. */
export function emit(out: Output, value: unknown, human: () => void): void {
  if (out.json) out.stdout.write(`${JSON.stringify(value)}\n`);
  else human();
}

function cellText(cell: Cell): string {
  if (cell === null || cell === undefined) return "-";
  return String(cell);
}

/** An aligned table with a header row; numbers are right-aligned. "(none)" when there are no rows. */
export function printTable(out: Output, headers: readonly string[], rows: readonly (readonly Cell[])[]): void {
  if (rows.length === 0) {
    out.stdout.write("(none)\n");
    return;
  }
  const texts = rows.map((row) => row.map(cellText));
  const widths = headers.map((header, i) => Math.max(header.length, ...texts.map((row) => row[i]?.length ?? 0)));
  const numeric = headers.map((_, i) => rows.every((row) => typeof row[i] === "number" || row[i] === null || row[i] === undefined));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  out.stdout.write(`${line(headers.map((h) => h.toUpperCase()))}\n`);
  for (const row of texts) out.stdout.write(`${line(row)}\n`);
}

/** `key: value` lines, keys aligned; objects as compact JSON. */
export function printFields(out: Output, fields: Readonly<Record<string, unknown>>): void {
  const width = Math.max(...Object.keys(fields).map((key) => key.length));
  for (const [key, value] of Object.entries(fields)) {
    const text = value !== null && typeof value === "object" ? JSON.stringify(value) : cellText(value as Cell);
    out.stdout.write(`${`${key}:`.padEnd(width + 2)}${text}\n`);
  }
}

export function printLine(out: Output, text: string): void {
  out.stdout.write(`${text}\n`);
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** A duration in seconds as `1h02m`, `3m05s` or `12s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}
