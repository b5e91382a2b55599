/**
 * CPU time inside workerd: `npm run bench:cpu` (or `npx tsx bench/cpu.ts
 * [--chains=busy,mainnet-density] [--interval-us=500] [--verify=both|off|on]`).
 *
 * For each chain (bench/chain.ts), against one Worker under `wrangler dev`
 * (scripts/dev.mjs), after an untimed warm-up job: one job over the whole
 * chain at parallelism 1, provider registered without tuning fields, deployed
 * without and then with `verify: true` (default both; the two jobs read the
 * same chain, each into a dataset of its own)
 * (bench/job-run.ts), with workerd's CPU profiler running from the deploy
 * request to COMPLETED (its inspector, bench/workerd-inspector.ts). The
 * profile covers the Worker's isolate: the queue consumer's steps, the
 * JobRunner, the API requests of the job. Wall-clock time on a shared machine
 * says little; the profile's samples are CPU time of the isolate only (anvil
 * and wrangler are other processes).
 *
 * Prints per chain the CPU ms per 1,000 blocks with its split by category
 * (bench/cpu-profile.ts), the CPU ms per 10,000 rows of each table (the
 * whole job's CPU over that table's rows, and the row building of that table
 * alone), and the functions with the most self time. The last lines:
 *   bench:cpu chain=<name> cpu_ms_per_1000_blocks=<ms> <category>=<ms per 1,000 blocks>...
 *   bench:cpu chain=<name> table=<table> rows=<n> cpu_ms_per_10000_rows=<ms> rows_ms_per_10000_rows=<ms>
 */
import type { DevServer } from "../test/support/dev-server";
import { startBenchChain, type ChainName } from "./chain";
import { CATEGORIES, summarizeProfile } from "./cpu-profile";
import { jobRun, networkTag, TABLES, withDevServer } from "./job-run";
import type { CpuProfile, WorkerdInspector } from "./workerd-inspector";

function option(name: string): string | undefined {
  return process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
}

const chains = (option("chains")?.split(",") ?? ["busy", "mainnet-density"]) as ChainName[];
const intervalUs = Number(option("interval-us") ?? 500);
const verifyModes = { both: [false, true], off: [false], on: [true] }[option("verify") ?? "both"];
if (!verifyModes) throw new Error("--verify must be both, off or on");

const fixed = (value: number, digits = 0) => value.toFixed(digits);

async function profileChain(server: DevServer, inspector: WorkerdInspector, name: ChainName): Promise<string[]> {
  const chain = await startBenchChain(name);
  try {
    console.log(`chain ${name}: blocks 1..=${chain.head}, ${chain.transactions} transactions, ${chain.logs} logs`);
    await jobRun(server, chain.url, `${networkTag(name)}_cpu_warm_up`, 1, { endBlock: String(Math.min(chain.head, 50)), verify: true });
    const lines: string[] = [];
    const totals = new Map<boolean, number>();
    for (const verify of verifyModes!) {
      let profile: CpuProfile | null = null;
      const run = await jobRun(server, chain.url, `${networkTag(name)}_cpu${verify ? "_verify" : ""}`, 1, {
        verify,
        during: {
          start: () => inspector.startProfiling(intervalUs),
          stop: async () => {
            profile = await inspector.stopProfiling();
          },
        },
      });
      const summary = summarizeProfile(profile!);
      const perBlocks = (ms: number) => (ms / chain.head) * 1000;
      totals.set(verify, perBlocks(summary.totalMs));
      console.log(
        `  job (verify ${verify}): ${fixed(run.seconds, 1)} s wall, ${run.steps} steps, ${fixed(summary.totalMs)} ms CPU in workerd's isolate ` +
          `(${fixed(perBlocks(summary.totalMs))} ms per 1,000 blocks)`,
      );
      console.log(`  by category, ms per 1,000 blocks: ${CATEGORIES.map((c) => `${c} ${fixed(perBlocks(summary.byCategory[c]), 1)}`).join(", ")}`);
      console.log(`  top self time: ${summary.top.map((entry) => `${entry.name} ${fixed(entry.ms)} ms`).join("; ")}`);
      lines.push(
        `bench:cpu chain=${name} verify=${verify} cpu_ms_per_1000_blocks=${fixed(perBlocks(summary.totalMs))} ` +
          CATEGORIES.map((c) => `${c}=${fixed(perBlocks(summary.byCategory[c]), 1)}`).join(" "),
      );
      for (const table of TABLES) {
        const rows = run.tableRows[table];
        const per10k = (ms: number) => (rows === 0 ? 0 : (ms / rows) * 10_000);
        lines.push(
          `bench:cpu chain=${name} verify=${verify} table=${table} rows=${rows} cpu_ms_per_10000_rows=${fixed(per10k(summary.totalMs))} ` +
            `rows_ms_per_10000_rows=${fixed(per10k(summary.rowsByTable[table]), 1)}`,
        );
      }
    }
    const without = totals.get(false);
    const withVerify = totals.get(true);
    if (without !== undefined && withVerify !== undefined) {
      lines.push(`bench:cpu chain=${name} verify_cost_ms_per_1000_blocks=${fixed(withVerify - without)} ratio=${fixed(withVerify / without, 2)}`);
    }
    return lines;
  } finally {
    await chain.stop();
  }
}

await withDevServer(async (server, inspector) => {
  console.log(`bench:cpu wrangler dev on ${server.url}; CPU profile of workerd's isolate sampled every ${intervalUs} us; parallelism 1`);
  const lines: string[] = [];
  for (const name of chains) lines.push(...(await profileChain(server, inspector, name)));
  return lines;
});
