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
 *   memory (used heap plus ArrayBuffer backing stores) every 10 ms during one
 *   more parallelism-1 job after the timed ones, untimed (sampling during the
 *   timed runs cost the dev server 7.4 to 9.6 CPU s per bench-chain job
 *   against 3.4 to 4.5 without, and slowed the parallelism-1 figure); the peak is the highest sample minus
 *   the sample right before the job (steps run one at a time then, so the
 *   samples belong to one step at a time).
 *   The step's own account (`held_mb` in its step_completed event: the bytes
 *   of answers, rows and encoded Parquet it held at most) is printed beside it.
 * - what limited them: the CPU seconds anvil and the dev server's processes
 *   (wrangler's node, both workerd) spent per job, and anvil's and this
 *   process's for the raw sweep's best cell, from /proc; the requests of a
 *   step (the batching the client found); for parallelism 4 the steps'
 *   overlap (their durations added up over the job's time); the load average.
 *   On a machine whose cores anvil shares with the client, CPU per block says
 *   how close a job can come to the raw fetch.
 * One line per chain in the issue's format closes the output.
 */
import { DEFAULT_STEP_SIZE } from "../src/domain/job-settings";
import type { DevServer } from "../test/support/dev-server";
import { type BenchChain, CHAIN_NAMES, type ChainName, startBenchChain } from "./chain";
import { type JobRun, jobRun, networkTag as tag, withDevServer } from "./job-run";
import { cpuMeter, groupCpuSeconds, loadAverage, processCpuSeconds } from "./process-cpu";
import { rawPoolFetch } from "./raw-fetch";
import type { WorkerdInspector } from "./workerd-inspector";

const runs = Number(option("runs") ?? 3);
const chains = (option("chains")?.split(",") ?? CHAIN_NAMES) as ChainName[];
const BATCHES = [1, 10, 50, 100];
const CONCURRENCIES = [1, 2, 4, 8];

function option(name: string): string | undefined {
  return process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
}

interface Sweep {
  best: number;
  bestLabel: string;
  /** CPU seconds per 1,000 blocks of the best cell: anvil's, and this process's (requests and JSON parsing). */
  bestCpu: { anvil: number; client: number };
  /** Best blocks/s at concurrency 1 and at 4, over the batch sizes: the node's headroom for parallel steps. */
  atConcurrency: Map<number, number>;
}

async function rawSweep(chain: BenchChain): Promise<Sweep> {
  const sweep: Sweep = { best: 0, bestLabel: "", bestCpu: { anvil: 0, client: 0 }, atConcurrency: new Map() };
  const cells: string[] = [];
  const clientCpu = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  };
  for (const batchSize of BATCHES) {
    for (const concurrency of CONCURRENCIES) {
      const metered = cpuMeter({ anvil: () => processCpuSeconds(chain.pid), client: clientCpu });
      const result = await rawPoolFetch({ url: chain.url, batchSize, concurrency }, 1, chain.head);
      const cpu = metered();
      const rate = result.blocks / result.seconds;
      cells.push(`b${batchSize}xc${concurrency} ${fixed(rate)}`);
      if (rate > sweep.best) {
        const perThousand = (seconds: number) => (seconds / result.blocks) * 1000;
        Object.assign(sweep, {
          best: rate,
          bestLabel: `batch ${batchSize}, concurrency ${concurrency}`,
          bestCpu: { anvil: perThousand(cpu.anvil!), client: perThousand(cpu.client!) },
        });
      }
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
    await jobRun(server, chain.url, `${tag(name)}_warm_up`, 1, { endBlock: String(Math.min(chain.head, 100)) });
    const sweep = await rawSweep(chain);
    const p1: JobRun[] = [];
    const p4: JobRun[] = [];
    const cpu = { anvil: () => processCpuSeconds(chain.pid), dev: () => groupCpuSeconds(server.pid) };
    const cpuOf = (job: JobRun) => `CPU s anvil ${fixed(job.cpuSeconds.anvil!, 1)}, wrangler dev ${fixed(job.cpuSeconds.dev!, 1)}`;
    for (let run = 1; run <= runs; run++) {
      p1.push(await jobRun(server, chain.url, `${tag(name)}_p1_${run}`, 1, { cpu }));
      p4.push(await jobRun(server, chain.url, `${tag(name)}_p4_${run}`, 4, { cpu }));
      const [one, four] = [p1.at(-1)!, p4.at(-1)!];
      console.log(
        `  run ${run}: p1 ${fixed(chain.head / one.seconds)} blocks/s (${fixed(one.seconds, 2)} s, ${one.steps} steps, ${one.rows} rows, ` +
          `at most ${one.maxStepRequests} requests a step, held ${fixed(one.heldMb, 1)} MB, ${cpuOf(one)}); ` +
          `p4 ${fixed(chain.head / four.seconds)} blocks/s (${fixed(four.seconds, 2)} s, steps overlapping ${fixed(four.stepSeconds / four.seconds, 1)}x, ` +
          `${cpuOf(four)}); load ${loadAverage()}`,
      );
    }
    // Untimed: the heap sampled every 10 ms through the inspector.
    const sampled = await jobRun(server, chain.url, `${tag(name)}_p1_heap`, 1, { heap, cpu });
    console.log(
      `  heap run (untimed, sampled): ${fixed(chain.head / sampled.seconds)} blocks/s, heap peak ` +
        `${sampled.heapPeakMb === null ? "-" : fixed(sampled.heapPeakMb, 1)} MB, held ${fixed(sampled.heldMb, 1)} MB, ${cpuOf(sampled)}`,
    );
    const blocksP1 = median(p1.map((job) => chain.head / job.seconds));
    const blocksP4 = median(p4.map((job) => chain.head / job.seconds));
    const peakMb = sampled.heapPeakMb ?? Math.max(sampled.heldMb, ...p1.map((job) => job.heldMb));
    const headroom = (sweep.atConcurrency.get(4) ?? 0) / (sweep.atConcurrency.get(1) ?? 1);
    console.log(`  raw best ${fixed(sweep.best)} blocks/s (${sweep.bestLabel}); node headroom concurrency 4 vs 1: ${fixed(headroom, 2)}x`);
    const perThousand = (jobs: readonly JobRun[], key: string) => median(jobs.map((job) => (job.cpuSeconds[key]! / chain.head) * 1000));
    console.log(
      `  CPU ms per 1,000 blocks: raw best anvil ${fixed(sweep.bestCpu.anvil * 1000)} + client ${fixed(sweep.bestCpu.client * 1000)}; ` +
        `p1 jobs anvil ${fixed(perThousand(p1, "anvil") * 1000)} + wrangler dev ${fixed(perThousand(p1, "dev") * 1000)}; load ${loadAverage()}`,
    );
    return (
      `bench:jobs chain=${name} blocks_per_s=${fixed(blocksP1)} p4_blocks_per_s=${fixed(blocksP4)} raw_blocks_per_s=${fixed(sweep.best)} ` +
      `ratio=${fixed(blocksP1 / sweep.best, 2)} p4_speedup=${fixed(blocksP4 / blocksP1, 2)} peak_mb=${fixed(peakMb, 1)}`
    );
  } finally {
    await chain.stop();
  }
}

await withDevServer(async (server, heap) => {
  console.log(
    `bench:jobs anvil 1.4.4, wrangler dev on ${server.url}; providers registered without tuning fields; ` +
      `deploy {"end_block": "latest"} at parallelism 1 and 4, step size ${DEFAULT_STEP_SIZE}; ${runs} runs (medians)`,
  );
  const lines: string[] = [];
  for (const name of chains) lines.push(await benchChain(server, heap, name));
  return lines;
});
