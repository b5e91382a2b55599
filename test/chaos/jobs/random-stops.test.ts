/**
 * Fifty stops at seeded random moments (issue 9 §4). Five datasets on one
 * node run side by side, each a series of jobs with parallelism 4: deploy,
 * wait a random while (sometimes not at all), stop, wait a random while
 * again, deploy the next. Every stopped job must end STOPPED (never stay in
 * STOPPING), start no step after its stop, and have no file registered after
 * its `stopped` event; at the end a redeploy of each dataset completes and
 * every table holds every block once, exactly the node's.
 *
 * The seed is printed; AMP_CHAOS_STOPS_SEED=<seed> replays its choices
 * (their timing still depends on the machine).
 */
import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportFigures } from "../../support/chaos-figures";
import { startFreshNode } from "../../support/fault-control";
import { type Prng, prng } from "../../support/prng";
import { harness } from "../../support/provided-context";
import { rawRpc } from "../../extract/evm-rpc/helpers";
import {
  type Dataset,
  deploy,
  expectTiled,
  type JobEvent,
  jobEvents,
  locationsOf,
  progressOf,
  setupDataset,
  sleep,
  stop,
  verifyLocationFiles,
  waitForJob,
} from "../../e2e/e2e-support";
import { expectChainIsNodes, nodeChain, tableChain } from "./node-chain";

const DEFAULT_SEED = 20261204;
const SEED = env.CHAOS_STOPS_SEED ? Number(env.CHAOS_STOPS_SEED) : DEFAULT_SEED;
const STOPS = 50;
const DATASETS = 3;
const PARALLELISM = 4;
/** Each job asks for this many blocks past what its dataset holds: ten steps, more than a random stop lets it do. */
const BLOCKS_PER_JOB = 100;
/** The longest random wait before a stop, and before the next deploy. */
const MAX_STOP_DELAY_MS = 4_000;
const MAX_QUIET_MS = 1_500;
/** A stop "during a step" comes this long at most after the step's start. */
const MAX_IN_STEP_MS = 800;
/** Generous: a stopped job waits at most for its claimed steps, whose consumers are alive here. */
const STOPPED_WITHIN_MS = 120_000;

const { harnessUrl } = harness();
let node: Awaited<ReturnType<typeof startFreshNode>>;
let head: number;

beforeAll(async () => {
  node = await startFreshNode(harnessUrl, { seed: true });
  // The seeded blocks (transactions, logs, reverts), then empty blocks for the jobs to work through.
  await rawRpc(node.url, "anvil_mine", [`0x${(1200).toString(16)}`]);
  head = Number(await rawRpc(node.url, "eth_blockNumber", []));
});

afterAll(async () => {
  await node?.stop();
});

/** What one stop met and left. */
interface StopRecord {
  /** The job's status when the stop arrived: SCHEDULED or RUNNING. */
  at: "SCHEDULED" | "RUNNING";
  /** Steps claimed by a consumer and not reported when the stop arrived. */
  inFlight: number;
  /** Steps that reported after the stop, before `stopped`. */
  drained: number;
  /** From the stop request to `stopped`, by the events' clocks. */
  stoppingMs: number;
}

interface FileRow {
  id: number;
  created_at: string;
}

async function fileRows(dataset: Dataset): Promise<FileRow[]> {
  const ids = (await locationsOf(dataset)).map((location) => location.id);
  const { results } = await env.DB.prepare(`SELECT id, created_at FROM files WHERE location_id IN (${ids.map(() => "?").join(",")}) ORDER BY id`)
    .bind(...ids)
    .all<FileRow>();
  return results;
}

/** The lowest block every table of the dataset holds up to (-1: none yet). */
async function covered(dataset: Dataset): Promise<number> {
  const tables = await progressOf(dataset);
  return Math.min(...tables.map((table) => table.current_block ?? -1));
}

/** Checks a stopped job's timeline and returns what the stop met. */
function checkStopEvents(jobId: number, events: readonly JobEvent[]): StopRecord {
  const kinds = events.map((event) => event.kind);
  const what = `job ${jobId}: ${kinds.join(" ")}`;
  const requested = kinds.indexOf("stop_requested");
  expect(requested, what).toBeGreaterThan(0);
  expect(kinds.at(-1), what).toBe("stopped");
  const after = kinds.slice(requested);
  // After the stop, no step starts and nothing is retried; steps already running may still report.
  expect(after.filter((kind) => kind !== "step_completed" && kind !== "step_failed"), what).toEqual(["stop_requested", "stopping", "stopped"]);
  const before = kinds.slice(0, requested);
  const reported = before.filter((kind) => kind === "step_completed" || kind === "step_failed").length;
  const started = before.filter((kind) => kind === "step_started").length;
  const stoppedAt = Date.parse(events.at(-1)!.created_at);
  return {
    at: before.includes("running") ? "RUNNING" : "SCHEDULED",
    inFlight: started - reported,
    drained: after.length - 3,
    stoppingMs: stoppedAt - Date.parse(events[requested]!.created_at),
  };
}

/**
 * Waits for a random moment of the job: at once (the job has not started), a
 * random time after the deploy, or a random time after its n-th step started
 * (so more stops meet a step at work than the time alone would give).
 */
async function randomMoment(random: Prng, jobId: number): Promise<void> {
  const kind = random.next();
  if (kind < 0.15) return;
  if (kind < 0.6) {
    await sleep(random.int(0, MAX_STOP_DELAY_MS));
    return;
  }
  const n = random.int(1, 8);
  const inStep = random.int(0, MAX_IN_STEP_MS);
  const deadline = Date.now() + STOPPED_WITHIN_MS;
  for (;;) {
    const events = await jobEvents(jobId);
    if (events.filter((event) => event.kind === "step_started").length >= n) break;
    // Fewer steps than n: the job is done, the stop comes late.
    if (events.some((event) => event.kind === "completed") || Date.now() > deadline) return;
    await sleep(50);
  }
  await sleep(inStep);
}

/** One dataset's series of stopped jobs; returns what each stop met, and how many jobs completed before their stop came. */
async function stopSeries(random: Prng, stops: number, ends: number[]): Promise<{ dataset: Dataset; records: StopRecord[]; completedFirst: number }> {
  const dataset = await setupDataset({ providerUrl: node.url });
  const records: StopRecord[] = [];
  let completedFirst = 0;
  while (records.length < stops) {
    const end = Math.min(head, (await covered(dataset)) + BLOCKS_PER_JOB);
    ends.push(end);
    const jobId = await deploy(dataset, { end_block: end, parallelism: PARALLELISM });
    await randomMoment(random, jobId);
    await stop(jobId);
    const job = await waitForJob(jobId, { timeoutMs: STOPPED_WITHIN_MS });
    const events = await jobEvents(jobId);
    if (!events.some((event) => event.kind === "stop_requested")) {
      // The job was done before the stop came: not a stop.
      expect(job.status).toBe("COMPLETED");
      completedFirst++;
      continue;
    }
    expect(job.status, `job ${jobId}`).toBe("STOPPED");
    const record = checkStopEvents(jobId, events);
    const stoppedAt = events.at(-1)!.created_at;
    const seenAtStopped = (await fileRows(dataset)).at(-1)?.id ?? 0;
    // Leave time for a consumer still at work to try to register a file.
    await sleep(random.int(0, MAX_QUIET_MS));
    const late = (await fileRows(dataset)).filter((row) => row.created_at > stoppedAt || row.id > seenAtStopped);
    expect(late, `files registered after job ${jobId} stopped at ${stoppedAt}`).toEqual([]);
    records.push(record);
  }
  return { dataset, records, completedFirst };
}

describe("random stops", () => {
  it(`${STOPS} stops at seeded random moments: each job STOPPED, nothing written after, a redeploy completes with every block once`, async () => {
    console.log(`random stops: seed ${SEED} (AMP_CHAOS_STOPS_SEED=${SEED} npm run chaos -- --project chaos-jobs replays it)`);
    const ends: number[] = [];
    const series = await Promise.all(
      Array.from({ length: DATASETS }, (_, i) => stopSeries(prng(SEED + i), Math.floor(STOPS / DATASETS) + (i < STOPS % DATASETS ? 1 : 0), ends)),
    );

    const end = Math.max(...ends);
    const chain = await nodeChain(node.url, 0, end);
    for (const { dataset } of series) {
      const jobId = await deploy(dataset, { end_block: end, parallelism: PARALLELISM });
      expect((await waitForJob(jobId, { timeoutMs: 180_000 })).status).toBe("COMPLETED");
      for (const location of await locationsOf(dataset)) {
        // One row per object and one object per row; files tile the range with no overlap.
        const { files } = await verifyLocationFiles(location);
        expectTiled(files, 0, end, location.table);
        await expectChainIsNodes(location, await tableChain(location, 0), chain, 0, end);
      }
    }

    const records = series.flatMap((s) => s.records);
    expect(records).toHaveLength(STOPS);
    const count = (p: (r: StopRecord) => boolean) => records.filter(p).length;
    reportFigures("random stops (§4)", [
      {
        part: "stops",
        seed: SEED,
        stops: records.length,
        "at SCHEDULED": count((r) => r.at === "SCHEDULED"),
        "at RUNNING, idle": count((r) => r.at === "RUNNING" && r.inFlight === 0),
        "with steps running": count((r) => r.inFlight > 0),
        "steps reported while STOPPING": records.reduce((sum, r) => sum + r.drained, 0),
        "max ms to STOPPED": Math.max(...records.map((r) => r.stoppingMs)),
        "stayed STOPPING": 0,
        "files after STOPPED": 0,
        "done before the stop": series.reduce((sum, s) => sum + s.completedFirst, 0),
        "blocks per dataset": end + 1,
      },
    ]);
  });
});
