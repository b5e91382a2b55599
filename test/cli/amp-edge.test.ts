/**
 * The CLI end to end, run as a user runs it (`node scripts/amp-edge.mjs`),
 * against the real Worker under `wrangler dev` (auth on, an admin and a read
 * token) and a real anvil node: every noun's verbs, tables and --json, exit
 * codes, `deploy --watch` and `job watch` with bars on a pseudo-terminal and
 * plain lines through a pipe, and the Parquet files read back over HTTP
 * ranges with hyparquet.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { asyncBufferFromUrl, parquetReadObjects } from "hyparquet";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { seedBulkChain, startAnvil, type AnvilNode } from "../support/anvil";
import { type DevServer, startDevServer } from "../support/dev-server";
import { type CliRun, jsonOf, runCliInProcess, runCliProcess } from "./cli-process";

// Each CLI run is a process of its own (about a second on a loaded machine), and a test makes up to a dozen.
vi.setConfig({ testTimeout: 120_000 });

const ADMIN_TOKEN = "cli-admin-token";
const READ_TOKEN = "cli-read-token";
const STEP_SIZE = 50;
const TABLES = ["blocks", "logs", "transactions"];

let node: AnvilNode;
let head: number;
let server: DevServer;
let work: string;

const admin = () => ({ AMP_URL: server.url, AMP_TOKEN: ADMIN_TOKEN });
const reader = () => ({ AMP_URL: server.url, AMP_TOKEN: READ_TOKEN });
/** Most verbs run through the CLI's entry point in this process; `spawned` runs the launcher as a process of its own. */
const cli = (args: string[], env: Record<string, string> = admin()) => runCliInProcess(args, env);
const spawned = (args: string[], env: Record<string, string> = admin()) => runCliProcess(args, { env });

/** Runs and expects exit 0; the run for further checks. */
async function ok(args: string[], env: Record<string, string> = admin()): Promise<CliRun> {
  const run = await cli(args, env);
  expect(run.code, `${args.join(" ")}\n${run.stderr}${run.stdout}`).toBe(0);
  return run;
}

/** Rows on the node: successful transactions and their logs (failed ones are dropped, reference §5.1). */
async function countOnNode(): Promise<{ transactions: number; logs: number }> {
  const body = Array.from({ length: head + 1 }, (_, n) => ({ jsonrpc: "2.0", id: n, method: "eth_getBlockReceipts", params: [`0x${n.toString(16)}`] }));
  const answers = (await (await fetch(node.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).json()) as {
    result: { status: string; logs: unknown[] }[];
  }[];
  const counts = { transactions: 0, logs: 0 };
  for (const receipt of answers.flatMap((answer) => answer.result)) {
    if (receipt.status !== "0x1") continue;
    counts.transactions++;
    counts.logs += receipt.logs.length;
  }
  return counts;
}

/** A provider and a dataset of their own network, registered through the CLI; its reference. */
async function registerDataset(network: string): Promise<string> {
  const providerFile = path.join(work, `${network}.provider.json`);
  await writeFile(providerFile, JSON.stringify({ kind: "evm-rpc", network, url: node.url, rpc_batch_size: 50 }));
  await ok(["provider", "register", network, providerFile]);
  const manifestFile = path.join(work, `${network}.json`);
  await ok(["manifest", "generate", "--network", network, "-o", manifestFile]);
  await ok(["dataset", "register", `_/${network}`, manifestFile, "--tag", "1.0.0"]);
  return `_/${network}@1.0.0`;
}

beforeAll(async () => {
  node = await startAnvil();
  ({ head } = await seedBulkChain(node.url, { blocks: 300, transactions: 400 }));
  server = await startDevServer({
    args: ["--var", `AMP_ADMIN_TOKEN:${ADMIN_TOKEN}`, "--var", `AMP_READ_TOKEN:${READ_TOKEN}`, "--var", `AMP_STEP_SIZE:${STEP_SIZE}`],
  });
  work = await mkdtemp(path.join(os.tmpdir(), "amp-edge-cli-"));
}, 240_000);

afterAll(async () => {
  await server?.stop();
  await node?.stop();
  if (work) await rm(work, { recursive: true, force: true });
}, 30_000);

describe("usage and API errors", () => {
  it("exits 2 on bad usage, with the reason on stderr", async () => {
    for (const args of [["job", "nope"], ["job", "inspect", "abc"], ["dataset", "deploy", "no-slash"], ["schedule", "set", "_/x@1.0.0"], ["--no-such-flag"], ["job", "list", "--limit", "x"]]) {
      const run = await spawned(args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr, args.join(" ")).toMatch(/error/);
    }
  });

  it("exits 0 with help", async () => {
    const run = await spawned(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/provider[\s\S]*manifest[\s\S]*dataset[\s\S]*job[\s\S]*location[\s\S]*file[\s\S]*worker[\s\S]*schedule/);
  });

  it("exits 1 with the API's error_code: no token, a wrong one, the read token writing, an unknown job", async () => {
    expect(await spawned(["job", "list"], { AMP_URL: server.url })).toMatchObject({ code: 1, stderr: expect.stringContaining("UNAUTHORIZED") });
    expect(await spawned(["job", "list", "--token", "wrong"], { AMP_URL: server.url })).toMatchObject({ code: 1, stderr: expect.stringContaining("UNAUTHORIZED") });
    expect(await spawned(["job", "prune"], reader())).toMatchObject({ code: 1, stderr: expect.stringContaining("FORBIDDEN") });
    expect(await spawned(["job", "inspect", "999999"])).toMatchObject({ code: 1, stderr: expect.stringContaining("JOB_NOT_FOUND") });
    expect(await spawned(["job", "list"], { AMP_URL: "http://127.0.0.1:1", AMP_TOKEN: ADMIN_TOKEN })).toMatchObject({ code: 1, stderr: expect.stringContaining("CONNECTION_FAILED") });
  });

  it("takes --url and --token over AMP_URL and AMP_TOKEN", async () => {
    const run = await spawned(["--url", server.url, "--token", READ_TOKEN, "--json", "job", "list"], { AMP_URL: "http://127.0.0.1:1", AMP_TOKEN: "wrong" });
    expect(jsonOf(run)).toMatchObject({ jobs: expect.any(Array) });
  });
});

describe("a dataset from register to its files, with bars on a terminal", () => {
  let reference: string;
  let jobId: number;

  beforeAll(async () => {
    reference = await registerDataset("tty");
  }, 60_000);

  it("lists and inspects what was registered, as tables and as JSON", async () => {
    expect((await ok(["provider", "list"])).stdout).toMatch(/^NAME\s+KIND\s+NETWORK\s+URL\n[\s\S]*tty\s+evm-rpc\s+tty\s+http:\/\/127\.0\.0\.1/m);
    expect(jsonOf(await ok(["--json", "provider", "inspect", "tty"]))).toMatchObject({ name: "tty", kind: "evm-rpc", network: "tty", rpc_batch_size: 50 });
    expect(jsonOf(await ok(["--json", "dataset", "list"]))).toEqual(expect.arrayContaining([{ namespace: "_", name: "tty", latest_version: "1.0.0", versions: ["1.0.0"] }]));
    const info = jsonOf<{ manifest_hash: string; kind: string }>(await ok(["--json", "dataset", "inspect", reference], reader()));
    expect(info.kind).toBe("evm-rpc");
    expect(jsonOf(await ok(["--json", "dataset", "versions", "_/tty"]))).toMatchObject({ versions: [{ version: "1.0.0", manifest_hash: info.manifest_hash }] });
    const manifest = JSON.parse(await readFile(path.join(work, "tty.json"), "utf8"));
    expect(jsonOf(await ok(["--json", "dataset", "manifest", reference]))).toEqual(manifest);
    expect(jsonOf(await ok(["--json", "manifest", "inspect", info.manifest_hash]))).toEqual(manifest);
    expect((await ok(["dataset", "inspect", reference])).stdout).toMatch(/^kind:\s+evm-rpc$/m);
  });

  it("lists the stored manifests with their kind and links", async () => {
    const { manifest_hash: hash } = jsonOf<{ manifest_hash: string }>(await ok(["--json", "dataset", "inspect", reference]));
    expect(jsonOf(await ok(["--json", "manifest", "list"], reader()))).toEqual(expect.arrayContaining([{ hash, kind: "evm-rpc", dataset_count: 1 }]));
    expect((await ok(["manifest", "list"])).stdout).toMatch(new RegExp(`^${hash}\\s+evm-rpc\\s+1$`, "m"));
  });

  it("deploys with --watch on a terminal: a live bar per table until COMPLETED, exit 0", async () => {
    const run = await runCliProcess(["dataset", "deploy", reference, "--end-block", "latest", "--parallelism", "2", "--watch"], { env: admin(), tty: true });
    expect(run.code, run.stdout).toBe(0);
    jobId = Number(/^job (\d+)/m.exec(run.stdout)?.[1]);
    // cli-progress hides the cursor, redraws the bars in place, and shows it again at the end.
    expect(run.stdout).toContain("\x1b[?25l");
    expect(run.stdout).toContain("\x1b[?25h");
    expect(run.stdout).toMatch(/\x1b\[\d+A/);
    const total = head + 1;
    for (const table of TABLES) {
      expect(run.stdout).toMatch(new RegExp(`${table}\\s+\\[#{20}\\] ${total}/${total} \\(100%\\) [\\d.]+ blocks/s ETA 0s \\d+ files, [\\d.]+ (B|KiB|MiB)`));
    }
    expect(run.stdout).toMatch(new RegExp(`job ${jobId} COMPLETED \\[\\d+s\\] \\(end ${head}, head \\d+\\)`));
    expect(run.stdout).toMatch(new RegExp(`job ${jobId} COMPLETED after \\d+s: blocks ${total} blocks`));
  });

  it("shows the job, its events and its progress: the resolved end block, the head, every table's range", async () => {
    expect((await ok(["job", "list"])).stdout).toMatch(new RegExp(`^\\s*${jobId}\\s+COMPLETED\\s+_/tty\\s+latest\\s+tty\\s`, "m"));
    expect(jsonOf(await ok(["--json", "job", "inspect", String(jobId)], reader()))).toMatchObject({ id: jobId, status: "COMPLETED", provider: "tty" });
    const events = jsonOf<{ kind: string }[]>(await ok(["--json", "job", "events", String(jobId)]));
    expect(events[0]?.kind).toBe("scheduled");
    expect(events.at(-1)?.kind).toBe("completed");
    expect(events.filter((event) => event.kind === "step_completed").length).toBe(Math.ceil((head + 1) / STEP_SIZE));
    const progress = jsonOf<{ start_block: number; end_block: number; chain_head: number; continuous: boolean; tables: Record<string, { start_block: number; current_block: number }> }>(
      await ok(["--json", "job", "progress", String(jobId)]),
    );
    expect(progress).toMatchObject({ start_block: 0, end_block: head, chain_head: head, continuous: false });
    expect(Object.keys(progress.tables)).toEqual(TABLES);
    for (const table of TABLES) expect(progress.tables[table]).toMatchObject({ start_block: 0, current_block: head });
    expect((await ok(["job", "progress", String(jobId)])).stdout).toMatch(new RegExp(`^blocks\\s+0\\s+${head}\\s+\\d+\\s`, "m"));
    expect((await ok(["dataset", "progress", reference])).stdout).toMatch(new RegExp(`^transactions\\s+0\\s+${head}\\s+\\d+\\s+\\S+ \\S+\\s+${jobId}\\s+COMPLETED$`, "m"));
  });

  it("reads every row of every table back over HTTP ranges with hyparquet and the read token", async () => {
    const onNode = await countOnNode();
    const statuses: number[] = [];
    const recordingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      statuses.push(response.status);
      return response;
    };
    const rowsPerTable: Record<string, number> = {};
    for (const table of TABLES) {
      const listing = jsonOf<{ files: { start_block: number; end_block: number; row_count: number; content_url: string }[] }>(
        await ok(["--json", "dataset", "files", reference, table], reader()),
      );
      // The canonical chain in block order: contiguous from 0 to the head.
      expect(listing.files[0]?.start_block).toBe(0);
      expect(listing.files.at(-1)?.end_block).toBe(head);
      listing.files.slice(1).forEach((file, i) => expect(file.start_block).toBe(listing.files[i]!.end_block + 1));
      let rows = 0;
      const blockNumbers: bigint[] = [];
      for (const file of listing.files) {
        const buffer = await asyncBufferFromUrl({ url: file.content_url, requestInit: { headers: { authorization: `Bearer ${READ_TOKEN}` } }, fetch: recordingFetch });
        const objects = await parquetReadObjects({ file: buffer, columns: ["_block_num"] });
        expect(objects.length).toBe(file.row_count);
        rows += objects.length;
        for (const row of objects) {
          const block = row._block_num as bigint;
          expect(block >= BigInt(file.start_block) && block <= BigInt(file.end_block)).toBe(true);
          blockNumbers.push(block);
        }
      }
      rowsPerTable[table] = rows;
      if (table === "blocks") expect(blockNumbers).toEqual(Array.from({ length: head + 1 }, (_, n) => BigInt(n)));
    }
    expect(rowsPerTable).toEqual({ blocks: head + 1, transactions: onNode.transactions, logs: onNode.logs });
    expect(onNode.transactions).toBeGreaterThan(0);
    // hyparquet asked for its length (HEAD, 200), then read ranges: every read was a 206.
    expect(statuses.filter((status) => status !== 206 && status !== 200)).toEqual([]);
    expect(statuses.filter((status) => status === 206).length).toBeGreaterThan(statuses.filter((status) => status === 200).length);
  });

  it("queries the tables with SQL: a table for people, the API's JSON Lines with --json, SQL from a file, the read token", async () => {
    const onNode = await countOnNode();
    const blocks = `SELECT count(*) AS n, max(block_num) AS last FROM "${reference}".blocks`;
    expect((await ok(["query", blocks], reader())).stdout).toMatch(new RegExp(`^\\s*N\\s+LAST\\n\\s*${head + 1}\\s+${head}\\n$`));
    const transactions = `SELECT count(*) AS n FROM "${reference}".transactions`;
    expect(jsonOf<{ n: number }>(await ok(["--json", "query", transactions], reader()))).toEqual({ n: onNode.transactions });
    const sqlFile = path.join(work, "per-block.sql");
    await writeFile(sqlFile, `SELECT block_num, count(*) AS logs FROM "${reference}".logs GROUP BY block_num ORDER BY block_num`);
    const lines = (await ok(["--json", "query", "--file", sqlFile], reader())).stdout.trim().split("\n");
    const perBlock = lines.map((line) => JSON.parse(line) as { block_num: number; logs: number });
    expect(perBlock.reduce((sum, row) => sum + row.logs, 0)).toBe(onNode.logs);
    expect(perBlock.map((row) => row.block_num)).toEqual([...perBlock.map((row) => row.block_num)].sort((a, b) => a - b));
  });

  it("fails a query with the API's error code (exit 1) or as usage (exit 2)", async () => {
    const bad = await cli(["query", "SELEC nothing"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: SQL_PARSE_ERROR: /);
    const limited = await cli(["query", `SELECT block_num FROM "${reference}".blocks`, "--max-rows", "1"]);
    expect(limited.code).toBe(1);
    expect(limited.stderr).toMatch(/^error: QUERY_LIMIT_EXCEEDED: /);
    for (const args of [["query"], ["query", "SELECT 1", "--file", "x.sql"], ["query", "SELECT 1", "--max-rows", "0"]]) {
      const run = await cli(args);
      expect(run.code, args.join(" ")).toBe(2);
    }
  });

  it("shows locations and files, and downloads a file byte for byte", async () => {
    const locations = jsonOf<{ locations: { id: number; dataset_name: string; table: string; active: boolean }[] }>(await ok(["--json", "location", "list"]));
    const mine = locations.locations.filter((location) => location.dataset_name === "tty");
    expect(mine.map((location) => location.table).sort()).toEqual(TABLES);
    const blocks = mine.find((location) => location.table === "blocks")!;
    expect(jsonOf(await ok(["--json", "location", "inspect", String(blocks.id)]))).toMatchObject({ id: blocks.id, active: true, writer: { id: jobId } });
    const files = jsonOf<{ files: { id: number; file_name: string; object_size: number }[]; next_cursor?: number }>(
      await ok(["--json", "location", "files", String(blocks.id), "--limit", "2"]),
    );
    expect(files.files.length).toBe(2);
    expect(files.next_cursor).toBe(files.files[1]!.id);
    const file = files.files[0]!;
    expect(jsonOf(await ok(["--json", "file", "inspect", String(file.id)]))).toMatchObject({ id: file.id, file_name: file.file_name, object_size: file.object_size });
    const target = path.join(work, "download.parquet");
    const download = await spawned(["file", "download", String(file.id), "-o", target], reader());
    expect(download.code, download.stderr).toBe(0);
    expect(download.stdout).toMatch(/^wrote .*download\.parquet/);
    const downloaded = await readFile(target);
    const served = Buffer.from(await (await fetch(`${server.url}/files/${file.id}/content`, { headers: { authorization: `Bearer ${READ_TOKEN}` } })).arrayBuffer());
    expect(downloaded.length).toBe(file.object_size);
    expect(downloaded.equals(served)).toBe(true);
    expect(downloaded.subarray(0, 4).toString()).toBe("PAR1");
  });

  it("lists workers", async () => {
    const workers = jsonOf<{ node_id: string }[]>(await ok(["--json", "worker", "list"]));
    expect(workers.map((worker) => worker.node_id)).toContain(`jobrunner-${jobId}`);
    expect(jsonOf(await ok(["--json", "worker", "inspect", `jobrunner-${jobId}`]))).toMatchObject({ node_id: `jobrunner-${jobId}` });
  });
});

describe("watching without a terminal, a continuous job, and cleaning up", () => {
  it("deploys with --watch through a pipe: one plain line per poll, no escape codes, exit 0", async () => {
    const reference = await registerDataset("piped");
    const run = await spawned(["dataset", "deploy", reference, "--end-block", String(head), "--watch", "--interval", "0.5"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain("\x1b");
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^job \d+$/);
    const polls = lines.slice(1, -1);
    expect(polls.length).toBeGreaterThan(0);
    for (const line of polls) expect(line).toMatch(/^job \d+ (SCHEDULED|RUNNING|COMPLETED) \[\d+s\] \(.*\) \| blocks \d+\/(\d+|\?) (\(\d+%\) )?blocks .* \| logs .* \| transactions /);
    expect(polls.at(-1)).toMatch(new RegExp(`COMPLETED .* blocks ${head + 1}/${head + 1} \\(100%\\) blocks`));
    expect(lines.at(-1)).toMatch(new RegExp(`^job \\d+ COMPLETED after \\d+s: blocks ${head + 1} blocks, \\d+ files; logs`));
  });

  it("watches a continuous job follow the head with its distance to it, and exits 1 once it is stopped", async () => {
    const reference = await registerDataset("follow");
    const { job_id: jobId } = jsonOf<{ job_id: number }>(await ok(["--json", "dataset", "deploy", reference]));
    const mined = 20;
    let seen = "";
    let phase: "catching up" | "following" | "stopped" = "catching up";
    const caughtUp = (to: number) => new RegExp(`\\(continuous, head ${to}\\) \\| blocks ${to + 1}/${to + 1} \\(100%\\) blocks .*, 0 behind head`);
    const run = await runCliProcess(["job", "watch", String(jobId), "--interval", "0.5"], {
      env: admin(),
      onStdout: (text) => {
        seen += text;
        if (phase === "catching up" && caughtUp(head).test(seen)) {
          // New blocks on the node: the job must pick them up and catch up again.
          phase = "following";
          void fetch(node.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "anvil_mine", params: [`0x${mined.toString(16)}`] }) });
        } else if (phase === "following" && caughtUp(head + mined).test(seen)) {
          phase = "stopped";
          void ok(["job", "stop", String(jobId)]);
        }
      },
    });
    expect(phase).toBe("stopped");
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain("\x1b");
    expect(run.stdout).toMatch(new RegExp(`job ${jobId} STOPPED after \\d+s: blocks ${head + mined + 1} blocks`));
    expect(run.stderr).toContain(`job ${jobId} STOPPED before it completed`);
    // --json: one object per poll, the last one terminal.
    const json = await cli(["--json", "job", "watch", String(jobId)]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout.trim().split("\n").at(-1)!)).toMatchObject({ job_id: jobId, job_status: "STOPPED", continuous: true, chain_head: head + mined });
    head += mined;
  });

  it("sets, shows, lists and removes a schedule; a bad cron expression is the API's 400", async () => {
    const reference = await registerDataset("hourly");
    const saved = jsonOf<{ cron: string; timezone: string; end_block: string; parallelism: number; enabled: boolean; next_run_at: string }>(
      await ok(["--json", "schedule", "set", reference, "--cron", "0 * * * *", "--timezone", "Europe/Berlin", "--parallelism", "2"]),
    );
    expect(saved).toMatchObject({ cron: "0 * * * *", timezone: "Europe/Berlin", end_block: "latest", parallelism: 2, enabled: true });
    expect(new Date(saved.next_run_at).getUTCMinutes()).toBe(0);
    const shown = (await ok(["schedule", "show", reference], reader())).stdout;
    expect(shown).toMatch(/^dataset:\s+_\/hourly@1\.0\.0$/m);
    expect(shown).toMatch(/^cron:\s+0 \* \* \* \*$/m);
    expect(shown).toMatch(/^last_run:\s+-$/m);
    expect((await ok(["schedule", "list"])).stdout).toMatch(/^_\/hourly@1\.0\.0\s+0 \* \* \* \*\s+Europe\/Berlin\s+true\s/m);
    expect(jsonOf(await ok(["--json", "schedule", "set", reference, "--cron", "*/5 * * * *", "--disabled"]))).toMatchObject({ enabled: false, next_run_at: null });
    expect(await cli(["schedule", "set", reference, "--cron", "61 * * * *"])).toMatchObject({ code: 1, stderr: expect.stringContaining("INVALID_BODY") });
    await ok(["schedule", "rm", reference]);
    expect(await cli(["schedule", "show", reference])).toMatchObject({ code: 1, stderr: expect.stringContaining("SCHEDULE_NOT_FOUND") });
  });

  it("removes jobs, datasets, manifests and providers", async () => {
    const reference = await registerDataset("doomed");
    const hash = jsonOf<{ manifest_hash: string }>(await ok(["--json", "dataset", "inspect", reference])).manifest_hash;
    const jobId = Number(/^job (\d+)$/m.exec((await ok(["dataset", "deploy", reference, "--end-block", "5", "--watch", "--interval", "0.5"])).stdout)?.[1]);
    expect((await cli(["job", "rm", String(jobId)])).code).toBe(0);
    expect(await cli(["job", "inspect", String(jobId)])).toMatchObject({ code: 1, stderr: expect.stringContaining("JOB_NOT_FOUND") });
    expect(await cli(["manifest", "rm", hash])).toMatchObject({ code: 1, stderr: expect.stringContaining("MANIFEST_LINKED") });
    await ok(["dataset", "rm", "_/doomed"]);
    expect(await cli(["dataset", "inspect", reference])).toMatchObject({ code: 1, stderr: expect.stringContaining("DATASET_NOT_FOUND") });
    expect(jsonOf(await ok(["--json", "manifest", "prune"]))).toMatchObject({ deleted_count: expect.any(Number) });
    await ok(["provider", "rm", "doomed"]);
    expect(await cli(["provider", "inspect", "doomed"])).toMatchObject({ code: 1, stderr: expect.stringContaining("PROVIDER_NOT_FOUND") });
    await ok(["job", "prune", "--status", "stopped"]);
    const remaining = jsonOf<{ jobs: { status: string }[] }>(await ok(["--json", "job", "list", "--status", "all"]));
    expect(remaining.jobs.map((job) => job.status)).not.toContain("STOPPED");
  });
});
