/**
 * One extraction job through the admin API of a Worker under `wrangler dev`,
 * as a user runs it: the provider registered with `name`, `kind`, `network`
 * and `url` only, a fresh dataset (manifest `start_block` 1), deploy, then
 * `GET /jobs/{id}` until COMPLETED. Shared by bench:jobs and bench:cpu.
 *
 * A job's time runs from the deploy request to the created_at of its
 * `completed` event, not to the poll that saw COMPLETED, so the polls can be
 * sparse: under wrangler dev each one costs workerd about 10 ms of CPU and
 * wrangler's Node about 2.5 ms (load 11-16; /healthz alone 5 ms and 2 ms),
 * and polling every 100 ms took some 12 % of a core from anvil and the job
 * being timed on this 2-core machine.
 */
import { evmRpcManifest } from "../src/domain/manifest/evm-rpc";
import { type DevServer, startDevServer } from "../test/support/dev-server";
import { freePort } from "../test/support/local-process";
import { cpuMeter } from "./process-cpu";
import { connectWorkerdInspector, type WorkerdInspector } from "./workerd-inspector";

const POLL_MS = 1_000;
const JOB_TIMEOUT_MS = 15 * 60_000;
const MB = 1024 * 1024;
export const TABLES = ["blocks", "transactions", "logs"] as const;

export interface JobRun {
  seconds: number;
  steps: number;
  rows: number;
  /** Rows of each table's files. */
  tableRows: Record<(typeof TABLES)[number], number>;
  /** Largest `held_mb` of its steps' step_completed events. */
  heldMb: number;
  /** Heap high-water mark above the idle baseline, when sampled. */
  heapPeakMb: number | null;
  /** The steps' own durations added up: over `seconds`, how many steps ran at once on average. */
  stepSeconds: number;
  /** Most HTTP requests to the provider of one step (the batching the client found). */
  maxStepRequests: number;
  /** CPU seconds of each metered process from the deploy request to COMPLETED (options.cpu). */
  cpuSeconds: Record<string, number>;
}

export interface JobRunOptions {
  /** Samples workerd's heap during the job (bench/workerd-inspector.ts). */
  heap?: WorkerdInspector | null;
  /** `end_block` of the deploy; default "latest". */
  endBlock?: string;
  /** Deploy's `verify`; default false. */
  verify?: boolean;
  /** Interval of the `GET /jobs/{id}` polls; default 1 s (the time comes from the job's completed event). */
  pollMs?: number;
  /** Started right before the deploy request, stopped once the job reads COMPLETED (a CPU profile). */
  during?: { start(): Promise<void>; stop(): Promise<void> };
  /** Processes whose CPU seconds to meter over the job (bench/process-cpu.ts readers). */
  cpu?: Record<string, () => number>;
}

interface JobEvent {
  kind: string;
  detail: { rows?: number; held_mb?: number; duration_ms?: number; requests?: number };
  created_at: string;
}

export async function expectStatus(server: DevServer, method: string, path: string, body: unknown, status: number): Promise<unknown> {
  const answer = await server.request(method, path, body);
  if (answer.status !== status) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/**
 * Registers dataset `_/<network>` and times deploy -> COMPLETED. Tables are
 * stored per manifest, so each run needs a manifest of its own to start from
 * nothing: each names its own network, served by its own provider entry.
 */
export async function jobRun(server: DevServer, url: string, network: string, parallelism: number, options: JobRunOptions = {}): Promise<JobRun> {
  await expectStatus(server, "POST", "/providers", { name: network, kind: "evm-rpc", network, url }, 201);
  const manifest = evmRpcManifest(network, { startBlock: 1 });
  await expectStatus(server, "POST", "/datasets", { namespace: "_", name: network, version: "1.0.0", manifest }, 201);
  const version = `/datasets/_/${network}/versions/1.0.0`;
  const sampling = options.heap ? await options.heap.startSampling() : null;
  let peakBytes: number | null = null;
  await options.during?.start();
  const metered = cpuMeter(options.cpu ?? {});
  const began = performance.now();
  const beganAt = Date.now();
  let stopped = false;
  const stopDuring = async () => {
    if (stopped) return;
    stopped = true;
    await options.during?.stop();
  };
  const body = { end_block: options.endBlock ?? "latest", parallelism, verify: options.verify ?? false };
  const { job_id: jobId } = (await expectStatus(server, "POST", `${version}/deploy`, body, 202)) as { job_id: number };
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
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? POLL_MS));
    }
  } finally {
    await stopDuring();
    peakBytes = sampling ? await sampling.stop() : null;
  }
  const polledSeconds = (performance.now() - began) / 1000;
  const cpuSeconds = metered();
  const { events } = (await expectStatus(server, "GET", `/jobs/${jobId}/events?limit=1000`, undefined, 200)) as { events: JobEvent[] };
  const completedAt = Date.parse(events.find((event) => event.kind === "completed")?.created_at ?? "");
  // The dev server's clock is this machine's; the poll's time only if the event is missing.
  const seconds = Number.isFinite(completedAt) ? (completedAt - beganAt) / 1000 : polledSeconds;
  const completed = events.filter((event) => event.kind === "step_completed");
  const tableRows = { blocks: 0, transactions: 0, logs: 0 };
  for (const table of TABLES) {
    const listing = (await expectStatus(server, "GET", `${version}/tables/${table}/files`, undefined, 200)) as { files: { row_count: number }[] };
    tableRows[table] = listing.files.reduce((sum, file) => sum + file.row_count, 0);
  }
  return {
    seconds,
    steps: completed.length,
    rows: completed.reduce((sum, event) => sum + (event.detail.rows ?? 0), 0),
    tableRows,
    heldMb: Math.max(0, ...completed.map((event) => event.detail.held_mb ?? 0)),
    heapPeakMb: peakBytes === null ? null : peakBytes / MB,
    stepSeconds: completed.reduce((sum, event) => sum + (event.detail.duration_ms ?? 0), 0) / 1000,
    maxStepRequests: Math.max(0, ...completed.map((event) => event.detail.requests ?? 0)),
    cpuSeconds,
  };
}

/** Network names are identifiers: no dashes. */
export const networkTag = (name: string) => name.replace(/-/g, "_");

/**
 * Runs `bench` against one Worker under `wrangler dev` (scripts/dev.mjs,
 * temporary --persist-to) with its inspector connected, and prints the lines
 * it returns at the end; stops both on the way out, on failure with
 * wrangler's output, and on SIGINT and SIGTERM.
 */
export async function withDevServer(bench: (server: DevServer, inspector: WorkerdInspector) => Promise<string[]>): Promise<void> {
  let server: DevServer | null = null;
  let inspector: WorkerdInspector | null = null;
  const stopAll = async () => {
    inspector?.close();
    await server?.stop();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void stopAll().finally(() => process.exit(signal === "SIGINT" ? 130 : 143)));
  }
  try {
    const inspectorPort = await freePort();
    server = await startDevServer({ inspectorPort });
    inspector = await connectWorkerdInspector(inspectorPort);
    const lines = await bench(server, inspector);
    for (const line of lines) console.log(line);
  } catch (error) {
    if (server) console.error(`wrangler dev output:\n${server.output()}`);
    throw error;
  } finally {
    await stopAll();
  }
}
