/**
 * What bench/query.ts and bench/derived.ts share: synthetic mainnet-shaped logs (test/support/evm-rows.ts) of which
 * half are ERC-20 Transfers, written with the project's writer into workerd's R2 (Miniflare, bench/sql-worker.ts
 * bundled with esbuild) and into a temporary folder for DuckDB; and the workerd process's CPU time from /proc, so
 * a figure is per CPU second of the engine, not of the machine.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { fileFields } from "../src/domain/dataset-kinds/evm-rpc";
import { BufferSink, ParquetStreamWriter } from "../src/parquet";
import type { TableFile } from "../src/sql/parquet-table";
import { columnsOf, createRandom, syntheticEvmRows } from "../test/support/evm-rows";
import { workerdCpuSeconds } from "./workerd-cpu";

export const TRANSFER_TOPIC = Uint8Array.from(Buffer.from("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef", "hex"));
export const TRANSFER = "'Transfer(address indexed from, address indexed to, uint256 value)'";

export function option(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? fallback : Number(arg.slice(name.length + 3));
}

export interface BenchData {
  files: TableFile[];
  dir: string;
  rows: number;
  /** A contract address that occurs, as hex without 0x. */
  address: string;
  lastBlock: number;
}

function word(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  out.set(bytes, 32 - bytes.length);
  return out;
}

/** Writes `rows` log rows in files of `blocksPerFile` blocks, one row group per 100 blocks. */
export async function writeLogs(mf: Miniflare, rows: number, blocksPerFile = 600): Promise<BenchData> {
  const dir = mkdtempSync(path.join(tmpdir(), "amp-sql-bench-"));
  const random = createRandom(7);
  const files: TableFile[] = [];
  let written = 0;
  let start = 15_000_000;
  let address = "";
  for (let seed = 1; written < rows; seed++) {
    const logs = syntheticEvmRows({ startBlock: start, blockCount: blocksPerFile, transactionsPerBlock: 150, logsPerTransaction: 2.5, seed }).logs.slice(0, rows - written);
    for (const log of logs) {
      if (random.next() < 0.5) {
        log.topic0 = TRANSFER_TOPIC;
        log.topic1 = word(random.bytes(20));
        log.topic2 = word(random.bytes(20));
        log.topic3 = null;
        log.data = word(random.bytes(1 + random.below(12)));
      }
    }
    if (address === "") address = Buffer.from(logs[0]!.address as Uint8Array).toString("hex");
    const sink = new BufferSink();
    const writer = new ParquetStreamWriter({ fields: fileFields("logs"), sink });
    for (let b = start; b < start + blocksPerFile; b += 100) {
      const group = logs.filter((log) => Number(log._block_num) >= b && Number(log._block_num) < b + 100);
      if (group.length > 0) await writer.writeRowGroup(columnsOf("logs", group));
    }
    await writer.finish({ nozzle_metadata: "{}" });
    const bytes = sink.bytes();
    const key = `bench/logs/${String(start).padStart(9, "0")}.parquet`;
    writeFileSync(path.join(dir, `${start}.parquet`), bytes);
    const res = await mf.dispatchFetch(`http://bench/put?key=${encodeURIComponent(key)}`, { method: "POST", body: bytes });
    await res.json();
    files.push({ key, size: bytes.length, range: { start, end: start + blocksPerFile - 1 } });
    written += logs.length;
    start += blocksPerFile;
  }
  return { files, dir, rows: written, address, lastBlock: start - 1 };
}

export interface BenchWorker {
  mf: Miniflare;
  /** The bundle's source map (JSON), for reading a CPU profile of it (bench/sql-profile.ts). */
  sourceMap: string;
}

/** The SQL bench Worker in Miniflare; with `inspectorPort`, its isolate's inspector is served there (`core:user:`). */
export async function startBenchWorker(options: { inspectorPort?: number } = {}): Promise<BenchWorker> {
  const bundle = await build({
    entryPoints: [path.join(import.meta.dirname, "sql-worker.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "import"],
    sourcemap: "external",
    outfile: "sql-worker.js",
    write: false,
    logLevel: "silent",
  });
  const script = bundle.outputFiles.find((file) => file.path.endsWith(".js"))!.text;
  const sourceMap = bundle.outputFiles.find((file) => file.path.endsWith(".map"))!.text;
  const mf = new Miniflare({
    modules: true,
    script,
    r2Buckets: ["BUCKET"],
    compatibilityDate: "2025-01-01",
    ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
  });
  await mf.ready;
  return { mf, sourceMap };
}

export interface RunResult {
  ms: number;
  cpu: number;
  outputRows: number;
  scannedRows: number;
  plannedBytes: number;
  outputBytes: number;
}

export async function runInWorker(mf: Miniflare, body: unknown): Promise<RunResult> {
  const cpuBefore = workerdCpuSeconds();
  const res = await mf.dispatchFetch("http://bench/run", { method: "POST", body: JSON.stringify(body) });
  const result = (await res.json()) as RunResult & { error?: string };
  if (result.error) throw new Error(result.error);
  return { ...result, cpu: workerdCpuSeconds() - cpuBefore };
}

export function cleanUp(data: BenchData): void {
  rmSync(data.dir, { recursive: true, force: true });
}
