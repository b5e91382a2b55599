/**
 * Where a workerd CPU profile's time went (bench:cpu): each sample is put
 * under one category by the source file of its function, found through the
 * source map of the bundle `wrangler dev` runs (Node's own SourceMap), and
 * row building under the table whose rows the function was appending.
 *
 * workerd names the bundle by its module name only: the profile's frames say
 * `url: "index.js"`, not a path, which is why every sample once fell to
 * "runtime" (no frame had a file, so none found a source map). The bundle is
 * wrangler's `<project>/.wrangler/tmp/dev-<random>/index.js` (with
 * `index.js.map` beside it), removed when wrangler exits; more than one such
 * folder can be there at once (a restart, another dev server of the same
 * tree). wrangler appends `//# sourceURL=file:///.../index.js` to the text it
 * hands workerd, so locateBundles asks the isolate for the script's text (the
 * inspector's Debugger.getScriptSource), takes that file, and checks that its
 * text is the isolate's; without the comment, the folder whose file has that
 * text. When none has, it throws rather than let every sample fall to
 * "runtime" again.
 *
 * - json: JSON.parse and JSON.stringify (the answers, the requests);
 * - hex: src/domain/hex.ts (hashes, addresses, payloads, quantities);
 * - rows: src/extract/evm-rpc/rows.ts, columns.ts (checks, rows into columns);
 * - verify: deploy's verify (src/domain/evm-verification/, src/extract/evm-rpc/block-verification.ts, and the
 *   RLP and keccak libraries, js-sha3 and @ethereumjs/rlp, which nothing else calls);
 * - parquet: src/parquet/ and hyparquet-writer (encoding, compression, footer);
 * - client: the JSON-RPC client and its limits (src/extract/evm-rpc/, provider-http.ts, limits.ts);
 * - step: the step runner, files, uploads and the consumer (src/extract/ otherwise);
 * - storage: D1 and R2 calls from JavaScript (src/store/, drizzle-orm, workerd's cloudflare-internal:d1-api);
 * - runner: the JobRunner (durable-objects/);
 * - gc: V8's garbage collector;
 * - runtime: workerd's own work outside JavaScript, "(program)" (I/O, the bindings, fetch);
 * - other: the rest (the API's routing and validation, libraries).
 * Builtins without a source (array methods, BigInt, TextEncoder...) count
 * for the category of their caller. "(idle)" is not CPU time.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { CpuProfile, CpuProfileNode, WorkerdInspector } from "./workerd-inspector";

export const CATEGORIES = ["json", "hex", "rows", "verify", "parquet", "client", "step", "storage", "runner", "gc", "runtime", "other"] as const;
export type Category = (typeof CATEGORIES)[number];
export type RowTable = "blocks" | "transactions" | "logs";

export interface ProfileSummary {
  /** CPU time (wall time without cpuOf), idle excluded. */
  totalMs: number;
  byCategory: Record<Category, number>;
  /** Row building (rows and the hex decoding it calls) per table. */
  rowsByTable: Record<RowTable, number>;
  /** The functions with the most self time: name (file), ms, category. */
  top: { name: string; ms: number; category: Category }[];
}

/** Which table a row-building function fills; the block's own fields are the blocks table's. */
const TABLE_OF_FUNCTION: Record<string, RowTable> = {
  appendTransaction: "transactions",
  appendFees: "transactions",
  appendSignature: "transactions",
  appendLog: "logs",
};

function categoryOfSource(source: string): Category | null {
  const file = source.replace(/\\/g, "/");
  if (file === "cloudflare-internal:d1-api") return "storage";
  if (file.includes("/node_modules/")) {
    // Libraries: only those that stand for one category; src/ and similar folders inside packages are theirs, not ours.
    if (file.includes("/js-sha3/") || file.includes("/@ethereumjs/rlp/")) return "verify";
    if (file.includes("/hyparquet-writer/") || file.includes("/hyparquet/")) return "parquet";
    if (file.includes("/drizzle-orm/")) return "storage";
    return null;
  }
  if (file.includes("/src/domain/hex.ts")) return "hex";
  if (/\/src\/extract\/evm-rpc\/(rows|columns)\.ts$/.test(file)) return "rows";
  if (file.includes("/src/domain/evm-verification/") || file.endsWith("/src/extract/evm-rpc/block-verification.ts")) return "verify";
  if (file.includes("/src/parquet/")) return "parquet";
  if (file.includes("/src/extract/evm-rpc/") || /\/src\/extract\/(provider-http|limits)\.ts$/.test(file)) return "client";
  if (file.includes("/src/extract/")) return "step";
  if (file.includes("/src/store/")) return "storage";
  if (file.includes("/durable-objects/")) return "runner";
  return null;
}

/** Script URL of a profile frame -> the bundle file on disk that workerd ran under that URL. */
export type BundleFiles = ReadonlyMap<string, string>;

/**
 * Finds the file of each script `profile`'s frames name by a bare module name (workerd's "index.js"): the
 * `.wrangler/tmp/<dir>/<name>` under `projectDir` whose text is the isolate's. Absolute and file:// URLs and
 * workerd's built-in modules (cloudflare-internal:..., node:...) need no lookup.
 */
export async function locateBundles(profile: CpuProfile, inspector: WorkerdInspector, projectDir: string): Promise<BundleFiles> {
  const scripts = new Map<string, string>();
  for (const { callFrame } of profile.nodes) {
    const { url, scriptId } = callFrame;
    if (url === "" || url.startsWith("/") || /^[a-z][a-z0-9+.-]*:/i.test(url)) continue;
    scripts.set(url, scriptId);
  }
  const tmp = path.join(projectDir, ".wrangler", "tmp");
  const files = new Map<string, string>();
  for (const [url, scriptId] of scripts) {
    const text = await inspector.scriptSource(scriptId);
    const named = /\n\/\/# sourceURL=(file:\/\/\S+)\s*$/.exec(text)?.[1];
    const candidates = named
      ? [fileURLToPath(named)]
      : existsSync(tmp)
        ? readdirSync(tmp).map((dir) => path.join(tmp, dir, url)).filter((file) => existsSync(file))
        : [];
    // The isolate's text is the file's plus the sourceURL comment.
    const file = candidates.find((candidate) => existsSync(candidate) && text.startsWith(readFileSync(candidate, "utf8")));
    if (file === undefined) {
      throw new Error(
        `bench:cpu: the profiled script "${url}" (${text.length} characters) is none of ${candidates.length ? candidates.join(", ") : `the files under ${tmp}`}: ` +
          "its samples could not be attributed to source files",
      );
    }
    files.set(url, file);
  }
  return files;
}

/** A source as the top list shows it: from its package's node_modules/, or from the project's src/ or durable-objects/. */
function shortSource(source: string): string {
  const file = source.replace(/\\/g, "/");
  const library = file.lastIndexOf("node_modules/");
  if (library >= 0) return file.slice(library);
  return file.replace(/^.*?\/?((src|durable-objects)\/)/, "$1");
}

/** Maps bundle positions to original sources, one source map per bundle file. */
class SourceResolver {
  private readonly maps = new Map<string, SourceMap>();

  constructor(private readonly bundles: BundleFiles) {}

  /** The original source of position (line, column) of script `url`; null for workerd's built-in JavaScript. */
  source(url: string, line: number, column: number): string | null {
    if (url.startsWith("cloudflare-internal:")) return url;
    const file = this.bundles.get(url) ?? (url.startsWith("file://") ? fileURLToPath(url) : url.startsWith("/") ? url : null);
    if (file === null) {
      // workerd's own modules (node:..., cloudflare:...) have no file: their time is their caller's.
      if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return null;
      throw new Error(`bench:cpu: no bundle file for the profiled script "${url}" (locateBundles finds it)`);
    }
    let map = this.maps.get(file);
    if (map === undefined) {
      map = loadMap(file);
      this.maps.set(file, map);
    }
    const entry = map.findEntry(line, column) as { originalSource?: string };
    return entry.originalSource ?? file;
  }
}

/** The source map of bundle `file`; throws when it has none, since without one no sample could be attributed. */
function loadMap(file: string): SourceMap {
  const code = readFileSync(file, "utf8");
  const ref = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(code)?.[1];
  const mapFile = ref && !ref.startsWith("data:") ? new URL(ref, `file://${file}`) : new URL(`file://${file}.map`);
  return new SourceMap(JSON.parse(readFileSync(mapFile, "utf8")));
}

/**
 * `bundles`: from locateBundles, while the dev server that ran the profile still runs (wrangler removes its bundle).
 * `cpuOf(fromUs, toUs)`: the CPU µs the isolate's thread spent between two of the profile's timestamps
 * (bench/workerd-cpu.ts); without it a sample counts its wall time, which in workerd includes waits on I/O.
 */
export function summarizeProfile(profile: CpuProfile, bundles: BundleFiles, cpuOf?: (fromUs: number, toUs: number) => number): ProfileSummary {
  const resolver = new SourceResolver(bundles);
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
  // Sample i's stack stands for the time up to sample i + 1: its wall time, or the thread's CPU time in it.
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    const next = at + (profile.timeDeltas[i + 1] ?? 0);
    const us = cpuOf ? cpuOf(at, next) : next - at;
    selfMs.set(id, (selfMs.get(id) ?? 0) + us / 1000);
  });

  const byCategory = Object.fromEntries(CATEGORIES.map((category) => [category, 0])) as Record<Category, number>;
  const rowsByTable: Record<RowTable, number> = { blocks: 0, transactions: 0, logs: 0 };
  const byFunction = new Map<string, { ms: number; category: Category }>();
  let totalMs = 0;
  for (const [id, ms] of selfMs) {
    const category = categoryOf(id);
    if (category === "idle") continue;
    totalMs += ms;
    byCategory[category] += ms;
    if (category === "rows" || (category === "hex" && tableOfRows(id))) rowsByTable[tableOf(id)] += ms;
    const { functionName } = byId.get(id)!.callFrame;
    const source = sourceOf.get(id);
    const name = `${functionName || "(anonymous)"}${source ? ` (${shortSource(source)})` : ""}`;
    const entry = byFunction.get(name) ?? { ms: 0, category };
    entry.ms += ms;
    byFunction.set(name, entry);
  }
  const top = [...byFunction].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25).map(([name, { ms, category }]) => ({ name, ms, category }));
  return { totalMs, byCategory, rowsByTable, top };

  /** True when the node runs under row building (hex decoding is also used elsewhere, e.g. for hashes). */
  function tableOfRows(id: number): boolean {
    for (let at = parent.get(id); at !== undefined; at = parent.get(at)) if (own.get(at) === "rows") return true;
    return false;
  }
}
