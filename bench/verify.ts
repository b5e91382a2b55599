/**
 * The verifier's CPU cost on a real block: `npm run bench:verify` (or `npx tsx bench/verify.ts [--runs=50]`).
 *
 * Mainnet block 15,000,000 (348 transactions, 719 logs), rebuilt as a node sends it from the original's reference
 * Parquet files (test/support/reference-block.ts; skipped with a message when ../shared is absent), verified
 * `runs` times in Node, beside the row building of the same block (appendBlockRows, which every step does anyway).
 * Runs take turns (verify, rows, verify, ...) so both meet the same load; figures are medians, as CPU ms per block
 * and per 1,000 such blocks (process.cpuUsage: this thread's CPU, user and system).
 * The last line: bench:verify verify_ms_per_1000_blocks=<ms> rows_ms_per_1000_blocks=<ms> ratio=<verify / rows>
 */
import { existsSync } from "node:fs";
import { verifyBlock } from "../src/domain/evm-verification/verify-block";
import { emptyColumns } from "../src/extract/evm-rpc/columns";
import { appendBlockRows } from "../src/extract/evm-rpc/rows";
import { readReferenceBlock } from "../test/support/reference-block";
import { REFERENCE_PARQUET_DIR } from "../test/support/reference-parquet";

const runs = Number(process.argv.find((arg) => arg.startsWith("--runs="))?.slice(7) ?? 50);
if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs must be an integer >= 1");

if (!existsSync(REFERENCE_PARQUET_DIR)) {
  console.log(`bench:verify skipped: ${REFERENCE_PARQUET_DIR} is absent`);
  process.exit(0);
}

const { block, receipts } = await readReferenceBlock();
const number = Number(block.number);

function cpuMs(work: () => void): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

const median = (values: number[]) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const verifying: number[] = [];
const building: number[] = [];
// Warm-up: V8 optimises both before anything is counted.
for (let i = 0; i < 5; i++) {
  verifyBlock(block, receipts);
  appendBlockRows(emptyColumns(), number, block, receipts);
}
for (let i = 0; i < runs; i++) {
  verifying.push(cpuMs(() => verifyBlock(block, receipts)));
  building.push(cpuMs(() => appendBlockRows(emptyColumns(), number, block, receipts)));
}
const verifyMs = median(verifying);
const rowsMs = median(building);
console.log(`mainnet block ${number}: ${block.transactions.length} transactions, ${receipts.reduce((n, r) => n + (r.logs as unknown[]).length, 0)} logs; ${runs} runs each`);
console.log(`verify ${verifyMs.toFixed(2)} ms CPU per block (median), rows ${rowsMs.toFixed(2)} ms`);
console.log(`bench:verify verify_ms_per_1000_blocks=${(verifyMs * 1000).toFixed(0)} rows_ms_per_1000_blocks=${(rowsMs * 1000).toFixed(0)} ratio=${(verifyMs / rowsMs).toFixed(2)}`);
