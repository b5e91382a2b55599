/**
 * Jobs end to end: `npm run bench:jobs` (or `npx tsx bench/jobs.ts [--runs=3]`).
 *
 * Seeds anvil with the benchmark chain of bench:extract (bench/chain.ts),
 * starts the Worker under `wrangler dev` (scripts/dev.mjs, local D1, R2,
 * Durable Objects and Queues), registers one evm-rpc provider with the
 * settings bench:extract uses, warms both up untimed (one raw step, a
 * 100-block job), then alternates `runs` times:
 * (a) raw: the client's JSON-RPC requests for blocks 1..=head with the JSON
 *     parsed and nothing else (bench/raw-fetch.ts), one step's range after
 *     the other as the job cuts them, as bench:extract measures it;
 * (e) end to end: a fresh dataset whose manifest starts at block 1 is
 *     registered and deployed with `{"end_block": "latest"}` and the default
 *     settings (parallelism 1, default step size), and the time from the
 *     deploy request to the job reading COMPLETED is taken: the head probe,
 *     every step through the queue, Parquet to R2, D1 file rows, the runner's
 *     bookkeeping, all of it.
 * and prints the median of each figure and their ratio (the quotient of the
 * two medians, so the last line is consistent in itself).
 */
import type { BlockRange } from "../src/domain/block-range";
import { DEFAULT_STEP_SIZE } from "../src/domain/job-settings";
import { evmRpcManifest } from "../src/domain/manifest/evm-rpc";
import { type DevServer, startDevServer } from "../test/support/dev-server";
import { startBenchChain } from "./chain";
import { rawFetch } from "./raw-fetch";

const runs = Number(process.argv.find((arg) => arg.startsWith("--runs="))?.slice("--runs=".length) ?? 3);
/** The provider settings of bench:extract (bench/extract.ts). */
const RPC_BATCH_SIZE = 50;
/** The client's default concurrent_request_limit. */
const CONCURRENCY = 1024;
/** The client's default chunk for batched providers: rpc_batch_size * 10. */
const CHUNK_BLOCKS = RPC_BATCH_SIZE * 10;
const POLL_MS = 50;
const JOB_TIMEOUT_MS = 10 * 60_000;

interface JobRun {
  seconds: number;
  steps: number;
  rows: number;
  /** From the deploy request to the first step's claim: the runner's start and the head probe through the queue. */
  startSeconds: number;
  /** Claim to report of every step, as the job's events time them: fetch, Parquet, R2, D1 file rows. */
  stepSeconds: number;
  /** From one step's report to the next one's claim: the runner handing out the step and the queue delivering it. */
  handoffSeconds: number;
}

interface JobEvent {
  kind: string;
  detail: { rows?: number };
  created_at: string;
}

async function expectStatus(server: DevServer, method: string, path: string, body: unknown, status: number): Promise<unknown> {
  const answer = await server.request(method, path, body);
  if (answer.status !== status) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** The ranges a job's steps cover: aligned to multiples of the step size, as the runner cuts them. */
function stepRanges(range: BlockRange, size: number): BlockRange[] {
  const out: BlockRange[] = [];
  for (let start = range.start; start <= range.end; start = (Math.floor(start / size) + 1) * size) {
    out.push({ start, end: Math.min(range.end, (Math.floor(start / size) + 1) * size - 1) });
  }
  return out;
}

/** Seconds the raw fetch takes for the steps' ranges, one after the other. */
async function rawSeconds(url: string, steps: readonly BlockRange[]): Promise<number> {
  let seconds = 0;
  for (const step of steps) {
    seconds += (await rawFetch({ url, batchSize: RPC_BATCH_SIZE, chunkBlocks: CHUNK_BLOCKS, concurrency: CONCURRENCY }, step.start, step.end)).seconds;
  }
  return seconds;
}

/**
 * Registers dataset `_/<network>` and times deploy -> COMPLETED. Tables are
 * stored per manifest, so each run needs a manifest of its own to start from
 * nothing: each names its own network, served by its own provider entry.
 */
async function jobRun(server: DevServer, url: string, network: string, endBlock: string = "latest"): Promise<JobRun> {
  const provider = { name: network, kind: "evm-rpc", network, url, rpc_batch_size: RPC_BATCH_SIZE, concurrent_request_limit: CONCURRENCY };
  await expectStatus(server, "POST", "/providers", provider, 201);
  const manifest = evmRpcManifest(network, { startBlock: 1 });
  await expectStatus(server, "POST", "/datasets", { namespace: "_", name: network, version: "1.0.0", manifest }, 201);
  const version = `/datasets/_/${network}/versions/1.0.0`;
  const began = performance.now();
  const { job_id: jobId } = (await expectStatus(server, "POST", `${version}/deploy`, { end_block: endBlock }, 202)) as { job_id: number };
  for (;;) {
    const job = (await expectStatus(server, "GET", `/jobs/${jobId}`, undefined, 200)) as { status: string; failure_reason?: string };
    if (job.status === "COMPLETED") break;
    const failure =
      job.status === "FAILED" || job.status === "STOPPED"
        ? `job ${jobId} ${job.status}: ${job.failure_reason ?? ""}`
        : performance.now() - began > JOB_TIMEOUT_MS
          ? `job ${jobId} still ${job.status} after ${JOB_TIMEOUT_MS / 1000} s`
          : null;
    if (failure !== null) {
      const { events } = (await expectStatus(server, "GET", `/jobs/${jobId}/events?limit=1000`, undefined, 200)) as { events: JobEvent[] };
      throw new Error(`${failure}; its last events:\n${events.slice(-8).map((event) => JSON.stringify(event)).join("\n")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const seconds = (performance.now() - began) / 1000;
  const { events } = (await expectStatus(server, "GET", `/jobs/${jobId}/events?limit=1000`, undefined, 200)) as { events: JobEvent[] };
  return { seconds, ...timeline(events) };
}

/** Where a job's time went, from its events (steps run one after the other at parallelism 1). */
function timeline(events: readonly JobEvent[]): Omit<JobRun, "seconds"> {
  const at = (event: JobEvent) => Date.parse(event.created_at) / 1000;
  const scheduled = events.find((event) => event.kind === "scheduled");
  let startSeconds = 0;
  let stepSeconds = 0;
  let handoffSeconds = 0;
  let steps = 0;
  let rows = 0;
  let previous: JobEvent | undefined = scheduled;
  for (const event of events) {
    if (event.kind === "step_started" && previous) {
      if (previous.kind === "scheduled") startSeconds = at(event) - at(previous);
      else handoffSeconds += at(event) - at(previous);
    } else if (event.kind === "step_completed" && previous) {
      stepSeconds += at(event) - at(previous);
      steps++;
      rows += event.detail.rows ?? 0;
    } else continue;
    previous = event;
  }
  return { steps, rows, startSeconds, stepSeconds, handoffSeconds };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const fixed = (value: number, digits = 0) => value.toFixed(digits);

async function main(): Promise<void> {
  const chain = await startBenchChain();
  let server: DevServer | null = null;
  const stopAll = async () => {
    await server?.stop();
    await chain.stop();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void stopAll().finally(() => process.exit(signal === "SIGINT" ? 130 : 143)));
  }
  try {
    server = await startDevServer();
    const blocks = chain.head;
    console.log(
      `bench:jobs anvil 1.4.4, blocks 1..=${chain.head} (${blocks} blocks, ${chain.transactions} transactions, ${chain.logs} logs; ` +
        `seeded in ${fixed(chain.seedSeconds, 1)} s), wrangler dev on ${server.url}`,
    );
    console.log(
      `settings: provider rpc_batch_size ${RPC_BATCH_SIZE}, concurrent_request_limit ${CONCURRENCY} (as bench:extract); ` +
        `deploy {"end_block": "latest"}: parallelism 1, step size ${DEFAULT_STEP_SIZE}; ${runs} runs (medians below)`,
    );
    const steps = stepRanges({ start: 1, end: chain.head }, DEFAULT_STEP_SIZE);
    // Untimed: the first calls compile the code paths, open connections and start the Worker's isolates.
    await rawSeconds(chain.url, steps.slice(0, 1));
    await jobRun(server, chain.url, "anvil_warm_up", "100");
    const raw: number[] = [];
    const jobs: JobRun[] = [];
    for (let run = 0; run < runs; run++) {
      const rawRun = await rawSeconds(chain.url, steps);
      raw.push(blocks / rawRun);
      const job = await jobRun(server, chain.url, `anvil_${run + 1}`);
      jobs.push(job);
      console.log(
        `run ${run + 1}: raw ${fixed(blocks / rawRun)} blocks/s; job ${fixed(blocks / job.seconds)} blocks/s ` +
          `(deploy -> COMPLETED ${fixed(job.seconds, 2)} s: start and head probe ${fixed(job.startSeconds, 2)} s, ` +
          `${job.steps} steps ${fixed(job.stepSeconds, 2)} s, hand-offs between them ${fixed(job.handoffSeconds, 2)} s; ${job.rows} rows)`,
      );
    }
    const rawBlocks = median(raw);
    const jobBlocks = median(jobs.map((job) => blocks / job.seconds));
    console.log(`(a) raw JSON-RPC fetch:               ${fixed(rawBlocks)} blocks/s`);
    console.log(`(e) deploy -> COMPLETED (wrangler dev): ${fixed(jobBlocks)} blocks/s`);
    console.log(`ratio e/a:                            ${fixed(jobBlocks / rawBlocks, 2)}`);
    console.log(`bench:jobs blocks_per_s=${fixed(jobBlocks)} raw_blocks_per_s=${fixed(rawBlocks)} ratio=${fixed(jobBlocks / rawBlocks, 2)}`);
  } catch (error) {
    if (server) console.error(`wrangler dev output:\n${server.output()}`);
    throw error;
  } finally {
    await stopAll();
  }
}

await main();
