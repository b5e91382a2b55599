/**
 * Parquet encoding speed and memory: `npm run bench:parquet` (or
 * `npx tsx bench/parquet.ts [--blocks=1000] [--tx-per-block=150]
 * [--logs-per-tx=2.5] [--row-group-blocks=100] [--compression=SNAPPY]`).
 *
 * For each evm-rpc table it encodes `blocks` blocks' worth of mainnet-shaped
 * synthetic rows, one row group per `row-group-blocks` blocks, streaming into
 * 8 MiB multipart-style parts that are dropped, and prints rows/s, MB/s of
 * column data encoded (the bytes of the values themselves), the file size and
 * the peak memory sampled at every row group and part. Garbage is collected
 * before each row group is encoded, so the peaks are one row group of rows
 * held by the caller plus what encoding it takes, not the generator's litter.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type EvmRpcTableName, EVM_RPC_TABLE_NAMES, fileFields } from "../src/domain/dataset-kinds/evm-rpc";
import { type ColumnValues, FixedSizePartSink, type ParquetCompression, ParquetStreamWriter } from "../src/parquet";
import { columnsOf, syntheticEvmRows } from "../test/support/evm-rows";

function option(name: string, fallback: number): number;
function option(name: string, fallback: string): string;
function option(name: string, fallback: number | string): number | string {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (arg === undefined) return fallback;
  const value = arg.slice(name.length + 3);
  return typeof fallback === "number" ? Number(value) : value;
}

const blocks = option("blocks", 1000);
const transactionsPerBlock = option("tx-per-block", 150);
const logsPerTransaction = option("logs-per-tx", 2.5);
const rowGroupBlocks = option("row-group-blocks", 100);
const compression = option("compression", "SNAPPY") as ParquetCompression;
const PART_SIZE = 8 * 1024 * 1024;
const MB = 1e6;

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

const peak = { rss: 0, heapUsed: 0, writerBuffers: 0 };
function sampleMemory(): void {
  const usage = process.memoryUsage();
  peak.rss = Math.max(peak.rss, usage.rss);
  peak.heapUsed = Math.max(peak.heapUsed, usage.heapUsed);
}

/** Bytes of the values themselves: what a row group holds before encoding. */
function valueBytes(columns: readonly ColumnValues[]): number {
  let total = 0;
  for (const column of columns) {
    for (const value of column) {
      if (value instanceof Uint8Array) total += value.length;
      else if (typeof value === "bigint") total += 8;
      else if (typeof value === "number") total += 4;
      else if (typeof value === "boolean") total += 1;
    }
  }
  return total;
}

interface TableResult {
  table: EvmRpcTableName;
  rows: number;
  seconds: number;
  /** CPU time of the process in the same sections; on a busy machine the steadier figure. */
  cpuSeconds: number;
  inputBytes: number;
  fileBytes: number;
}

async function benchTable(table: EvmRpcTableName, blockCount: number): Promise<TableResult> {
  const sink = new FixedSizePartSink(PART_SIZE, async () => sampleMemory());
  const writer = new ParquetStreamWriter({ fields: fileFields(table), sink, compression });
  let seconds = 0;
  let cpuSeconds = 0;
  let inputBytes = 0;
  const timed = async <T>(work: () => Promise<T>): Promise<T> => {
    const began = performance.now();
    const cpu = process.cpuUsage();
    const result = await work();
    const used = process.cpuUsage(cpu);
    seconds += (performance.now() - began) / 1000;
    cpuSeconds += (used.user + used.system) / 1e6;
    return result;
  };
  for (let start = 0; start < blockCount; start += rowGroupBlocks) {
    // Rows are generated outside the timed section, one row group at a time,
    // as the extractor would hold them.
    const rows = syntheticEvmRows({
      startBlock: 15_000_000 + start,
      blockCount: Math.min(rowGroupBlocks, blockCount - start),
      transactionsPerBlock,
      logsPerTransaction,
      seed: 1 + start,
    })[table];
    const columns = columnsOf(table, rows);
    inputBytes += valueBytes(columns);
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 10)); // let concurrent sweeping finish outside the timed section
    await timed(() => writer.writeRowGroup(columns));
    sampleMemory();
    peak.writerBuffers = Math.max(peak.writerBuffers, writer.retainedBytes.buffers);
  }
  const written = await timed(async () => {
    const file = await writer.finish({ nozzle_metadata: "{}", parent_file_ids: "[]", generation: "0" });
    await sink.close();
    return file;
  });
  sampleMemory();
  return { table, rows: written.rows, seconds, cpuSeconds, inputBytes, fileBytes: written.bytes };
}

async function main(): Promise<void> {
  sampleMemory();
  const baselineRss = peak.rss;
  console.log(
    `bench:parquet ${blocks} blocks, ~${transactionsPerBlock} tx/block, ~${logsPerTransaction} logs/tx, ` +
      `${rowGroupBlocks} blocks per row group, ${compression}`,
  );
  // an untimed pass over every table so the JIT has compiled the encoders before measuring
  for (const table of EVM_RPC_TABLE_NAMES) await benchTable(table, Math.min(blocks, 2 * rowGroupBlocks));
  Object.assign(peak, { rss: 0, heapUsed: 0, writerBuffers: 0 });
  let totalRows = 0;
  let totalSeconds = 0;
  let totalCpuSeconds = 0;
  let totalInput = 0;
  for (const table of EVM_RPC_TABLE_NAMES) {
    const r = await benchTable(table, blocks);
    totalRows += r.rows;
    totalSeconds += r.seconds;
    totalCpuSeconds += r.cpuSeconds;
    totalInput += r.inputBytes;
    console.log(
      `${table.padEnd(13)} rows=${String(r.rows).padStart(7)}  ${(r.rows / r.seconds).toFixed(0).padStart(7)} rows/s  ` +
        `${(r.inputBytes / MB / r.seconds).toFixed(1).padStart(6)} MB/s  ` +
        `(per CPU second: ${(r.rows / r.cpuSeconds).toFixed(0)} rows, ${(r.inputBytes / MB / r.cpuSeconds).toFixed(1)} MB)  ` +
        `input ${(r.inputBytes / MB).toFixed(1)} MB -> file ${(r.fileBytes / MB).toFixed(1)} MB  ${(r.seconds * 1000).toFixed(0)} ms`,
    );
  }
  console.log(
    `peak rss ${(peak.rss / MB).toFixed(0)} MB (baseline ${(baselineRss / MB).toFixed(0)} MB), peak heapUsed ${(peak.heapUsed / MB).toFixed(0)} MB, ` +
      `writer buffers ${(peak.writerBuffers / MB).toFixed(1)} MB + one ${PART_SIZE / 1024 / 1024} MiB part`,
  );
  console.log(
    `bench:parquet rows_per_s=${(totalRows / totalSeconds).toFixed(0)} mb_per_s=${(totalInput / MB / totalSeconds).toFixed(1)} ` +
      `cpu_rows_per_s=${(totalRows / totalCpuSeconds).toFixed(0)} ` +
      `peak_rss_mb=${(peak.rss / MB).toFixed(0)} peak_heap_mb=${(peak.heapUsed / MB).toFixed(0)}`,
  );
}

await main();
