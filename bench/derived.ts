/**
 * A derived decoded-Transfer table: `npm run bench:derived` (or `npx tsx bench/derived.ts [--rows=1000000]
 * [--microbatch=1000]`).
 *
 * Writes `rows` synthetic log rows (half of them ERC-20 Transfers, bench/sql-bench.ts) into workerd's R2, then,
 * inside workerd, computes the decoded-Transfer table the way a derived step does: microbatches of `microbatch`
 * blocks, each reading only its `_block_num` range of the logs' files, decoding with evm_decode_log, and writing
 * the rows as one Parquet file into R2. Prints input rows per CPU second of workerd (from /proc) and per second.
 */
import { cleanUp, option, runInWorker, startBenchWorker, TRANSFER, writeLogs } from "./sql-bench";

const rows = option("rows", 1_000_000);
const microbatch = option("microbatch", 1000);

const DECODED = `SELECT block_num, tx_hash, log_index, address, decoded."from" AS sender, decoded."to" AS recipient, decoded.value AS amount
  FROM (SELECT block_num, tx_hash, log_index, address, evm_decode_log(topic1, topic2, topic3, data, ${TRANSFER}) AS decoded
        FROM bench.logs WHERE topic0 = evm_topic(${TRANSFER}))`;

const mf = await startBenchWorker();
const data = await writeLogs(mf, rows);
try {
  const first = data.files[0]!.range.start;
  const ranges = [];
  for (let start = first; start <= data.lastBlock; start += microbatch) ranges.push({ start, end: Math.min(start + microbatch - 1, data.lastBlock) });
  const result = await runInWorker(mf, { sql: DECODED, files: data.files, ranges, write: true });
  console.log(`${data.rows} input log rows, ${ranges.length} microbatches of ${microbatch} blocks`);
  console.log(`decoded Transfers: ${result.outputRows} rows, ${(result.outputBytes / 1e6).toFixed(1)} MB of Parquet`);
  console.log(`wall ${(result.ms / 1000).toFixed(2)} s, workerd CPU ${result.cpu.toFixed(2)} s`);
  console.log(`${Math.round(result.scannedRows / result.cpu)} input rows per CPU second (${Math.round(result.scannedRows / (result.ms / 1000))} per wall second)`);
} finally {
  cleanUp(data);
  await mf.dispose();
}
