/**
 * Extraction speed against a real node: `npm run bench:extract` (or
 * `npx tsx --expose-gc bench/extract.ts [--runs=5] [--rpc-batch-size=50]
 * [--chunk-blocks=<rpc-batch-size * 10, the client's default>]`).
 *
 * Seeds anvil with the benchmark chain (bench/chain.ts) and measures blocks
 * 1..=head in 1,000-block steps (the JobRunner's DEFAULT_STEP_SIZE), one
 * step after the other, with the same provider settings for both:
 * (a) raw: the client's JSON-RPC requests with the JSON parsed and nothing
 *     else (bench/raw-fetch.ts), the source limit;
 * (b) extract: runExtractStep, with a fresh EvmRpcClient per step as the
 *     queue consumer makes it, writing the three tables' Parquet files into
 *     a local R2 bucket (workerd's own, through Miniflare: bench/local-r2.ts).
 * Raw and extract take turns step by step, so that both meet the same load
 * on a shared machine; each run covers the whole range once for each, and
 * the figures printed at the end are medians over the runs (the ratio is the
 * median of the runs' own b/a).
 *
 * Memory, in a separate pass after the timed runs (a forced GC changes what
 * is timed: steps right after one took about twice the CPU time here): each
 * step runs once more after a full GC and a pause for V8's background
 * sweeping, which set its baseline; process.memoryUsage() is sampled every
 * 5 ms and whenever the step takes a chunk of blocks (the bench wraps the
 * block source). A step's peak is its highest sample above its baseline, for
 * rss and for heapUsed; peak_mb is the larger of the two over the steps.
 * heapUsed counts garbage not yet collected, so it bounds what a step holds
 * from above; samples cannot land inside synchronous work (row building,
 * encoding a column), so short spikes there are missed.
 * MB are MiB (2^20 bytes); rows are those of the three tables together.
 */
import { type BlockRange } from "../src/domain/block-range";
import { EVM_RPC_KIND_TABLES, EVM_RPC_TABLE_NAMES } from "../src/domain/dataset-kinds/evm-rpc";
import { DEFAULT_STEP_SIZE } from "../src/domain/job-settings";
import { EvmRpcClient, type EvmRpcProviderSettings, type ExtractedChunk } from "../src/extract/evm-rpc/client";
import { runExtractStep, type StepSource, type WrittenFile } from "../src/extract/step-runner";
import { startBenchChain } from "./chain";
import { startLocalR2 } from "./local-r2";
import { rawFetch } from "./raw-fetch";

function option(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const value = arg === undefined ? fallback : Number(arg.slice(name.length + 3));
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be an integer >= 1`);
  return value;
}

const runs = option("runs", 5);
/** The JobRunner's default, as a job deployed without AMP_STEP_SIZE runs. */
const STEP_SIZE = DEFAULT_STEP_SIZE;
const RPC_BATCH_SIZE = option("rpc-batch-size", 50);
/** The client's default chunk for batched providers is rpc_batch_size * 10. */
const CHUNK_BLOCKS = option("chunk-blocks", RPC_BATCH_SIZE * 10);
/** The client's default concurrent_request_limit. */
const CONCURRENCY = 1024;
const MB = 1024 * 1024;

const collectGarbage = (globalThis as { gc?: () => void }).gc;
if (!collectGarbage) throw new Error("run with --expose-gc (npm run bench:extract does)");

interface Peak {
  rss: number;
  heapUsed: number;
}

/** Memory in use once nothing is left to collect: a full GC, then a pause while V8's background threads sweep. */
async function baselineMemory(): Promise<Peak> {
  collectGarbage!();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const usage = process.memoryUsage();
  return { rss: usage.rss, heapUsed: usage.heapUsed };
}

/** Highest memory above a baseline while a step runs. */
class MemorySampler {
  readonly peak: Peak = { rss: 0, heapUsed: 0 };
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly baseline: Peak) {}

  start(): void {
    this.timer = setInterval(() => this.sample(), 5);
  }

  sample(): void {
    const usage = process.memoryUsage();
    this.peak.rss = Math.max(this.peak.rss, usage.rss - this.baseline.rss);
    this.peak.heapUsed = Math.max(this.peak.heapUsed, usage.heapUsed - this.baseline.heapUsed);
  }

  stop(): void {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** The client, sampling memory at every chunk it hands to the step (before the step works on it). */
function sampledSource(client: EvmRpcClient, memory: MemorySampler): StepSource {
  return {
    async *blocks(start: number, end: number): AsyncGenerator<ExtractedChunk> {
      for await (const chunk of client.blocks(start, end)) {
        memory.sample();
        yield chunk;
      }
    },
    blockHashes: (numbers) => client.blockHashes(numbers),
  };
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

function steps(range: BlockRange, size: number): BlockRange[] {
  const out: BlockRange[] = [];
  for (let start = range.start; start <= range.end; start += size) out.push({ start, end: Math.min(range.end, start + size - 1) });
  return out;
}

interface Totals {
  seconds: number;
  /** This process's CPU time (user + system); the node and workerd are other processes. */
  cpuSeconds: number;
}

interface RunTotals {
  raw: Totals & { httpRequests: number; responseBytes: number };
  extract: Totals & { rows: number; files: number; bytes: number };
}

function newRun(): RunTotals {
  return {
    raw: { seconds: 0, cpuSeconds: 0, httpRequests: 0, responseBytes: 0 },
    extract: { seconds: 0, cpuSeconds: 0, rows: 0, files: 0, bytes: 0 },
  };
}

async function measureRaw(url: string, step: BlockRange, totals: RunTotals["raw"]): Promise<void> {
  const cpu = process.cpuUsage();
  const result = await rawFetch({ url, batchSize: RPC_BATCH_SIZE, chunkBlocks: CHUNK_BLOCKS, concurrency: CONCURRENCY }, step.start, step.end);
  totals.cpuSeconds += cpuSecondsSince(cpu);
  totals.seconds += result.seconds;
  totals.httpRequests += result.httpRequests;
  totals.responseBytes += result.responseBytes;
}

interface StepSetup {
  provider: EvmRpcProviderSettings;
  bucket: R2Bucket;
}

/** One step into `location` (a fresh one per run: objects already under a file's name are kept, not rewritten). */
async function runStep({ provider, bucket }: StepSetup, step: BlockRange, location: string, memory?: MemorySampler): Promise<WrittenFile[]> {
  // A client per step, as the queue consumer makes it.
  const client = new EvmRpcClient(provider, { chunkBlocks: CHUNK_BLOCKS });
  const { files } = await runExtractStep({
    client: memory ? sampledSource(client, memory) : client,
    kindTables: EVM_RPC_KIND_TABLES,
    bucket,
    network: "anvil",
    range: step,
    tables: EVM_RPC_TABLE_NAMES.map((table, i) => ({ table, locationId: i + 1, path: `bench/${table}/${location}/`, ranges: [step] })),
  });
  return files;
}

async function measureStep(setup: StepSetup, step: BlockRange, location: string, totals: RunTotals["extract"]): Promise<void> {
  const began = performance.now();
  const cpu = process.cpuUsage();
  const written = await runStep(setup, step, location);
  totals.seconds += (performance.now() - began) / 1000;
  totals.cpuSeconds += cpuSecondsSince(cpu);
  for (const file of written) {
    totals.rows += file.rows;
    totals.bytes += file.bytes;
    totals.files++;
  }
}

/** Each step once more, untimed, from a settled heap: the highest peak of any step above its own baseline. */
async function stepMemory(setup: StepSetup, stepRanges: readonly BlockRange[]): Promise<Peak> {
  const peak: Peak = { rss: 0, heapUsed: 0 };
  for (const step of stepRanges) {
    const memory = new MemorySampler(await baselineMemory());
    memory.start();
    await runStep(setup, step, "memory", memory);
    memory.stop();
    peak.rss = Math.max(peak.rss, memory.peak.rss);
    peak.heapUsed = Math.max(peak.heapUsed, memory.peak.heapUsed);
  }
  return peak;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const fixed = (value: number, digits = 0) => value.toFixed(digits);

async function main(): Promise<void> {
  const chain = await startBenchChain();
  const r2 = await startLocalR2();
  try {
    const range = { start: 1, end: chain.head };
    const blocks = range.end - range.start + 1;
    const provider: EvmRpcProviderSettings = { url: chain.url, rpc_batch_size: RPC_BATCH_SIZE, concurrent_request_limit: CONCURRENCY };
    console.log(
      `bench:extract anvil 1.4.4 on loopback, blocks ${range.start}..=${range.end} (${blocks} blocks, ${chain.transactions} transactions, ` +
        `${chain.logs} logs; seeded in ${fixed(chain.seedSeconds, 1)} s)`,
    );
    console.log(
      `settings: rpc_batch_size ${RPC_BATCH_SIZE}, concurrent_request_limit ${CONCURRENCY}, ${CHUNK_BLOCKS} blocks per chunk, ` +
        `${STEP_SIZE} blocks per step, steps one after the other; ${runs} runs, medians below`,
    );
    const stepRanges = steps(range, STEP_SIZE);
    // Untimed: the first calls compile the code paths and open connections.
    await measureRaw(chain.url, stepRanges[0]!, newRun().raw);
    const setup: StepSetup = { provider, bucket: r2.bucket };
    await measureStep(setup, stepRanges[0]!, "warm-up", newRun().extract);

    const results: RunTotals[] = [];
    for (let run = 0; run < runs; run++) {
      const totals = newRun();
      // Raw and extract take turns step by step, each going first every other
      // time, so both see the same load on the machine and the node.
      for (const [i, step] of stepRanges.entries()) {
        if ((i + run) % 2 === 0) {
          await measureRaw(chain.url, step, totals.raw);
          await measureStep(setup, step, `run-${run}`, totals.extract);
        } else {
          await measureStep(setup, step, `run-${run}`, totals.extract);
          await measureRaw(chain.url, step, totals.raw);
        }
      }
      results.push(totals);
      const { raw, extract } = totals;
      console.log(
        `run ${run + 1}: raw ${fixed(blocks / raw.seconds)} blocks/s (${raw.httpRequests} requests, ${fixed(raw.responseBytes / MB, 1)} MB of JSON, ` +
          `CPU ${fixed((raw.cpuSeconds * 1e6) / blocks)} ms per 1,000 blocks); ` +
          `extract ${fixed(blocks / extract.seconds)} blocks/s, ${fixed(extract.rows / extract.seconds)} rows/s (${extract.files} files, ` +
          `${extract.rows} rows, ${fixed(extract.bytes / MB, 2)} MB, CPU ${fixed((extract.cpuSeconds * 1e6) / blocks)} ms per 1,000 blocks); ` +
          `ratio ${fixed(raw.seconds / extract.seconds, 2)}`,
      );
    }
    const rawBlocks = median(results.map((r) => blocks / r.raw.seconds));
    const extractBlocks = median(results.map((r) => blocks / r.extract.seconds));
    const extractRows = median(results.map((r) => r.extract.rows / r.extract.seconds));
    const rawCpu = median(results.map((r) => (r.raw.cpuSeconds * 1e6) / blocks));
    const extractCpu = median(results.map((r) => (r.extract.cpuSeconds * 1e6) / blocks));
    const memory = await stepMemory(setup, stepRanges);
    const peakRss = memory.rss / MB;
    const peakHeap = memory.heapUsed / MB;
    const peak = Math.max(peakRss, peakHeap);
    // Per run, raw and extract met the same conditions: the median of the runs' ratios is steadier
    // than the quotient of two medians that may come from different runs.
    const ratio = median(results.map((r) => r.raw.seconds / r.extract.seconds));
    console.log(`(a) raw JSON-RPC fetch:                  ${fixed(rawBlocks)} blocks/s`);
    console.log(`(b) fetch + decode + Parquet + R2 write: ${fixed(extractBlocks)} blocks/s, ${fixed(extractRows)} rows/s`);
    console.log(`(c) ratio b/a:                           ${fixed(ratio, 2)} (median of the runs' ratios)`);
    console.log(`(d) peak memory of a step above its baseline (highest of the ${stepRanges.length} steps): rss +${fixed(peakRss, 1)} MB, heapUsed +${fixed(peakHeap, 1)} MB`);
    console.log(`    this process's CPU per 1,000 blocks: raw ${fixed(rawCpu)} ms, extract ${fixed(extractCpu)} ms`);
    console.log(`bench:extract blocks_per_s=${fixed(extractBlocks)} raw_blocks_per_s=${fixed(rawBlocks)} ratio=${fixed(ratio, 2)} peak_mb=${fixed(peak, 1)}`);
  } finally {
    await r2.dispose();
    await chain.stop();
  }
}

await main();
