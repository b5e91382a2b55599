/**
 * SQL query latency: `npm run bench:query` (or `npx tsx bench/query.ts [--rows=1000000] [--runs=3]`).
 *
 * Writes `rows` synthetic log rows (bench/sql-bench.ts) into workerd's R2 and runs, inside workerd with src/sql
 * (squirreling over hyparquet range reads), a selective query (one contract address over all rows; then the same
 * address within 200 blocks, which `_block_num` statistics prune to two row groups of one file) and a full aggregate (logs per
 * contract), and the same three with DuckDB (@duckdb/node-api) over the same files on disk as the reference.
 * Prints the median latency of `runs` runs of each.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { cleanUp, option, runInWorker, startBenchWorker, writeLogs } from "./sql-bench";

const rows = option("rows", 1_000_000);
const runs = option("runs", 3);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const { mf } = await startBenchWorker();
const data = await writeLogs(mf, rows);
try {
  // The address is one of the first file's; its first 200 blocks are two of its row groups.
  const first = data.files[0]!.range.start;
  const queries = [
    { name: "selective: one address", sql: `SELECT block_num, log_index FROM bench.logs WHERE address = 0x${data.address}`, duck: `address = from_hex('${data.address}')` },
    {
      name: "selective: one address, 200 blocks",
      sql: `SELECT block_num, log_index FROM bench.logs WHERE address = 0x${data.address} AND _block_num < ${first + 200}`,
      duck: `address = from_hex('${data.address}') AND _block_num < ${first + 200}`,
    },
    { name: "aggregate: logs per contract", sql: "SELECT address, count(*) AS n FROM bench.logs GROUP BY address", duck: null },
  ];
  const db = await (await DuckDBInstance.create()).connect();
  const glob = `${data.dir}/*.parquet`;
  console.log(`${data.rows} log rows in ${data.files.length} files (${(data.files.reduce((s, f) => s + f.size, 0) / 1e6).toFixed(1)} MB)`);
  for (const query of queries) {
    const ours: number[] = [];
    const cpu: number[] = [];
    let last = { outputRows: 0, plannedBytes: 0, scannedRows: 0 };
    for (let i = 0; i < runs; i++) {
      const result = await runInWorker(mf, { sql: query.sql, files: data.files });
      ours.push(result.ms);
      cpu.push(result.cpu);
      last = result;
    }
    const duckSql = query.duck === null
      ? `SELECT address, count(*) AS n FROM read_parquet('${glob}') GROUP BY address`
      : `SELECT block_num, log_index FROM read_parquet('${glob}') WHERE ${query.duck}`;
    const duck: number[] = [];
    let duckRows = 0;
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      duckRows = (await db.runAndReadAll(duckSql)).getRows().length;
      duck.push(performance.now() - started);
    }
    console.log(
      `${query.name.padEnd(36)} amp-edge ${median(ours).toFixed(0).padStart(6)} ms (workerd CPU ${median(cpu).toFixed(2)} s, ` +
        `${last.outputRows} rows, ${last.scannedRows} scanned, ${(last.plannedBytes / 1e6).toFixed(1)} MB read)   ` +
        `DuckDB ${median(duck).toFixed(0).padStart(5)} ms (${duckRows} rows)`,
    );
  }
} finally {
  cleanUp(data);
  await mf.dispose();
}
