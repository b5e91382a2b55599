/**
 * A crash at every phase (issue 9 §3). For each point between two effects of a step or of a job's runner
 * (src/domain/crash-points.ts), a job of a dataset of its own dies there once: the queue invocation running the
 * step, or the JobRunner Durable Object (crash-entry.ts says how each dies). Then nothing but the platform
 * recovers it (the queue delivers the messages again, the runner's alarm runs again, leases expire) and each
 * case must end with:
 * - the job COMPLETED, and its runner's own state COMPLETED with no step left;
 * - no step_failed, head_read_failed or failed event: a crash is not a failure of the work;
 * - every table's files tiling the range once, its canonical chain the node's block by block (node-chain.ts);
 * - no file row without its object, and every object without a row one that garbage collection's dry run
 *   (GET /gc?older_than=0) lists as `unregistered`, i.e. removable.
 * The cases run side by side (a crash ends the whole queue invocation, so other cases' steps in the same batch
 * are cut off with it, as on the platform).
 */
import { env, runInDurableObject } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunnerStorage } from "../../../durable-objects/runner-storage";
import { type CrashPoint, RUNNER_CRASH_POINTS, STEP_CRASH_POINTS } from "../../../src/domain/crash-points";
import type { JobStatus } from "../../../src/domain/job";
import { MIN_PART_SIZE } from "../../../src/extract/r2-upload";
import {
  type Dataset,
  deploy,
  expectTiled,
  filesOf,
  getJson,
  jobEvents,
  locationPrefix,
  locationsOf,
  objectsOf,
  runner,
  setupDataset,
  sleep,
  TABLES,
  type TableName,
  waitFor,
  waitForJob,
} from "../../e2e/e2e-support";
import { rawRpc } from "../../extract/evm-rpc/helpers";
import { reportFigures } from "../../support/chaos-figures";
import { startFreshNode } from "../../support/fault-control";
import { harness } from "../../support/provided-context";
import { expectChainIsNodes, type NodeBlock, nodeChain, tableChain } from "../jobs/node-chain";
import { armCrash, crashes } from "./crash-plan";

interface CrashCase {
  point: CrashPoint;
  table?: TableName;
  status?: JobStatus;
  /** `large`: a chain whose transactions file outgrows one upload part, for the point inside a multipart upload. */
  chain: "seeded" | "large";
}

const CASES: CrashCase[] = [
  { point: "step:fetched", chain: "seeded" },
  { point: "step:part-uploaded", table: "transactions", chain: "large" },
  ...TABLES.map((table): CrashCase => ({ point: "step:object-put", table, chain: "seeded" })),
  ...TABLES.map((table): CrashCase => ({ point: "step:file-registered", table, chain: "seeded" })),
  { point: "step:before-report", chain: "seeded" },
  { point: "runner:status-mirrored", status: "RUNNING", chain: "seeded" },
  { point: "runner:status-mirrored", status: "COMPLETED", chain: "seeded" },
  { point: "runner:progress-saved", chain: "seeded" },
  { point: "runner:step-logged", chain: "seeded" },
  { point: "runner:head-recorded", chain: "seeded" },
];

const PARALLELISM = 2;
const { anvilUrl, harnessUrl, chain: seeded } = harness();
/** The seeded chain's jobs: up to four steps of ten blocks (AMP_STEP_SIZE). */
const SEEDED_END = Math.min(seeded.head, 39);
/** Calldata bytes of each of the large chain's transactions, and how many go in its one busy block. */
const LARGE_TX_BYTES = 100_000;
const LARGE_TXS = 64;
/** Bounds on a loaded 2-core machine; a lease runs out within 60 s, the runner's alarm retries within a minute. */
const COMPLETED_WITHIN_MS = 300_000;
const RUNNER_SETTLED_WITHIN_MS = 120_000;

let large: Awaited<ReturnType<typeof startFreshNode>>;
let largeHead: number;
const chains = new Map<string, Map<number, NodeBlock>>();

/** Calldata that does not compress: the transactions file stays larger than its bytes on the wire. */
function noise(bytes: number, seed: number): string {
  let x = seed;
  let hex = "0x";
  for (let i = 0; i < bytes; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    hex += (((x >>> 16) & 0xff) | 1).toString(16).padStart(2, "0");
  }
  return hex;
}

/** A fresh node with one block of 64 transactions of 100 KB calldata each: a transactions file of over 6 MB. */
async function seedLargeChain(url: string): Promise<number> {
  const accounts = (await rawRpc(url, "eth_accounts", [])) as string[];
  await rawRpc(url, "evm_setAutomine", [false]);
  await rawRpc(url, "evm_setBlockGasLimit", [`0x${(2_000_000_000).toString(16)}`]);
  for (let i = 0; i < LARGE_TXS; i++) {
    // The calldata floor (EIP-7623) is 40 gas a non-zero byte.
    await rawRpc(url, "eth_sendTransaction", [{ from: accounts[i % 4], to: accounts[5], data: noise(LARGE_TX_BYTES, i + 1), gas: `0x${(4_200_000).toString(16)}` }]);
  }
  await rawRpc(url, "evm_mine", []);
  await rawRpc(url, "evm_mine", []);
  await rawRpc(url, "evm_setAutomine", [true]);
  return Number(await rawRpc(url, "eth_blockNumber", []));
}

beforeAll(async () => {
  large = await startFreshNode(harnessUrl, { seed: false });
  largeHead = await seedLargeChain(large.url);
  chains.set("seeded", await nodeChain(anvilUrl, 0, SEEDED_END));
  chains.set("large", await nodeChain(large.url, 0, largeHead));
  const busiest = Math.max(...[...chains.get("large")!.values()].map((block) => block.transactions.length));
  expect(busiest, "the large chain's busy block").toBe(LARGE_TXS);
  expect(LARGE_TXS * LARGE_TX_BYTES).toBeGreaterThan(MIN_PART_SIZE);
});

afterAll(async () => {
  await large?.stop();
});

interface Outcome {
  point: string;
  at: string;
  status: string;
  /** From the crash to COMPLETED (D1), seconds. */
  recoveredS: number;
  steps: number;
  stepStarts: number;
  maxAttempt: number;
  files: number;
  objectsWithoutRow: number;
  rowsWithoutObject: number;
  blocks: number;
}

const outcomes: Outcome[] = [];

interface GcPlan {
  items: { reason: string; key: string }[];
}

/** Objects of a location without a row (each must be removable by GC) and rows without an object (none may be). */
async function orphansOf(dataset: Dataset): Promise<{ objectsWithoutRow: number; rowsWithoutObject: string[] }> {
  const removable = new Set((await getJson<GcPlan>("/gc?older_than=0")).items.filter((item) => item.reason === "unregistered").map((item) => item.key));
  let objectsWithoutRow = 0;
  const rowsWithoutObject: string[] = [];
  for (const location of await locationsOf(dataset)) {
    const prefix = locationPrefix(location);
    const rows = new Set((await filesOf(location)).map((file) => prefix + file.file_name));
    const objects = new Set((await objectsOf(location)).map((object) => object.key));
    for (const key of objects) {
      if (rows.has(key)) continue;
      objectsWithoutRow++;
      expect(removable.has(key), `${key} has no row and garbage collection would not remove it`).toBe(true);
    }
    rowsWithoutObject.push(...[...rows].filter((key) => !objects.has(key)));
  }
  return { objectsWithoutRow, rowsWithoutObject };
}

/**
 * The runner's own status and steps; undefined while its crash is still under way: the crash entry aborts the
 * runner a second after the point (crash-entry.ts), and a look that lands in that second is cut off with it (D1
 * may already say COMPLETED then: runner:status-mirrored).
 */
async function runnerSettled(jobId: number): Promise<{ status: string; steps: number } | undefined> {
  try {
    return await runInDurableObject(runner(jobId), async (_instance, state) => {
      const storage = new RunnerStorage(state.storage);
      return { status: (await storage.state())?.status ?? "none", steps: storage.steps().length };
    });
  } catch (error) {
    if (error instanceof Error && error.message.includes(`job ${jobId}'s runner died at`)) return undefined;
    throw error;
  }
}

async function runCase(crashCase: CrashCase): Promise<void> {
  const url = crashCase.chain === "large" ? large.url : anvilUrl;
  const end = crashCase.chain === "large" ? largeHead : SEEDED_END;
  const dataset = await setupDataset({ providerUrl: url });
  const target = { dataset: dataset.name, point: crashCase.point, table: crashCase.table, status: crashCase.status };
  armCrash(target);
  const jobId = await deploy(dataset, { end_block: end, parallelism: PARALLELISM });
  const what = `${crashCase.point} ${crashCase.table ?? crashCase.status ?? ""}, job ${jobId}`;

  const job = await waitForJob(jobId, { timeoutMs: COMPLETED_WITHIN_MS });
  const completedAt = Date.now();
  expect(job.status, `${what}: ${job.failure_reason ?? ""}`).toBe("COMPLETED");
  const crash = crashes.find((c) => c.target === target);
  expect(crash, `${what}: the crash point was never reached`).toBeDefined();
  expect(crash!.jobId).toBe(jobId);

  // The runner's own state caught up with D1, and it holds no step.
  await waitFor(
    `${what}: the runner's state COMPLETED with no step`,
    async () => {
      const settled = await runnerSettled(jobId);
      return settled?.status === "COMPLETED" && settled.steps === 0 ? settled : undefined;
    },
    RUNNER_SETTLED_WITHIN_MS,
  );

  const events = await jobEvents(jobId);
  const failures = events.filter((event) => ["step_failed", "head_read_failed", "failed"].includes(event.kind));
  expect(failures.map((event) => `${event.kind} ${JSON.stringify(event.detail)}`), what).toEqual([]);
  const starts = events.filter((event) => event.kind === "step_started").map((event) => event.detail as { range: { start: number }; attempt: number });

  const { objectsWithoutRow, rowsWithoutObject } = await orphansOf(dataset);
  expect(rowsWithoutObject, `${what}: file rows without their object`).toEqual([]);
  let files = 0;
  for (const location of await locationsOf(dataset)) {
    const rows = await filesOf(location);
    files += rows.length;
    expectTiled(rows, 0, end, `${what}: ${location.table}`);
    await expectChainIsNodes(location, await tableChain(location, 0), chains.get(crashCase.chain)!, 0, end);
  }
  outcomes.push({
    point: crashCase.point,
    at: crashCase.table ?? crashCase.status ?? "",
    status: job.status,
    recoveredS: Math.round((completedAt - crash!.at) / 100) / 10,
    steps: new Set(starts.map((start) => start.range.start)).size,
    stepStarts: starts.length,
    maxAttempt: Math.max(...starts.map((start) => start.attempt)),
    files,
    objectsWithoutRow,
    rowsWithoutObject: rowsWithoutObject.length,
    blocks: end + 1,
  });
}

describe("a crash at every phase", () => {
  it("covers every crash point the code names", () => {
    expect(new Set(CASES.map((c) => c.point))).toEqual(new Set([...STEP_CRASH_POINTS, ...RUNNER_CRASH_POINTS]));
  });

  it.concurrent.each(CASES.map((c) => ({ ...c, at: c.table ?? c.status ?? "" })))("dies at $point $at, recovers: COMPLETED, every block once, no orphan", async (crashCase) => {
    // Deploys spread over a second, so the cases' steps share queue batches in varied ways.
    await sleep(CASES.findIndex((c) => c.point === crashCase.point && (c.table ?? c.status ?? "") === crashCase.at) * 100);
    await runCase(crashCase);
  });

  afterAll(() => {
    if (outcomes.length === 0) return;
    reportFigures(
      "a crash at every phase (§3)",
      outcomes
        .sort((a, b) => CASES.findIndex((c) => c.point === a.point) - CASES.findIndex((c) => c.point === b.point))
        .map((o) => ({
          part: "crash",
          point: o.point,
          at: o.at,
          outcome: o.status,
          "crash to COMPLETED s": o.recoveredS,
          steps: o.steps,
          "step starts": o.stepStarts,
          "max attempt": o.maxAttempt,
          files: o.files,
          "objects without row (GC removable)": o.objectsWithoutRow,
          "rows without object": o.rowsWithoutObject,
          "blocks, each once": o.blocks,
        })),
    );
  });
});
