/**
 * `npm run demo`: the whole flow against a local anvil devnet, printed as the
 * curl commands a user would type, each with an excerpt of the answer:
 * provider -> register -> deploy -> job COMPLETED -> progress -> locations
 * and files -> each table's first Parquet file out of local R2 -> read back
 * by DuckDB, its row counts checked against the node and the API.
 *
 * Starts anvil and `wrangler dev` (through scripts/dev.mjs) on free loopback
 * ports with a temporary persist directory, and always stops and removes
 * them, also on failure or Ctrl-C. Exits non-zero when anything fails.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { EVM_RPC_TABLE_NAMES, type EvmRpcTableName } from "../src/domain/dataset-kinds/evm-rpc";
import { evmRpcManifest } from "../src/domain/manifest/evm-rpc";
import { seedBulkChain, startAnvil } from "../test/support/anvil";
import { type ApiAnswer, type DevServer, OFFLINE_WRANGLER_ENV, PROJECT_DIR, startDevServer } from "../test/support/dev-server";
import { openDuckDb, sqlString } from "../test/support/duckdb";

const SEED = { blocks: 300, transactions: 400 } as const;
const DATASET = { namespace: "_", name: "anvil", version: "1.0.0" } as const;
const DATASET_PATH = `/datasets/${DATASET.namespace}/${DATASET.name}/versions/${DATASET.version}`;
const JOB_TIMEOUT_MS = 120_000;

// ---------------------------------------------------------------- printing

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const dim = (text: string) => (process.stdout.isTTY ? `\x1b[2m${text}\x1b[0m` : text);

let stepNumber = 0;
function section(title: string): void {
  console.log(`\n${bold(`== ${++stepNumber}. ${title}`)}`);
}
const say = (text: string) => console.log(`   ${text}`);

/** A shell word in double quotes (SQL with single-quoted strings reads best that way). */
const shellDoubleQuote = (text: string) => `"${text.replace(/["\\$`]/g, "\\$&")}"`;

/** A shell word in single quotes. */
const shellQuote = (text: string) => (/^[\w./:@=-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`);

/**
 * An answer shortened for reading: long strings cut, arrays beyond their
 * first `keep` items counted, the whole line at most `width` characters.
 */
function excerpt(value: unknown, keep = 2, width = 400): string {
  const shorten = (v: unknown): unknown => {
    if (typeof v === "string") return v.length > 70 ? `${v.slice(0, 66)}…` : v;
    if (Array.isArray(v)) {
      const head = v.slice(0, keep).map(shorten);
      return v.length > keep ? [...head, `… ${v.length - keep} more`] : head;
    }
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shorten(x)]));
    return v;
  };
  const text = JSON.stringify(shorten(value)) ?? "(empty)";
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

// ---------------------------------------------------------------- the API, shown as curl

class Api {
  constructor(private readonly server: DevServer) {}

  /** Sends the request, prints it as curl with an excerpt of the answer, fails on any other status than `expect`. */
  async call(method: string, route: string, options: { body?: unknown; bodyFile?: string; expect: number; keep?: number }): Promise<ApiAnswer> {
    const parts = ["curl -s"];
    if (method !== "GET") parts.push(`-X ${method}`);
    parts.push(`"$AMP${route}"`);
    if (options.body !== undefined) {
      parts.push("-H 'content-type: application/json'");
      parts.push(options.bodyFile ? `-d @${options.bodyFile}` : `-d ${shellQuote(JSON.stringify(options.body))}`);
    }
    console.log(`\n$ ${parts.join(" ")}`);
    const answer = await this.server.request(method, route, options.body);
    console.log(dim(`  -> ${answer.status} ${answer.body === null ? "(no body)" : excerpt(answer.body, options.keep)}`));
    if (answer.status !== options.expect) {
      throw new Error(`${method} ${route} answered ${answer.status}, expected ${options.expect}: ${JSON.stringify(answer.body)}`);
    }
    return answer;
  }

  /** The same request, quietly (for polling). */
  get(route: string): Promise<ApiAnswer> {
    return this.server.request("GET", route);
  }
}

// ---------------------------------------------------------------- answers the demo relies on

interface Job {
  id: number;
  status: string;
  failure_reason?: string;
}
interface TableProgress {
  table_name: string;
  start_block: number | null;
  current_block: number | null;
  files_count: number;
  total_size_bytes: number;
}
interface Location {
  id: number;
  table: string;
  url: string;
}
interface FileSummary {
  id: number;
  file_name: string;
  object_size: number;
}
interface JobEvent {
  kind: string;
  detail: { rows?: number; files?: number; range?: { start: number; end: number }; duration_ms?: number };
}

function field<T>(answer: ApiAnswer, name: string): T {
  const value = (answer.body as Record<string, unknown> | null)?.[name];
  if (value === undefined) throw new Error(`the answer has no ${name}: ${JSON.stringify(answer.body)}`);
  return value as T;
}

// ---------------------------------------------------------------- steps

/**
 * What the tables should hold, from the node's receipts: failed transactions
 * are not extracted (README, row rules), and they have no logs.
 */
async function countOnNode(url: string, head: number): Promise<{ transactions: number; failed: number; logs: number }> {
  const body = Array.from({ length: head + 1 }, (_, n) => ({ jsonrpc: "2.0", id: n, method: "eth_getBlockReceipts", params: [`0x${n.toString(16)}`] }));
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const answers = (await response.json()) as { result: { status: string; logs: unknown[] }[] | null }[];
  const counts = { transactions: 0, failed: 0, logs: 0 };
  for (const { result } of answers) {
    for (const receipt of result ?? []) {
      if (receipt.status === "0x1") counts.transactions++;
      else counts.failed++;
      counts.logs += receipt.logs.length;
    }
  }
  return counts;
}

async function waitForJob(api: Api, jobId: number): Promise<Job> {
  const began = Date.now();
  let last = "";
  for (;;) {
    const job = (await api.get(`/jobs/${jobId}`)).body as Job;
    if (job.status !== last) {
      say(`${((Date.now() - began) / 1000).toFixed(1).padStart(5)} s  ${job.status}`);
      last = job.status;
    }
    if (job.status === "COMPLETED") return job;
    if (["FAILED", "STOPPED"].includes(job.status)) throw new Error(`job ${jobId} ended ${job.status}: ${job.failure_reason ?? "no reason given"}`);
    if (Date.now() - began > JOB_TIMEOUT_MS) throw new Error(`job ${jobId} still ${job.status} after ${JOB_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function runQuiet(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_DIR, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...OFFLINE_WRANGLER_ENV } });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} exited ${code}:\n${output}`))));
  });
}

/** `r2://<bucket>/<prefix>/` + file name -> bucket and object key. */
function objectOf(locationUrl: string, fileName: string): { bucket: string; key: string } {
  const match = /^r2:\/\/([^/]+)\/(.+\/)$/.exec(locationUrl);
  if (!match) throw new Error(`unexpected location url ${locationUrl}`);
  return { bucket: match[1]!, key: `${match[2]}${fileName}` };
}

/** A few columns per table that say what the rows are, as DuckDB SQL. */
const PREVIEW_COLUMNS: Record<EvmRpcTableName, string> = {
  blocks: `block_num, timestamp, '0x' || lower(hex(hash)) AS hash, gas_used, base_fee_per_gas`,
  transactions: `block_num, tx_index, '0x' || lower(hex(tx_hash)) AS tx_hash, '0x' || lower(hex("from")) AS "from", value, type, status`,
  logs: `block_num, log_index, '0x' || lower(hex(address)) AS address, '0x' || lower(hex(topic0)) AS topic0, octet_length(data) AS data_bytes`,
};

function printRows(rows: readonly Record<string, unknown>[]): void {
  if (rows.length === 0) return say("(no rows)");
  const cell = (v: unknown) => {
    const text = v === null ? "NULL" : String(v);
    return text.length > 20 ? `${text.slice(0, 19)}…` : text;
  };
  const columns = Object.keys(rows[0]!);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => say(values.map((v, i) => v.padEnd(widths[i]!)).join("  "));
  line(columns);
  for (const row of rows) line(columns.map((c) => cell(row[c])));
}

// ---------------------------------------------------------------- the walkthrough

const cleanups: Array<() => Promise<void>> = [];

async function demo(): Promise<void> {
  section("A local devnet: anvil, seeded with blocks, transactions and logs");
  const node = await startAnvil();
  cleanups.push(node.stop);
  const { head } = await seedBulkChain(node.url, SEED);
  const onNode = await countOnNode(node.url, head);
  say(`anvil on ${node.url}: blocks 0..${head}, ${onNode.transactions} successful and ${onNode.failed} failed transactions, ${onNode.logs} logs`);

  const work = await mkdtemp(path.join(os.tmpdir(), "amp-edge-demo-"));
  cleanups.push(() => rm(work, { recursive: true, force: true }));

  section("The admin API under wrangler dev (local D1, R2, Durable Objects, Queues; auth off)");
  const began = Date.now();
  const server = await startDevServer();
  cleanups.unshift(server.stop);
  say(`$ npm run dev -- --port ${new URL(server.url).port} --persist-to ${server.persistDir}`);
  say(`ready after ${((Date.now() - began) / 1000).toFixed(1)} s`);
  say(`AMP=${server.url}`);
  const api = new Api(server);

  section("Register a provider: where evm-rpc data for network `anvil` comes from");
  await api.call("POST", "/providers", {
    body: { name: "anvil", kind: "evm-rpc", network: "anvil", url: node.url, rpc_batch_size: 50 },
    expect: 201,
  });

  section("Register a dataset: an evm-rpc manifest with the blocks, transactions and logs tables");
  const register = { ...DATASET, manifest: evmRpcManifest("anvil") };
  const registerFile = path.join(work, "register.json");
  await writeFile(registerFile, JSON.stringify(register, null, 2));
  say(`register.json: {"namespace":"_","name":"anvil","version":"1.0.0","manifest":{"kind":"evm-rpc","network":"anvil",`);
  say(`                "start_block":0,"tables":{"blocks":{"schema":{"arrow":{"fields":[...]}},"network":"anvil"}, ...}}}`);
  say("(`npm run -s manifest:generate -- anvil` prints that manifest)");
  await api.call("POST", "/datasets", { body: register, bodyFile: "register.json", expect: 201 });
  await api.call("GET", `${DATASET_PATH}/manifest`, { expect: 200 });

  section("Deploy: extract blocks 0 up to the head the job sees when it starts");
  const deploy = await api.call("POST", `${DATASET_PATH}/deploy`, { body: { end_block: "latest" }, expect: 202 });
  const jobId = field<number>(deploy, "job_id");

  section("Wait for the job: SCHEDULED -> RUNNING -> COMPLETED");
  await api.call("GET", `/jobs/${jobId}`, { expect: 200 });
  say(`polling GET /jobs/${jobId} until it ends:`);
  await waitForJob(api, jobId);
  const events = field<JobEvent[]>(await api.call("GET", `/jobs/${jobId}/events`, { expect: 200 }), "events");
  for (const event of events) {
    const d = event.detail;
    const range = d.range ? ` blocks ${d.range.start}..${d.range.end}` : "";
    const done = d.rows !== undefined ? `: ${d.files} files, ${d.rows} rows, ${d.duration_ms} ms` : "";
    say(`${event.kind}${range}${done}`);
  }
  const stepRows = events.reduce((sum, event) => sum + (event.kind === "step_completed" ? (event.detail.rows ?? 0) : 0), 0);

  section("Progress: each table's synced block range, files and bytes");
  const tables = field<TableProgress[]>(await api.call("GET", `${DATASET_PATH}/progress`, { expect: 200, keep: 1 }), "tables");
  for (const t of tables) say(`${t.table_name.padEnd(13)} blocks ${t.start_block}..${t.current_block}, ${t.files_count} file(s), ${t.total_size_bytes} bytes`);
  await api.call("GET", `${DATASET_PATH}/tables/logs/progress`, { expect: 200 });

  section("Locations (one R2 prefix per table) and their files");
  const locations = field<Location[]>(await api.call("GET", "/locations", { expect: 200, keep: 1 }), "locations");
  const firstFiles = new Map<EvmRpcTableName, { location: Location; file: FileSummary }>();
  for (const location of locations) {
    const files = field<FileSummary[]>(await api.call("GET", `/locations/${location.id}/files`, { expect: 200 }), "files");
    const table = EVM_RPC_TABLE_NAMES.find((name) => name === location.table);
    if (table && files[0]) firstFiles.set(table, { location, file: files[0] });
  }
  const anyFile = [...firstFiles.values()][0];
  if (anyFile) await api.call("GET", `/files/${anyFile.file.id}`, { expect: 200, keep: 1 });

  section("Read the Parquet files: fetch each table's first file from local R2, read it with DuckDB");
  const duck = await openDuckDb();
  cleanups.unshift(async () => duck.close());
  const failures: string[] = [];
  const rowsPerTable = new Map<EvmRpcTableName, number>();
  for (const table of EVM_RPC_TABLE_NAMES) {
    const first = firstFiles.get(table);
    if (!first) {
      failures.push(`${table}: no file listed`);
      continue;
    }
    const { bucket, key } = objectOf(first.location.url, first.file.file_name);
    const local = path.join(work, `${table}.parquet`);
    console.log(`\n$ npx wrangler r2 object get ${bucket}/${key} --local --persist-to ${server.persistDir} --file ${table}.parquet`);
    await runQuiet(process.execPath, [
      path.join(PROJECT_DIR, "node_modules/wrangler/bin/wrangler.js"),
      "r2", "object", "get", `${bucket}/${key}`, "--local", "--persist-to", server.persistDir, "--file", local,
    ]);
    const [stats] = await duck.query(
      `SELECT count(*)::INTEGER AS rows, min(_block_num)::INTEGER AS first, max(_block_num)::INTEGER AS last FROM read_parquet(${sqlString(local)})`,
    );
    const { rows, first: firstBlock, last: lastBlock } = stats as { rows: number; first: number | null; last: number | null };
    rowsPerTable.set(table, rows);
    const preview = `SELECT ${PREVIEW_COLUMNS[table]} FROM '${table}.parquet' ORDER BY _block_num LIMIT 3`;
    console.log(`$ duckdb -c ${shellDoubleQuote(`SELECT count(*) FROM '${table}.parquet'`)}    # ${rows} rows, blocks ${firstBlock}..${lastBlock}`);
    console.log(`$ duckdb -c ${shellDoubleQuote(preview)}`);
    printRows(await duck.query(preview.replace(`'${table}.parquet'`, `read_parquet(${sqlString(local)})`)));

    const progress = tables.find((t) => t.table_name === table);
    if (!progress) failures.push(`${table}: not in progress`);
    else if (progress.files_count === 1 && progress.total_size_bytes !== first.file.object_size) {
      failures.push(`${table}: progress says ${progress.total_size_bytes} bytes, the file is ${first.file.object_size}`);
    }
  }

  section("Check: the files hold exactly what the node holds, and what progress and the job's events say");
  const blocksProgress = tables.find((t) => t.table_name === "blocks");
  const expectations: Array<[string, number | undefined, number]> = [
    ["blocks rows = progress current_block - start_block + 1", rowsPerTable.get("blocks"), (blocksProgress?.current_block ?? -1) - (blocksProgress?.start_block ?? 0) + 1],
    ["blocks rows = blocks on the node (0..head)", rowsPerTable.get("blocks"), head + 1],
    ["transactions rows = successful transactions on the node (failed ones are not extracted)", rowsPerTable.get("transactions"), onNode.transactions],
    ["logs rows = logs on the node", rowsPerTable.get("logs"), onNode.logs],
    ["rows of all tables = rows of the job's step_completed events", [...rowsPerTable.values()].reduce((a, b) => a + b, 0), stepRows],
  ];
  const oneFileEach = tables.every((t) => t.files_count === 1);
  for (const [what, actual, expected] of expectations) {
    // With more than one file per table, the first file holds only part of the rows.
    if (!oneFileEach && what.includes("rows")) continue;
    const ok = actual === expected;
    say(`${ok ? "ok  " : "FAIL"} ${what}: ${actual} vs ${expected}`);
    if (!ok) failures.push(`${what}: ${actual} vs ${expected}`);
  }
  if (!oneFileEach) say("(more than one file per table: row counts of the first files are not compared)");
  for (const table of EVM_RPC_TABLE_NAMES) {
    const p = tables.find((t) => t.table_name === table);
    if (p?.current_block !== head) failures.push(`${table}: progress current_block ${p?.current_block}, head ${head}`);
  }
  if (failures.length > 0) throw new Error(`checks failed:\n  ${failures.join("\n  ")}`);
}

async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0)) {
    try {
      await cleanup();
    } catch (error) {
      console.error(`cleanup: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping`);
    void cleanUp().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  });
}

try {
  await demo();
  section("Stop everything");
  await cleanUp();
  say("anvil and wrangler dev stopped, temporary files removed. The demo passed.");
} catch (error) {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  await cleanUp();
  process.exitCode = 1;
}
