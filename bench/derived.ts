/**
 * A derived decoded-Transfer table: `npm run bench:derived` (or `npx tsx bench/derived.ts [--rows=1000000]
 * [--microbatch=1000] [--profile=1]`).
 *
 * Writes `rows` synthetic log rows (half of them ERC-20 Transfers, bench/sql-bench.ts) into workerd's R2, then,
 * inside workerd, computes the decoded-Transfer table the way a derived step does: microbatches of `microbatch`
 * blocks, each reading only its `_block_num` range of the logs' files, decoding with evm_decode_log, and writing
 * the rows as one Parquet file into R2. Prints input rows per CPU second of workerd (from /proc) and per second.
 * With `--compare=1` it runs the table four times on the same data, with and without the projection memo in turn
 * (src/sql/memo-projection.ts), so both meet the same load, and prints each run and the median of each.
 * With `--profile=1` it also takes a CPU profile of the Worker's isolate through workerd's inspector during the
 * run and prints where the time went (bench/sql-profile.ts); the profiler slows the run, so its rows per CPU
 * second are not comparable with a run without it.
 */
import { createServer } from "node:net";
import { cleanUp, option, runInWorker, startBenchWorker, TRANSFER, writeLogs } from "./sql-bench";
import { SQL_PARTS, summarizeSqlProfile } from "./sql-profile";
import { connectWorkerdInspector, type CpuProfile } from "./workerd-inspector";

const rows = option("rows", 1_000_000);
const microbatch = option("microbatch", 1000);
const profile = option("profile", 0) === 1;
const compare = option("compare", 0) === 1;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return Number.isInteger(mid) ? (sorted[mid - 1]! + sorted[mid]!) / 2 : sorted[Math.floor(mid)]!;
};

const DECODED = `SELECT block_num, tx_hash, log_index, address, decoded."from" AS sender, decoded."to" AS recipient, decoded.value AS amount
  FROM (SELECT block_num, tx_hash, log_index, address, evm_decode_log(topic1, topic2, topic3, data, ${TRANSFER}) AS decoded
        FROM bench.logs WHERE topic0 = evm_topic(${TRANSFER}))`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const inspectorPort = profile ? await freePort() : undefined;
const { mf, sourceMap } = await startBenchWorker(inspectorPort === undefined ? {} : { inspectorPort });
const data = await writeLogs(mf, rows);
const inspector = inspectorPort === undefined ? null : await connectWorkerdInspector(inspectorPort, "core:user:");
try {
  const first = data.files[0]!.range.start;
  const ranges = [];
  for (let start = first; start <= data.lastBlock; start += microbatch) ranges.push({ start, end: Math.min(start + microbatch - 1, data.lastBlock) });
  if (compare) {
    const perCpu: Record<string, number[]> = { memo: [], engine: [] };
    for (const variant of ["memo", "engine", "engine", "memo"] as const) {
      const run = await runInWorker(mf, { sql: DECODED, files: data.files, ranges, write: true, memoize: variant === "memo" });
      perCpu[variant]!.push(run.scannedRows / run.cpu);
      console.log(`${variant === "memo" ? "with the memo   " : "engine's plan   "}: ${run.outputRows} rows out, workerd CPU ${run.cpu.toFixed(2)} s, ${Math.round(run.scannedRows / run.cpu)} input rows per CPU second`);
    }
    console.log(`median input rows per CPU second: with the memo ${Math.round(median(perCpu.memo!))}, engine's plan ${Math.round(median(perCpu.engine!))}`);
  }
  await inspector?.startProfiling(500);
  const result = await runInWorker(mf, { sql: DECODED, files: data.files, ranges, write: true });
  const cpuProfile: CpuProfile | undefined = await inspector?.stopProfiling();
  console.log(`${data.rows} input log rows, ${ranges.length} microbatches of ${microbatch} blocks`);
  console.log(`decoded Transfers: ${result.outputRows} rows, ${(result.outputBytes / 1e6).toFixed(1)} MB of Parquet`);
  console.log(`wall ${(result.ms / 1000).toFixed(2)} s, workerd CPU ${result.cpu.toFixed(2)} s`);
  console.log(`${Math.round(result.scannedRows / result.cpu)} input rows per CPU second (${Math.round(result.scannedRows / (result.ms / 1000))} per wall second)`);
  if (cpuProfile) {
    const summary = summarizeSqlProfile(cpuProfile, sourceMap);
    const share = (ms: number) => `${(ms / 1000).toFixed(2)} s (${((ms / summary.totalMs) * 100).toFixed(0)}%)`;
    console.log(`profile: ${(summary.totalMs / 1000).toFixed(2)} s sampled in the isolate`);
    console.log(`  by part: ${SQL_PARTS.map((part) => `${part} ${share(summary.byPart[part])}`).join(", ")}`);
    console.log("  top self time:");
    for (const entry of summary.top) console.log(`    ${(entry.ms / 1000).toFixed(2)} s  ${entry.name}`);
  }
} finally {
  inspector?.close();
  cleanUp(data);
  await mf.dispose();
}
