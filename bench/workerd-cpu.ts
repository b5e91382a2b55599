/**
 * The CPU time of the workerd processes this bench started (through wrangler dev or Miniflare), from /proc: user
 * plus system time of all their threads. Shared by bench:query, bench:derived and bench:cpu. Linux only.
 */
import { readdirSync, readFileSync } from "node:fs";

/** The descendants of this process whose command is workerd. */
export function workerdPids(): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const mine = (pid: number): boolean => pid === process.pid || (parents.has(pid) && pid !== 1 && mine(parents.get(pid)!));
  return [...parents.keys()].filter((pid) => pid !== process.pid && mine(pid) && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("workerd"));
}

/** CPU seconds (user + system) the workerd processes have used so far. */
export function workerdCpuSeconds(): number {
  let ticks = 0;
  for (const pid of workerdPids()) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / 100;
}

/** Cumulative on-CPU time of workerd's main threads, sampled: `atUs[i]` (CLOCK_MONOTONIC, µs) -> `cpuUs[i]`. */
export interface ThreadCpuSeries {
  atUs: number[];
  cpuUs: number[];
}

/** The on-CPU time (ns, from /proc/<pid>/task/<pid>/schedstat: its first field) of each pid's main thread, summed. */
function mainThreadsCpuUs(pids: readonly number[]): number {
  let ns = 0;
  for (const pid of pids) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // exited meanwhile
    }
  }
  return ns / 1000;
}

/**
 * Samples the on-CPU time of workerd's main threads every `everyMs` until stopped. workerd runs every isolate of
 * `wrangler dev` (the Worker, and the local D1, R2 and Queues simulators) on its main thread; its CPU profiler's
 * samples carry wall time (a thread waiting on I/O is not marked idle: the wait lands on the last JavaScript frame,
 * fetch or a body read), and this series is what turns them into CPU time (see cpuBetween).
 */
export function sampleWorkerdThreadCpu(everyMs = 2): { stop(): ThreadCpuSeries } {
  const pids = workerdPids();
  const series: ThreadCpuSeries = { atUs: [], cpuUs: [] };
  const take = () => {
    series.atUs.push(Number(process.hrtime.bigint() / 1000n));
    series.cpuUs.push(mainThreadsCpuUs(pids));
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return series;
    },
  };
}

/** The cumulative CPU at `atUs`, interpolated linearly between samples (clamped at the ends). */
function cpuAt(series: ThreadCpuSeries, atUs: number): number {
  const { atUs: times, cpuUs } = series;
  if (atUs <= times[0]!) return cpuUs[0]!;
  if (atUs >= times[times.length - 1]!) return cpuUs[cpuUs.length - 1]!;
  let low = 0;
  let high = times.length - 1;
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if (times[middle]! <= atUs) low = middle;
    else high = middle;
  }
  const span = times[high]! - times[low]!;
  return cpuUs[low]! + (span === 0 ? 0 : ((cpuUs[high]! - cpuUs[low]!) * (atUs - times[low]!)) / span);
}

/** CPU µs of the main threads between two instants (µs, CLOCK_MONOTONIC as V8's profile timestamps). */
export function cpuBetween(series: ThreadCpuSeries, fromUs: number, toUs: number): number {
  return Math.max(0, cpuAt(series, toUs) - cpuAt(series, fromUs));
}
