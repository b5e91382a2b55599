/**
 * CPU time of local processes from /proc (Linux): what anvil, workerd and
 * wrangler spent, so a benchmark can say which of them a figure was limited
 * by on a machine whose cores they share. Node only.
 */
import { readFileSync } from "node:fs";
import { liveGroupMembers } from "../test/support/dev-server";

const TICKS_PER_SECOND = 100;

/** User + system CPU seconds of process `pid` (all its threads), 0 when it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    // Fields after the command's closing parenthesis: state is field 3, utime 14 and stime 15 of stat.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU seconds of the live members of process group `pgid` (wrangler dev: node, wrangler, both workerd). */
export function groupCpuSeconds(pgid: number): number {
  return liveGroupMembers(pgid).reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
}

/** This machine's load averages over 1, 5 and 15 minutes, as `uptime` prints them. */
export function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

/** Starts metering: the returned function answers the CPU seconds each source spent since. */
export function cpuMeter(sources: Record<string, () => number>): () => Record<string, number> {
  const before = Object.fromEntries(Object.entries(sources).map(([name, read]) => [name, read()]));
  return () => Object.fromEntries(Object.entries(sources).map(([name, read]) => [name, read() - before[name]!]));
}
