/**
 * Jobs end to end: `npm run bench:jobs` (or `npx tsx bench/jobs.ts
 * [--runs=3] [--chains=bench,busy,mainnet-density]`).
 *
 * For each benchmark chain (bench/chain.ts; seeded once, then loaded from its
 * dump), against one Worker under `wrangler dev` (scripts/dev.mjs: local D1,
 * R2, Durable Objects and Queues):
 * - raw: the node's limit, a sweep of plain JSON-RPC fetches of blocks
 *   1..=head (bench/raw-fetch.ts rawPoolFetch) at batch 1, 10, 50, 100 x
 *   concurrency 1, 2, 4, 8, taking the best;
 * - jobs: a fresh dataset whose manifest starts at block 1, its provider
 *   registered as a user does (`name`, `kind`, `network`, `url`, no tuning
 *   fields), deployed with `{"end_block": "latest"}` at parallelism 1 and at
 *   parallelism 4, timed from the deploy request to the job reading
 *   COMPLETED: the head probe, every step through the queue, Parquet to R2,
 *   D1 file rows, the runner's bookkeeping, all of it. `runs` rounds, p1 and
 *   p4 taking turns so both meet the same load; medians are printed.
 * - peak_mb: the largest heap high-water mark of a step, from workerd itself:
 *   its inspector (wrangler dev --inspector-port) is asked for the isolate's
 *   memory (used heap plus ArrayBuffer backing stores) every 10 ms during the
 *   parallelism-1 runs; the peak is the highest sample minus the sample right
 *   before the job (steps run one at a time then, so the samples belong to
 *   one step at a time).
 *   The step's own account (`held_mb` in its step_completed event: the bytes
 *   of answers, rows and encoded Parquet it held at most) is printed beside it.
 * One line per chain in the format closes the output.
 */
import { DEFAULT_STEP_SIZE } from "../src/domain/job-settings";
import { evmRpcManifest } from "../src/domain/manifest/evm-rpc";
import { type DevServer, startDevServer } from "../test/support/dev-server";
import { freePort } from "../test/support/local-process";
import { type BenchChain, CHAIN_NAMES, type ChainName, startBenchChain } from "./chain";
import { rawPoolFetch } from "./raw-fetch";
import { connectWorkerdInspector, type WorkerdInspector } from "./workerd-inspector";

const runs = Number(option("runs") ?? 3);
const chains = (option("chains")?.split(",") ?? CHAIN_NAMES) as ChainName[];
const BATCHES = [1, 10, 50, 100];
const CONCURRENCIES = [1, 2, 4, 8];
const POLL_MS = 100;
const JOB_TIMEOUT_MS = 15 * 60_000;
const MB = 1024 * 1024;

function option(name: string): string | undefined {
  return process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
}

interface JobRun {
  seconds: number;
  steps: number;
  rows: number;
  /** Largest `held_mb` of its steps' step_completed events. */
  heldMb: number;
  /** Heap high-water mark above the idle baseline, when sampled. */
  heapPeakMb: number | null;
}

interface JobEvent {
  kind: string;
  detail: { rows?: number; held_mb?: number };
  created_at: string;
}

async function expectStatus(server: DevServer, method: string, path: string, body: unknown, status: number): Promise<unknown> {
  const answer = await server.request(method, path, body);
  if (answer.status !== status) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/**
 * Registers dataset `_/<network>` and times deploy -> COMPLETED. Tables are
 * stored per manifest, so each run needs a manifest of its own to start from
 * nothing: each names its own network, served by its own provider entry.
 */
async function jobRun(server: DevServer, url: string, network: string, parallelism: number, heap: WorkerdInspector | null, endBlock = "latest"): Promise<JobRun> {
  await expectStatus(server, "POST", "/providers", { name: network, kind: "evm-rpc", network, url }, 201);
  const manifest = evmRpcManifest(network, { startBlock: 1 });
  await expectStatus(server, "POST", "/datasets", { namespace: "_", name: network, version: "1.0.0", manifest }, 201);
  const version = `/datasets/_/${network}/versions/1.0.0`;
  const sampling = heap ? await heap.startSampling() : null;
  let peakBytes: number | null = null;
  const began = performance.now();
  const { job_id: jobId } = (await expectStatus(server, "POST", `${version}/deploy`, { end_block: endBlock, parallelism }, 202)) as { job_id: number };
  try {
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
  } finally {
    peakBytes = sampling ? await sampling.stop() : null;
  }
  const seconds = (performance.now() - began) / 1000;
  const { events } = (await expectStatus(server, "GET", `/jobs/${jobId}/events?limit=1000`, undefined, 200)) as { events: JobEvent[] };
  const completed = events.filter((event) => event.kind === "step_completed");
  return {
    seconds,
    steps: completed.length,
    rows: completed.reduce((sum, event) => sum + (event.detail.rows ?? 0), 0),
    heldMb: Math.max(0, ...completed.map((event) => event.detail.held_mb ?? 0)),
    heapPeakMb: peakBytes === null ? null : peakBytes / MB,
  };
}

interface Sweep {
  best: number;
  bestLabel: string;
  /** Best blocks/s at concurrency 1 and at 4, over the batch sizes: the node's headroom for parallel steps. */
  atConcurrency: Map<number, number>;
}

async function rawSweep(chain: BenchChain): Promise<Sweep> {
  const sweep: Sweep = { best: 0, bestLabel: "", atConcurrency: new Map() };
  const cells: string[] = [];
  for (const batchSize of BATCHES) {
    for (const concurrency of CONCURRENCIES) {
      const result = await rawPoolFetch({ url: chain.url, batchSize, concurrency }, 1, chain.head);
      const rate = result.blocks / result.seconds;
      cells.push(`b${batchSize}xc${concurrency} ${fixed(rate)}`);
      if (rate > sweep.best) Object.assign(sweep, { best: rate, bestLabel: `batch ${batchSize}, concurrency ${concurrency}` });
      sweep.atConcurrency.set(concurrency, Math.max(sweep.atConcurrency.get(concurrency) ?? 0, rate));
    }
  }
  console.log(`  raw sweep blocks/s: ${cells.join(", ")}`);
  return sweep;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const fixed = (value: number, digits = 0) => value.toFixed(digits);

async function benchChain(server: DevServer, heap: WorkerdInspector | null, name: ChainName): Promise<string> {
  const chain = await startBenchChain(name);
  try {
    console.log(
      `chain ${name}: blocks 1..=${chain.head}, ${chain.transactions} transactions (${fixed(chain.transactions / chain.head, 1)}/block), ` +
        `${chain.logs} logs (${fixed(chain.logs / chain.head, 1)}/block); ${chain.loaded ? "loaded from its dump" : "seeded"} in ${fixed(chain.seedSeconds, 1)} s`,
    );
    // Untimed: compiles the code paths, opens connections, starts the isolates.
    await jobRun(server, chain.url, `${tag(name)}_warm_up`, 1, null, String(Math.min(chain.head, 100)));
    const sweep = await rawSweep(chain);
    const p1: JobRun[] = [];
    const p4: JobRun[] = [];
    for (let run = 1; run <= runs; run++) {
      p1.push(await jobRun(server, chain.url, `${tag(name)}_p1_${run}`, 1, heap));
      p4.push(await jobRun(server, chain.url, `${tag(name)}_p4_${run}`, 4, null));
      const [one, four] = [p1.at(-1)!, p4.at(-1)!];
      console.log(
        `  run ${run}: p1 ${fixed(chain.head / one.seconds)} blocks/s (${fixed(one.seconds, 2)} s, ${one.steps} steps, ${one.rows} rows, ` +
          `heap peak ${one.heapPeakMb === null ? "-" : fixed(one.heapPeakMb, 1)} MB, held ${fixed(one.heldMb, 1)} MB); ` +
          `p4 ${fixed(chain.head / four.seconds)} blocks/s (${fixed(four.seconds, 2)} s)`,
      );
    }
    const blocksP1 = median(p1.map((job) => chain.head / job.seconds));
    const blocksP4 = median(p4.map((job) => chain.head / job.seconds));
    const heapPeaks = p1.map((job) => job.heapPeakMb).filter((mb): mb is number => mb !== null);
    const peakMb = heapPeaks.length > 0 ? Math.max(...heapPeaks) : Math.max(...p1.map((job) => job.heldMb));
    const headroom = (sweep.atConcurrency.get(4) ?? 0) / (sweep.atConcurrency.get(1) ?? 1);
    console.log(`  raw best ${fixed(sweep.best)} blocks/s (${sweep.bestLabel}); node headroom concurrency 4 vs 1: ${fixed(headroom, 2)}x`);
    return (
      `bench:jobs chain=${name} blocks_per_s=${fixed(blocksP1)} p4_blocks_per_s=${fixed(blocksP4)} raw_blocks_per_s=${fixed(sweep.best)} ` +
      `ratio=${fixed(blocksP1 / sweep.best, 2)} p4_speedup=${fixed(blocksP4 / blocksP1, 2)} peak_mb=${fixed(peakMb, 1)}`
    );
  } finally {
    await chain.stop();
  }
}

/** Network names are identifiers: no dashes. */
const tag = (name: ChainName) => name.replace(/-/g, "_");

async function main(): Promise<void> {
  let server: DevServer | null = null;
  let heap: WorkerdInspector | null = null;
  const stopAll = async () => {
    heap?.close();
    await server?.stop();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void stopAll().finally(() => process.exit(signal === "SIGINT" ? 130 : 143)));
  }
  try {
    const inspectorPort = await freePort();
    server = await startDevServer({ inspectorPort });
    heap = await connectWorkerdInspector(inspectorPort);
    console.log(
      `bench:jobs anvil 1.4.4, wrangler dev on ${server.url}; providers registered without tuning fields; ` +
        `deploy {"end_block": "latest"} at parallelism 1 and 4, step size ${DEFAULT_STEP_SIZE}; ${runs} runs (medians)`,
    );
    const lines: string[] = [];
    for (const name of chains) lines.push(await benchChain(server, heap, name));
    for (const line of lines) console.log(line);
  } catch (error) {
    if (server) console.error(`wrangler dev output:\n${server.output()}`);
    throw error;
  } finally {
    await stopAll();
  }
}

await main();
