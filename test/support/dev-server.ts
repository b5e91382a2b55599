/**
 * The Worker under `wrangler dev`, started the way a user starts it
 * (`node scripts/dev.mjs`: D1 migrations, then `wrangler dev` with auth off),
 * on free loopback ports with its own persist directory. For the demo, the
 * jobs benchmark and the dev-server smoke test. Node only.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./local-process";

export const PROJECT_DIR = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Keeps wrangler and miniflare off the network: no telemetry, no request.cf
 * download (a built-in default is used). Its update check fails quietly offline.
 */
export const OFFLINE_WRANGLER_ENV: Readonly<Record<string, string>> = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};

export interface DevServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /** Where local D1, R2, Durable Objects and Queues live (`--persist-to`). */
  persistDir: string;
  /** The id of the process group of scripts/dev.mjs, wrangler and workerd. */
  pid: number;
  /** One admin API request with an optional JSON body; the answer's JSON (null when empty, the text when not JSON). */
  request(method: string, path: string, body?: unknown): Promise<ApiAnswer>;
  /** The last lines wrangler printed (without successful GETs), for failure messages. */
  output(): string;
  /** Stops wrangler and workerd (the whole process group) and removes the persist directory. */
  stop(): Promise<void>;
  /** Kills the whole process group at once (SIGKILL, as a crash or a power cut), keeping the persist directory. */
  kill(): Promise<void>;
}

export interface ApiAnswer {
  status: number;
  body: unknown;
}

export interface DevServerOptions {
  /** Extra `wrangler dev` arguments. */
  args?: readonly string[];
  /**
   * The port of workerd's inspector (DevTools protocol, through wrangler's inspector proxy); default none:
   * the proxy costs four loopback requests into wrangler per subrequest of the Worker (scripts/dev.mjs).
   */
  inspectorPort?: number;
  /** Default 180 s: the first start bundles the Worker and starts workerd, which takes minutes on a loaded machine. */
  startTimeoutMs?: number;
  /** Start on this persist directory (one a killed server left) instead of a new one. */
  persistDir?: string;
}

const groups = new Set<number>();
const persistDirs = new Set<string>();
// Whatever ends this process (process.exit included, as on Ctrl-C mid-start), no wrangler, workerd or state is left behind.
process.once("exit", () => {
  for (const pid of groups) killGroup(pid, "SIGKILL");
  for (const dir of persistDirs) rmSync(dir, { recursive: true, force: true });
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** The processes of a process group that have not exited (zombies left for their reaper do not count). */
export function liveGroupMembers(pgid: number): number[] {
  const listing = spawnSync("ps", ["-A", "-o", "pid=,pgid=,stat="], { encoding: "utf8" });
  if (listing.status !== 0) throw new Error(`ps failed: ${listing.stderr}`);
  return listing.stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([, group, stat]) => Number(group) === pgid && stat !== undefined && !stat.startsWith("Z"))
    .map(([member]) => Number(member));
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const persistDir = options.persistDir ?? (await mkdtemp(path.join(os.tmpdir(), "amp-edge-dev-")));
  persistDirs.add(persistDir);
  try {
    const port = await freePort();
    return await launch(persistDir, port, options);
  } catch (error) {
    await rm(persistDir, { recursive: true, force: true });
    persistDirs.delete(persistDir);
    throw error;
  }
}

async function launch(persistDir: string, port: number, options: DevServerOptions): Promise<DevServer> {
  const args = [
    "scripts/dev.mjs",
    "--ip", "127.0.0.1",
    "--port", String(port),
    ...(options.inspectorPort === undefined ? [] : ["--inspector-port", String(options.inspectorPort)]),
    "--persist-to", persistDir,
    ...(options.args ?? []),
  ];
  // Its own process group, so stop() reaches npx, wrangler and workerd alike.
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: PROJECT_DIR,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...OFFLINE_WRANGLER_ENV, FORCE_COLOR: "0", NO_COLOR: "1" },
  });
  const pid = child.pid!;
  groups.add(pid);
  let output = "";
  const keep = (chunk: Buffer) => {
    // Request log lines of successful GETs (pollers make many) would push the interesting lines out.
    const text = chunk
      .toString()
      .replace(/\x1b\[[0-9;]*m/g, "")
      .replace(/^\[wrangler:info\] GET \S+ 200 OK.*\n/gm, "");
    output = (output + text).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stopped = false;

  const url = `http://127.0.0.1:${port}`;
  const end = async (signal: NodeJS.Signals) => {
    if (stopped) return;
    stopped = true;
    killGroup(pid, signal);
    const timer = setTimeout(() => killGroup(pid, "SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
    // workerd may outlive wrangler by a moment: make sure nothing of the group stays.
    killGroup(pid, "SIGKILL");
    for (const deadline = Date.now() + 5000; liveGroupMembers(pid).length > 0 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    groups.delete(pid);
  };
  const stop = async () => {
    await end("SIGTERM");
    await rm(persistDir, { recursive: true, force: true });
    persistDirs.delete(persistDir);
  };
  const kill = () => end("SIGKILL");

  const deadline = Date.now() + (options.startTimeoutMs ?? 180_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`wrangler dev exited (${child.exitCode ?? child.signalCode}) before answering:\n${output}`);
    }
    if (await healthy(url)) return { url, persistDir, pid, request: (...call) => request(url, ...call), output: () => output, stop, kill };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not answer ${url}/healthz in time:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function request(url: string, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? null : parseJsonOrText(text) };
}

function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

