/**
 * Where a workerd CPU profile's time went (bench:cpu): each sample is put
 * under one category by the source file of its function, found through the
 * source map of the bundle `wrangler dev` runs (Node's own SourceMap), and
 * row building under the table whose rows the function was appending.
 *
 * - json: JSON.parse and JSON.stringify (the answers, the requests);
 * - hex: src/domain/hex.ts (hashes, addresses, payloads, quantities);
 * - rows: src/extract/evm-rpc/rows.ts, columns.ts (checks, rows into columns);
 * - verify: deploy's verify (src/domain/evm-verification/, src/extract/evm-rpc/block-verification.ts, and the
 *   RLP and keccak libraries, js-sha3 and @ethereumjs/rlp, which nothing else calls);
 * - parquet: src/parquet/ and hyparquet-writer (encoding, compression, footer);
 * - client: the JSON-RPC client and its limits (src/extract/evm-rpc/, provider-http.ts, limits.ts);
 * - step: the step runner, files, uploads and the consumer (src/extract/ otherwise);
 * - storage: D1 and R2 calls from JavaScript (src/store/, drizzle-orm);
 * - runner: the JobRunner (durable-objects/);
 * - gc: V8's garbage collector;
 * - runtime: workerd's own work outside JavaScript, "(program)" (I/O, the bindings, fetch);
 * - other: the rest (the API's routing and validation, libraries).
 * Builtins without a source (array methods, BigInt, TextEncoder...) count
 * for the category of their caller. "(idle)" is not CPU time.
 */
import { readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { fileURLToPath } from "node:url";
import type { CpuProfile, CpuProfileNode } from "./workerd-inspector";

export const CATEGORIES = ["json", "hex", "rows", "verify", "parquet", "client", "step", "storage", "runner", "gc", "runtime", "other"] as const;
export type Category = (typeof CATEGORIES)[number];
export type RowTable = "blocks" | "transactions" | "logs";

export interface ProfileSummary {
  /** CPU time, idle excluded. */
  totalMs: number;
  byCategory: Record<Category, number>;
  /** Row building (rows and the hex decoding it calls) per table. */
  rowsByTable: Record<RowTable, number>;
  /** The functions with the most self time: name (file), ms. */
  top: { name: string; ms: number }[];
}

/** Which table a row-building function fills; the block's own fields are the blocks table's. */
const TABLE_OF_FUNCTION: Record<string, RowTable> = {
  appendTransaction: "transactions",
  appendFees: "transactions",
  appendSignature: "transactions",
  appendLog: "logs",
};

function categoryOfSource(source: string): Category | null {
  const path = source.replace(/\\/g, "/");
  if (path.includes("/src/domain/hex.ts")) return "hex";
  if (/\/src\/extract\/evm-rpc\/(rows|columns)\.ts$/.test(path)) return "rows";
  if (path.includes("/src/domain/evm-verification/") || path.endsWith("/src/extract/evm-rpc/block-verification.ts")) return "verify";
  if (path.includes("/js-sha3/") || path.includes("/@ethereumjs/rlp/")) return "verify";
  if (path.includes("/src/parquet/") || path.includes("/hyparquet-writer/") || path.includes("/hyparquet/")) return "parquet";
  if (path.includes("/src/extract/evm-rpc/") || /\/src\/extract\/(provider-http|limits)\.ts$/.test(path)) return "client";
  if (path.includes("/src/extract/")) return "step";
  if (path.includes("/src/store/") || path.includes("/drizzle-orm/")) return "storage";
  if (path.includes("/durable-objects/")) return "runner";
  return null;
}

/** Maps bundle positions to original sources, one source map per bundle URL. */
class SourceResolver {
  private readonly maps = new Map<string, SourceMap | null>();

  source(url: string, line: number, column: number): string | null {
    if (!url.startsWith("file://") && !url.startsWith("/")) return null;
    let map = this.maps.get(url);
    if (map === undefined) {
      map = loadMap(url);
      this.maps.set(url, map);
    }
    if (map === null) return url;
    const entry = map.findEntry(line, column) as { originalSource?: string };
    return entry.originalSource ?? url;
  }
}

function loadMap(url: string): SourceMap | null {
  const file = url.startsWith("file://") ? fileURLToPath(url) : url;
  try {
    const code = readFileSync(file, "utf8");
    const ref = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(code)?.[1];
    const mapFile = ref && !ref.startsWith("data:") ? new URL(ref, `file://${file}`) : new URL(`file://${file}.map`);
    return new SourceMap(JSON.parse(readFileSync(mapFile, "utf8")));
  } catch {
    return null;
  }
}

export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const resolver = new SourceResolver();
  const byId = new Map<number, CpuProfileNode>(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const own = new Map<number, Category | "idle" | null>();
  const sourceOf = new Map<number, string | null>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const source = url === "" ? null : resolver.source(url, lineNumber, columnNumber);
    sourceOf.set(node.id, source);
    if (functionName === "(idle)") own.set(node.id, "idle");
    else if (functionName === "(garbage collector)") own.set(node.id, "gc");
    else if (functionName === "(program)" || functionName === "(root)") own.set(node.id, "runtime");
    else if (url === "" && (functionName === "parse" || functionName === "stringify")) own.set(node.id, "json");
    else if (source === null) own.set(node.id, null);
    else own.set(node.id, categoryOfSource(source) ?? "other");
  }
  const resolved = new Map<number, Category | "idle">();
  const categoryOf = (id: number): Category | "idle" => {
    const known = resolved.get(id);
    if (known) return known;
    const mine = own.get(id);
    const up = parent.get(id);
    const category = mine ?? (up === undefined ? "other" : categoryOf(up));
    resolved.set(id, category);
    return category;
  };
  const tableOf = (id: number): RowTable => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const table = TABLE_OF_FUNCTION[byId.get(at)!.callFrame.functionName];
      if (table) return table;
    }
    return "blocks";
  };

  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000));

  const byCategory = Object.fromEntries(CATEGORIES.map((category) => [category, 0])) as Record<Category, number>;
  const rowsByTable: Record<RowTable, number> = { blocks: 0, transactions: 0, logs: 0 };
  const byFunction = new Map<string, number>();
  let totalMs = 0;
  for (const [id, ms] of selfMs) {
    const category = categoryOf(id);
    if (category === "idle") continue;
    totalMs += ms;
    byCategory[category] += ms;
    if (category === "rows" || (category === "hex" && tableOfRows(id))) rowsByTable[tableOf(id)] += ms;
    const { functionName } = byId.get(id)!.callFrame;
    const source = sourceOf.get(id);
    const name = `${functionName || "(anonymous)"}${source ? ` (${source.replace(/^.*\/(src|node_modules|durable-objects)\//, "$1/")})` : ""}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
  }
  const top = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([name, ms]) => ({ name, ms }));
  return { totalMs, byCategory, rowsByTable, top };

  /** True when the node runs under row building (hex decoding is also used elsewhere, e.g. for hashes). */
  function tableOfRows(id: number): boolean {
    for (let at = parent.get(id); at !== undefined; at = parent.get(at)) if (own.get(at) === "rows") return true;
    return false;
  }
}
