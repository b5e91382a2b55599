/**
 * Reorgs while a continuous job runs (issue 9 §5). A continuous job with
 * parallelism 4 follows a fresh anvil's head; again and again the test mines
 * a few blocks (value transfers, logs, a revert now and then), waits a
 * seeded random while, then replaces the last 1 to 10 blocks with
 * `anvil_reorg` (the new branch with transactions of its own or empty).
 * After each reorg settles, every table's canonical chain is the node's
 * chain block by block (hashes, transactions, logs), and the progress APIs
 * count exactly the canonical files: never the orphaned ones.
 *
 * The seed is printed; AMP_CHAOS_REORGS_SEED=<seed> replays its choices
 * (their timing still depends on the machine).
 */
import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportFigures } from "../../support/chaos-figures";
import { startFreshNode } from "../../support/fault-control";
import { EMIT_THEN_REVERT, emitterCalldata, word } from "../../support/log-emitter";
import { type Prng, prng } from "../../support/prng";
import { harness } from "../../support/provided-context";
import { rawRpc } from "../../extract/evm-rpc/helpers";
import {
  type Dataset,
  deploy,
  getJob,
  getJson,
  locationsOf,
  progressOf,
  runnerSteps,
  setupDataset,
  sleep,
  stop,
  waitFor,
  waitForJob,
} from "../../e2e/e2e-support";
import { chainReaches, expectChainIsNodes, type NodeBlock, nodeChain, nodeHead, tableChain } from "./node-chain";

const DEFAULT_SEED = 20261205;
const SEED = env.CHAOS_REORGS_SEED ? Number(env.CHAOS_REORGS_SEED) : DEFAULT_SEED;
const REORGS = 15;
const MAX_DEPTH = 10;
const PARALLELISM = 4;
/** Blocks mined before each reorg, at most. */
const MAX_NEW_BLOCKS = 12;
/** The longest random wait between the new blocks, or the moment chosen, and the reorg. */
const MAX_REORG_DELAY_MS = 3_000;
/** A reorg "in a step" comes this long at most after a step was claimed. */
const MAX_IN_STEP_MS = 300;
/** Head reads are 2 s apart in chaos-jobs (10 s by default); a settle is a read or two, the hashes it asks for, and the steps it forces. */
const SETTLE_WITHIN_MS = 150_000;

const ACCOUNTS = [
  "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
  "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
  "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc",
  "0x90f79bf6eb2c4f870365e785982e1f101e93b906",
] as const;

const { harnessUrl } = harness();
let node: Awaited<ReturnType<typeof startFreshNode>>;
let emitter: string;

beforeAll(async () => {
  node = await startFreshNode(harnessUrl, { seed: true });
  emitter = node.chain!.emitter;
  // From here on, blocks come only when the test mines them.
  await rawRpc(node.url, "evm_setAutomine", [false]);
});

afterAll(async () => {
  await node?.stop();
});

/** A random transaction from a dev account: a value transfer, a call emitting 0 to 4 logs, or one that reverts. */
function randomTransaction(random: Prng): Record<string, string> {
  const from = random.pick(ACCOUNTS);
  const kind = random.int(0, 5);
  if (kind === 0) return { from, to: random.pick(ACCOUNTS), value: `0x${random.int(1, 1000).toString(16)}`, gas: "0x5208" };
  const topics = [word(random.int(1, 1e6)), word(random.int(1, 1e6)), word(random.int(1, 1e6)), word(random.int(1, 1e6))];
  const selector = kind === 5 ? EMIT_THEN_REVERT : random.int(0, 4);
  return { from, to: emitter, data: emitterCalldata(selector, topics), gas: "0x30d40" };
}

async function mineRandomBlocks(random: Prng): Promise<void> {
  const blocks = random.int(1, MAX_NEW_BLOCKS);
  for (let i = 0; i < blocks; i++) {
    const transactions = random.chance(0.5) ? random.int(1, 3) : 0;
    for (let t = 0; t < transactions; t++) await rawRpc(node.url, "eth_sendTransaction", [randomTransaction(random)]);
    await rawRpc(node.url, "anvil_mine", ["0x1"]);
  }
}

/** The new branch's transactions, each with the offset of its block in the branch; empty blocks half the time. */
function branchTransactions(random: Prng, depth: number): [Record<string, string>, number][] {
  if (random.chance(0.5)) return [];
  return Array.from({ length: random.int(1, 3) }, () => [randomTransaction(random), random.int(0, depth - 1)]);
}

type Moment = "early" | "in a step" | "behind the cursor";

interface SettledReorg {
  depth: number;
  moment: Moment;
  /** From the reorg to every table's canonical chain being the node's with nothing in flight. */
  settleMs: number;
  /** Files off the canonical chain, over all tables, once settled. */
  orphans: number;
}

interface JobProgress {
  tables: Record<string, { current_block: number | null; files_count: number; total_size_bytes: number }>;
}

/** Whether every table's canonical chain is the node's up to its head, with no step in flight; the chains when so. */
async function settledChains(dataset: Dataset, jobId: number, chain: ReadonlyMap<number, NodeBlock>, head: number) {
  const locations = await locationsOf(dataset);
  const chains = await Promise.all(locations.map(async (location) => ({ location, chain: await tableChain(location, 0) })));
  if (!chains.every(({ chain: table }) => chainReaches(table, chain, 0, head))) return undefined;
  return (await runnerSteps(jobId)).length === 0 ? chains : undefined;
}

/**
 * Waits for a seeded random moment to reorg at: soon after the new blocks
 * (the job may not have read them yet), while a step of the job runs, or
 * once the job has extracted the new blocks (a reorg behind its cursor).
 */
async function reorgMoment(random: Prng, dataset: Dataset, jobId: number): Promise<Moment> {
  const kind = random.next();
  const delay = random.int(0, MAX_REORG_DELAY_MS);
  if (kind < 0.25) {
    await sleep(delay);
    return "early";
  }
  if (kind < 0.5) {
    const inStep = random.int(0, MAX_IN_STEP_MS);
    // If no step comes within a few head reads, the new blocks are extracted already.
    const giveUpAt = Date.now() + 6_000;
    const claimed = await waitFor(
      "a step of the job to be claimed",
      async () => ((await runnerSteps(jobId)).some((step) => step.state === "claimed") ? true : Date.now() > giveUpAt ? false : undefined),
      SETTLE_WITHIN_MS,
    );
    await sleep(inStep);
    return claimed ? "in a step" : "behind the cursor";
  }
  const head = await nodeHead(node.url);
  const chain = await nodeChain(node.url, 0, head);
  await waitFor(`the job to extract up to block ${head}`, () => settledChains(dataset, jobId, chain, head), SETTLE_WITHIN_MS);
  await sleep(delay);
  return "behind the cursor";
}

/**
 * Waits until every table's canonical chain in the store is the node's up to
 * its head (hashes at every file boundary) and the job's runner has no step
 * in flight, so it has heard of every file; then checks the chains block by
 * block and that both progress APIs count exactly the canonical files.
 * Returns how many files are off the chains.
 */
async function expectSettled(dataset: Dataset, jobId: number, head: number, what: string): Promise<number> {
  const chain = await nodeChain(node.url, 0, head);
  const tables = await waitFor(
    `${what}: every table's canonical chain to be the node's up to block ${head}, with no step in flight`,
    () => settledChains(dataset, jobId, chain, head),
    SETTLE_WITHIN_MS,
  );
  const datasetProgress = await progressOf(dataset);
  const jobProgress = await getJson<JobProgress>(`/jobs/${jobId}/progress`);
  let orphans = 0;
  for (const { location, chain: table } of tables) {
    await expectChainIsNodes(location, table, chain, 0, head);
    const canonical = {
      current_block: head,
      files_count: table.canonical.length,
      total_size_bytes: table.canonical.reduce((sum, file) => sum + (file.objectSize ?? 0), 0),
    };
    const listed = datasetProgress.find((entry) => entry.table_name === location.table);
    expect(listed && { current_block: listed.current_block, files_count: listed.files_count, total_size_bytes: listed.total_size_bytes }, `${what}: progress of ${location.table}`).toEqual(canonical);
    expect(listed?.start_block).toBe(0);
    const ofJob = jobProgress.tables[location.table];
    expect(ofJob && { current_block: ofJob.current_block, files_count: ofJob.files_count, total_size_bytes: ofJob.total_size_bytes }, `${what}: job progress of ${location.table}`).toEqual(canonical);
    orphans += table.files.length - table.canonical.length;
  }
  return orphans;
}

describe("reorgs under a continuous job", () => {
  it(`${REORGS} reorgs of depth 1 to ${MAX_DEPTH} at seeded random moments: each table's canonical chain follows the node's, progress counts no orphan`, async () => {
    console.log(`continuous reorgs: seed ${SEED} (AMP_CHAOS_REORGS_SEED=${SEED} npm run chaos -- --project chaos-jobs replays it)`);
    const random = prng(SEED);
    const dataset = await setupDataset({ providerUrl: node.url });
    const jobId = await deploy(dataset, { end_block: null, parallelism: PARALLELISM });
    await expectSettled(dataset, jobId, await nodeHead(node.url), "the first extraction");

    // Every depth from 1 to MAX_DEPTH at least once, the rest at random, in a seeded order.
    const depths = Array.from({ length: REORGS }, (_, i) => (i < MAX_DEPTH ? i + 1 : random.int(1, MAX_DEPTH)));
    for (let i = depths.length - 1; i > 0; i--) {
      const j = random.int(0, i);
      [depths[i], depths[j]] = [depths[j]!, depths[i]!];
    }
    const settled: SettledReorg[] = [];
    for (let r = 1; r <= REORGS; r++) {
      await mineRandomBlocks(random);
      const moment = await reorgMoment(random, dataset, jobId);
      const depth = depths[r - 1]!;
      const head = await nodeHead(node.url);
      const before = (await nodeChain(node.url, head - depth + 1, head)).get(head)!.hash;
      await rawRpc(node.url, "anvil_reorg", [depth, branchTransactions(random, depth)]);
      const after = await nodeChain(node.url, head - depth + 1, head);
      // The reorg kept the head and replaced its block (and the depth's others).
      expect(await nodeHead(node.url)).toBe(head);
      expect(after.get(head)!.hash).not.toBe(before);
      const at = Date.now();
      const orphans = await expectSettled(dataset, jobId, head, `reorg ${r} (depth ${depth} at head ${head})`);
      settled.push({ depth, moment, settleMs: Date.now() - at, orphans });
      expect((await getJob(jobId)).status).toBe("RUNNING");
    }

    await stop(jobId);
    expect((await waitForJob(jobId, { timeoutMs: 120_000 })).status).toBe("STOPPED");

    const histogram = Array.from({ length: MAX_DEPTH }, (_, i) => `${i + 1}:${settled.filter((s) => s.depth === i + 1).length}`).join(" ");
    reportFigures("reorgs under a continuous job (§5)", [
      {
        part: "reorgs",
        seed: SEED,
        reorgs: settled.length,
        "depths (depth:count)": histogram,
        "blocks at the end": (await nodeHead(node.url)) + 1,
        early: settled.filter((s) => s.moment === "early").length,
        "in a step": settled.filter((s) => s.moment === "in a step").length,
        "behind the cursor": settled.filter((s) => s.moment === "behind the cursor").length,
        "reorgs that orphaned files": settled.filter((s, i) => s.orphans > (i === 0 ? 0 : settled[i - 1]!.orphans)).length,
        "orphaned files at the end": settled.at(-1)!.orphans,
        "max s to settle": Math.round(Math.max(...settled.map((s) => s.settleMs)) / 100) / 10,
        "chains not the node's": 0,
        "progress counting orphans": 0,
      },
    ]);
  });
});
