/**
 * The README's walkthroughs run as a user runs them: the shell block of "First five minutes" (terminal 3) and the
 * one of "Derived datasets" are read out of README.md and run by bash, one after the other in one session, against
 * a fresh anvil and `npm run dev` (in steps of 20 blocks, as terminal 2 starts it). What differs from a user's
 * terminal: the ports (free ones instead of 8545 and 8787), `amp-edge` (the CLI by its path, as the README's alias
 * runs it from a clone) and `duckdb` (DuckDB's npm package when its CLI is not installed). Then what the README
 * says they show is checked against what they printed and against the node.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawRpc } from "../extract/evm-rpc/helpers";
import { type AnvilNode, startAnvil } from "../support/anvil";
import { type DevServer, PROJECT_DIR, startDevServer } from "../support/dev-server";

const README = path.join(PROJECT_DIR, "README.md");
const CLI = path.join(PROJECT_DIR, "scripts/amp-edge.mjs");
const DUCKDB_CLI = path.join(PROJECT_DIR, "test/support/duckdb-cli.mjs");
const TOKEN = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const SENDER = "f39fd6e51aad88f6f4ce6ab8827279cfffb92266";
const RECIPIENT = "70997970c51812dc3a010c7d01b50e0d17dc79c8";

/** The ```sh blocks of the README section under `heading`, in order. */
function shellBlocks(readme: string, heading: string): string[] {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README has no section ${heading}`);
  const rest = readme.slice(start + heading.length + 2);
  const section = rest.slice(0, rest.search(/\n## /) < 0 ? rest.length : rest.search(/\n## /));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

/** The blocks with the local ports and the CLI's path in place of the README's defaults. */
function localised(script: string, anvilUrl: string, apiUrl: string): string {
  const anvil = new URL(anvilUrl);
  return script
    .replaceAll("http://127.0.0.1:8545", anvilUrl)
    .replaceAll("localhost:8545", anvil.host)
    .replaceAll("http://localhost:8787", apiUrl)
    .replace(/^alias amp-edge=.*$/m, `alias amp-edge='node ${CLI}'`);
}

interface ShellRun {
  code: number | null;
  output: string;
}

function runBash(script: string, cwd: string, env: Record<string, string>): Promise<ShellRun> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", script], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

let node: AnvilNode;
let server: DevServer;
let work: string;

beforeAll(async () => {
  node = await startAnvil();
  server = await startDevServer({ args: ["--var", "AMP_STEP_SIZE:20"] });
  work = await mkdtemp(path.join(os.tmpdir(), "amp-edge-readme-"));
}, 240_000);

afterAll(async () => {
  await server?.stop();
  await node?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("the README's walkthroughs", () => {
  it("First five minutes, then Derived datasets, run as written, show what the README says", { timeout: 600_000 }, async () => {
    const readme = await readFile(README, "utf8");
    const [, terminal3] = shellBlocks(readme, "## First five minutes, with the CLI");
    const [derived] = shellBlocks(readme, "## Derived datasets");
    expect(terminal3, "First five minutes has its terminal 3 block").toBeDefined();
    expect(derived, "Derived datasets has its walkthrough block").toBeDefined();
    const prelude = [
      "set -euo pipefail",
      "shopt -s expand_aliases",
      `command -v duckdb >/dev/null || duckdb() { node ${DUCKDB_CLI} "$@"; }`,
    ].join("\n");
    const script = `${prelude}\n${localised(`${terminal3}\n${derived}`, node.url, server.url)}`;

    const run = await runBash(script, work, { AMP_URL: server.url });
    expect(run.code, run.output).toBe(0);

    // First five minutes: 300 empty blocks extracted, a file downloaded and read by DuckDB
    expect(run.output).toMatch(/job 1 COMPLETED after \d+s: blocks 301 blocks, 16 files; logs 301 blocks, 16 files; transactions 301 blocks, 16 files/);
    expect(run.output).toMatch(/wrote 000000000-000000019-[0-9a-f]{8}\.parquet/);
    expect(run.output).toMatch(/"count_star\(\)":"?20"?,"max\(block_num\)":"?19"?/);

    // Derived datasets step 0: the deploy, three transfers in block 301, extracted by job 2
    const block = (await rawRpc(node.url, "eth_getBlockByNumber", ["0x12d", false])) as { transactions: string[] };
    expect(block.transactions).toHaveLength(4);
    const receipts = (await rawRpc(node.url, "eth_getBlockReceipts", ["0x12d"])) as { contractAddress: string | null; transactionHash: string }[];
    expect(receipts[0]!.contractAddress).toBe(TOKEN);
    expect(run.output).toMatch(/job 2 COMPLETED after \d+s: blocks 302 blocks, 17 files/);

    // steps 3 and 4: the derived job and the README's two queries
    expect(run.output).toMatch(/job 3 COMPLETED after \d+s: miners 302 blocks, \d+ files; per_block 302 blocks, \d+ files; transfers 302 blocks, \d+ files/);
    expect(run.output).toMatch(/^\s*301\s+301\s+3\s*$/m);
    const transfers = run.output
      .split("\n")
      .filter((line) => line.startsWith('{"_block_num"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(transfers).toEqual(
      receipts.slice(1).map((receipt) => ({
        _block_num: 301,
        tx_hash: receipt.transactionHash.slice(2),
        sender: SENDER,
        recipient: RECIPIENT,
        amount: "1000",
      })),
    );
  });
});
