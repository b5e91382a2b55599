/**
 * Where a CPU profile of the SQL bench Worker's isolate went (`bench:derived --profile`): each sample under
 * the part of the code its function comes from, found through the bundle's source map. Builtins and
 * functions without a source (promise jobs, BigInt, TextDecoder...) count for the part of their caller.
 *
 * - engine: squirreling (planning, evaluateExpr, the Project/Filter/Scan generators);
 * - udfs: src/sql/udfs (evm_decode_log & co around the ABI library);
 * - abi: ox, viem, @noble (ABI decoding, hex);
 * - read: hyparquet and src/parquet's reading, src/sql/parquet-table.ts, scan-filter.ts (scan, column tests);
 * - values: src/sql/sql-values.ts (stored values into engine values and back);
 * - write: hyparquet-writer and the rest of src/parquet (encoding the output);
 * - adapter: the rest of src/sql (rewrite, plan, memo, the row loop);
 * - bench: bench/sql-worker.ts (its row loop, R2 puts);
 * - gc, runtime ("(program)": workerd outside JavaScript), other.
 */
import { SourceMap } from "node:module";
import type { CpuProfile, CpuProfileNode } from "./workerd-inspector";

export const SQL_PARTS = ["engine", "udfs", "abi", "read", "values", "write", "adapter", "bench", "gc", "runtime", "other"] as const;
export type SqlPart = (typeof SQL_PARTS)[number];

function partOfSource(source: string): SqlPart {
  if (source.includes("node_modules/squirreling/")) return "engine";
  if (source.includes("src/sql/udfs/")) return "udfs";
  if (/node_modules\/(ox|viem|@noble|abitype)\//.test(source)) return "abi";
  if (source.includes("node_modules/hyparquet/") || /src\/parquet\/(read|range)/.test(source) || /src\/sql\/(parquet-table|scan-filter|scan-bounds)\.ts/.test(source)) return "read";
  if (source.includes("src/sql/sql-values.ts")) return "values";
  if (source.includes("node_modules/hyparquet-writer/") || source.includes("src/parquet/")) return "write";
  if (source.includes("src/sql/")) return "adapter";
  if (source.includes("bench/")) return "bench";
  return "other";
}

export interface SqlProfileSummary {
  totalMs: number;
  byPart: Record<SqlPart, number>;
  /** The functions with the most self time: name (source), ms. */
  top: { name: string; ms: number }[];
}

export function summarizeSqlProfile(profile: CpuProfile, sourceMapJson: string, topCount = 25): SqlProfileSummary {
  const map = new SourceMap(JSON.parse(sourceMapJson));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map<number, CpuProfileNode>(profile.nodes.map((node) => [node.id, node]));
  const own = new Map<number, SqlPart | "idle" | null>();
  const sourceOf = new Map<number, string>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    if (functionName === "(idle)") own.set(node.id, "idle");
    else if (functionName === "(garbage collector)") own.set(node.id, "gc");
    else if (functionName === "(program)" || functionName === "(root)") own.set(node.id, "runtime");
    else if (url === "" || lineNumber < 0) own.set(node.id, null);
    else {
      const entry = map.findEntry(lineNumber, columnNumber) as { originalSource?: string };
      const source = entry.originalSource ?? url;
      sourceOf.set(node.id, source);
      own.set(node.id, partOfSource(source));
    }
  }
  const resolved = new Map<number, SqlPart | "idle">();
  const partOf = (id: number): SqlPart | "idle" => {
    const known = resolved.get(id);
    if (known) return known;
    const up = parent.get(id);
    const part = own.get(id) ?? (up === undefined ? "other" : partOf(up));
    resolved.set(id, part);
    return part;
  };
  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000));
  const byPart = Object.fromEntries(SQL_PARTS.map((part) => [part, 0])) as Record<SqlPart, number>;
  const byFunction = new Map<string, number>();
  let totalMs = 0;
  for (const [id, ms] of selfMs) {
    const part = partOf(id);
    if (part === "idle") continue;
    totalMs += ms;
    byPart[part] += ms;
    const source = sourceOf.get(id)?.replace(/^.*?\/?(src|node_modules|bench)\//, "$1/");
    const name = `${byId.get(id)!.callFrame.functionName || "(anonymous)"}${source ? ` (${source})` : ""}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
  }
  const top = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, topCount).map(([name, ms]) => ({ name, ms }));
  return { totalMs, byPart, top };
}
