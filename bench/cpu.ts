/**
 * CPU time inside workerd: `npm run bench:cpu` (or `npx tsx bench/cpu.ts
 * [--chains=busy,mainnet-density] [--interval-us=500] [--verify=both|off|on]`).
 *
 * For each chain (bench/chain.ts), against one Worker under `wrangler dev`
 * (scripts/dev.mjs), after an untimed warm-up job: one job over the whole
 * chain at parallelism 1, provider registered without tuning fields, deployed
 * without and then with `verify: true` (default both; the two jobs read the
 * same chain, each into a dataset of its own) (bench/job-run.ts, polling
 * GET /jobs/{id} once a second as a user watching it), from the deploy
 * request to COMPLETED.
 *
 * Two measures, both of workerd, not of anvil or wrangler's Node process:
 * - workerd's CPU from /proc (user + system, every thread: the Worker, the
 *   local D1, R2 and Queues simulators that share its process, V8's
 *   background GC and compiler threads): the total a user pays for locally;
 * - the Worker isolate's CPU profile (its inspector,
 *   bench/workerd-inspector.ts), each sample weighted by the CPU time
 *   workerd's main thread spent until the next sample (/proc schedstat,
 *   bench/workerd-cpu.ts). Unweighted, the samples are wall time: workerd
 *   does not mark its isolate idle while it waits on I/O, so a wait for
 *   anvil lands on fetch or on the body read that awaits it (a 38 s job's
 *   profile showed 37.5 s "not idle" for 6.6 s of CPU). Weighted, the work
 *   of the local D1 and R2 simulators (other isolates on the same thread)
 *   lands on the Worker's call that waits for it, under "storage" or "step".
 *   Split by category (bench/cpu-profile.ts, through the bundle's source map).
 *
 * Prints per job the CPU ms per 1,000 blocks (and a default step's CPU beside
 * Workers' 30 s default CPU limit), the profile's split by category, the
 * functions with the most self time, and per table the CPU ms per 10,000 rows
 * (the whole job's workerd CPU over that table's rows, and the row building
 * of that table alone). The last lines:
 *   bench:cpu chain=<name> verify=<bool> workerd_cpu_ms_per_1000_blocks=<ms> profile_ms_per_1000_blocks=<ms> <category>=<ms>...
 *   bench:cpu chain=<name> verify=<bool> table=<table> rows=<n> workerd_cpu_ms_per_10000_rows=<ms> rows_ms_per_10000_rows=<ms>
 *   bench:cpu chain=<name> verify_cost_workerd_cpu_ms_per_1000_blocks=<ms> ratio=<with / without> ...
 *   bench:cpu load_average=<1,5,15 minutes>
 */
import os from "node:os";
import { DEFAULT_STEP_SIZE } from "../src/domain/job-settings";
import { type DevServer, PROJECT_DIR } from "../test/support/dev-server";
import { startBenchChain, type ChainName } from "./chain";
import { CATEGORIES, locateBundles, summarizeProfile } from "./cpu-profile";
import { jobRun, networkTag, TABLES, withDevServer } from "./job-run";
import type { CpuProfile, WorkerdInspector } from "./workerd-inspector";
import { cpuBetween, sampleWorkerdThreadCpu, type ThreadCpuSeries, workerdCpuSeconds } from "./workerd-cpu";

function option(name: string): string | undefined {
  return process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
}

const chains = (option("chains")?.split(",") ?? ["busy", "mainnet-density"]) as ChainName[];
const intervalUs = Number(option("interval-us") ?? 500);
const verifyModes = { both: [false, true], off: [false], on: [true] }[option("verify") ?? "both"];
if (!verifyModes) throw new Error("--verify must be both, off or on");

const fixed = (value: number, digits = 0) => value.toFixed(digits);

/** Workers' default CPU limit of an invocation (a queue consumer's step); configurable up to 5 minutes. */
const CPU_LIMIT_MS = 30_000;
/** How often the bench reads GET /jobs/{id}, as a user watching the job would; 100 ms polls cost the API's CPU 10 times a second. */
const POLL_MS = 1_000;

async function profileChain(server: DevServer, inspector: WorkerdInspector, name: ChainName): Promise<string[]> {
  const chain = await startBenchChain(name);
  try {
    console.log(`chain ${name}: blocks 1..=${chain.head}, ${chain.transactions} transactions, ${chain.logs} logs`);
    await jobRun(server, chain.url, `${networkTag(name)}_cpu_warm_up`, 1, { endBlock: String(Math.min(chain.head, 50)), verify: true });
    const lines: string[] = [];
    const totals = new Map<boolean, { process: number; isolate: number }>();
    for (const verify of verifyModes!) {
      let profile: CpuProfile | null = null;
      let cpuBefore = 0;
      let processMs = 0;
      let threadCpu: ReturnType<typeof sampleWorkerdThreadCpu> | null = null;
      let series: ThreadCpuSeries | null = null;
      const run = await jobRun(server, chain.url, `${networkTag(name)}_cpu${verify ? "_verify" : ""}`, 1, {
        verify,
        pollMs: POLL_MS,
        during: {
          start: async () => {
            threadCpu = sampleWorkerdThreadCpu();
            await inspector.startProfiling(intervalUs);
            cpuBefore = workerdCpuSeconds();
          },
          stop: async () => {
            processMs = (workerdCpuSeconds() - cpuBefore) * 1000;
            profile = await inspector.stopProfiling();
            series = threadCpu!.stop();
          },
        },
      });
      const bundles = await locateBundles(profile!, inspector, PROJECT_DIR);
      const summary = summarizeProfile(profile!, bundles, (from, to) => cpuBetween(series!, from, to));
      const wall = summarizeProfile(profile!, bundles);
      const perBlocks = (ms: number) => (ms / chain.head) * 1000;
      totals.set(verify, { process: perBlocks(processMs), isolate: perBlocks(summary.totalMs) });
      const share = (ms: number) => (summary.totalMs === 0 ? 0 : (100 * ms) / summary.totalMs);
      const stepMs = perBlocks(processMs) * (DEFAULT_STEP_SIZE / 1000);
      const threadMs = cpuBetween(series!, profile!.startTime, profile!.endTime) / 1000;
      console.log(
        `  job (verify ${verify}): ${fixed(run.seconds, 1)} s wall, ${run.steps} steps; workerd's processes ${fixed(processMs)} ms CPU ` +
          `(${fixed(perBlocks(processMs))} per 1,000 blocks: a ${DEFAULT_STEP_SIZE}-block step's ${fixed(stepMs)} ms against the ${CPU_LIMIT_MS} ms default CPU limit, ` +
          `${fixed((100 * stepMs) / CPU_LIMIT_MS, 1)}%), its main thread ${fixed(threadMs)} ms, of which under the Worker's samples ${fixed(summary.totalMs)} ms ` +
          `(${fixed(perBlocks(summary.totalMs))} per 1,000 blocks); the profile's wall time not idle ${fixed(wall.totalMs)} ms`,
      );
      console.log(
        `  profile by category, ms per 1,000 blocks (share): ` +
          CATEGORIES.map((c) => `${c} ${fixed(perBlocks(summary.byCategory[c]), 1)} (${fixed(share(summary.byCategory[c]))}%)`).join(", "),
      );
      console.log(`  top self time: ${summary.top.map((entry) => `${entry.name} [${entry.category}] ${fixed(entry.ms)} ms`).join("; ")}`);
      lines.push(
        `bench:cpu chain=${name} verify=${verify} workerd_cpu_ms_per_1000_blocks=${fixed(perBlocks(processMs))} ` +
          `profile_ms_per_1000_blocks=${fixed(perBlocks(summary.totalMs))} ` +
          CATEGORIES.map((c) => `${c}=${fixed(perBlocks(summary.byCategory[c]), 1)}`).join(" "),
      );
      for (const table of TABLES) {
        const rows = run.tableRows[table];
        const per10k = (ms: number) => (rows === 0 ? 0 : (ms / rows) * 10_000);
        lines.push(
          `bench:cpu chain=${name} verify=${verify} table=${table} rows=${rows} workerd_cpu_ms_per_10000_rows=${fixed(per10k(processMs))} ` +
            `rows_ms_per_10000_rows=${fixed(per10k(summary.rowsByTable[table]), 1)}`,
        );
      }
    }
    const without = totals.get(false);
    const withVerify = totals.get(true);
    if (without !== undefined && withVerify !== undefined) {
      lines.push(
        `bench:cpu chain=${name} verify_cost_workerd_cpu_ms_per_1000_blocks=${fixed(withVerify.process - without.process)} ratio=${fixed(withVerify.process / without.process, 2)} ` +
          `verify_cost_profile_ms_per_1000_blocks=${fixed(withVerify.isolate - without.isolate)} profile_ratio=${fixed(withVerify.isolate / without.isolate, 2)}`,
      );
    }
    return lines;
  } finally {
    await chain.stop();
  }
}

await withDevServer(async (server, inspector) => {
  console.log(
    `bench:cpu wrangler dev on ${server.url}; CPU profile of workerd's isolate sampled every ${intervalUs} us; parallelism 1; ` +
      `load average ${os.loadavg().map((load) => load.toFixed(2)).join(" ")}`,
  );
  const lines: string[] = [];
  for (const name of chains) lines.push(...(await profileChain(server, inspector, name)));
  lines.push(`bench:cpu load_average=${os.loadavg().map((load) => load.toFixed(2)).join(",")}`);
  return lines;
});
