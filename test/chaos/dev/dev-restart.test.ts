/**
 * `npm run dev` killed (SIGKILL: a crash, a closed laptop) in the middle of
 * a job with parallel steps, then started again on the same `--persist-to`
 * directory. The local queue does not survive the restart, so the steps in
 * flight are lost twice over: their consumers died and their messages are
 * gone. The job must still complete with every block exactly once, within
 * two minutes beyond its own work: the claimed steps go out again when their
 * renewals stop (RUN_LEASE_MS), the queued ones after QUEUE_LEASE_MS.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evmRpcManifest } from "../../../src/domain/manifest/evm-rpc";
import { reportFigures } from "../../support/chaos-figures";
import { type DevServer, startDevServer } from "../../support/dev-server";
import { type AnvilNode, seedBulkChain, startAnvil } from "../../support/anvil";

const STEP_SIZE = 10;
const PARALLELISM = 4;
const BEYOND_WORK_MS = 120_000;

interface JobEvent {
  kind: string;
  detail?: { range?: { start: number; end: number }; duration_ms?: number } | null;
  created_at: string;
}

const servers: DevServer[] = [];
let node: AnvilNode;
let end: number;
beforeAll(async () => {
  node = await startAnvil();
  end = (await seedBulkChain(node.url, { blocks: 400, transactions: 1200 })).head;
}, 120_000);
afterAll(async () => {
  for (const server of servers) await server.stop();
  await node?.stop();
}, 30_000);

async function start(persistDir?: string): Promise<DevServer> {
  const server = await startDevServer({ args: ["--var", `AMP_STEP_SIZE:${STEP_SIZE}`], startTimeoutMs: 120_000, ...(persistDir ? { persistDir } : {}) });
  servers.push(server);
  return server;
}

async function json<T>(server: DevServer, method: string, path: string, body?: unknown): Promise<T> {
  const answer = await server.request(method, path, body);
  if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}\n${server.output()}`);
  return answer.body as T;
}

async function events(server: DevServer, jobId: number): Promise<JobEvent[]> {
  return (await json<{ events: JobEvent[] }>(server, "GET", `/jobs/${jobId}/events?limit=1000`)).events;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("npm run dev killed in the middle of a job and started again", () => {
  it("completes the job with every block once, within two minutes beyond its work", async () => {
    const first = await start();
    await json(first, "POST", "/providers", { name: "rpc_restart", kind: "evm-rpc", network: "restartnet", url: node.url });
    await json(first, "POST", "/datasets", { namespace: "_", name: "restart", version: "1.0.0", manifest: evmRpcManifest("restartnet", { startBlock: 0 }) });
    const { job_id: jobId } = await json<{ job_id: number }>(first, "POST", "/datasets/_/restart/versions/1.0.0/deploy", { end_block: end, parallelism: PARALLELISM });

    // Mid-job: some steps done, others claimed and running.
    await until("a completed step and others in flight", 120_000, async () => {
      const kinds = (await events(first, jobId)).map((event) => event.kind);
      const done = kinds.filter((kind) => kind === "step_completed").length;
      const started = kinds.filter((kind) => kind === "step_started").length;
      return done >= 1 && started > done ? true : undefined;
    });
    const before = await events(first, jobId);
    await first.kill();

    const second = await start(first.persistDir);
    // From when it answers again: its start-up (bundling, workerd) is not the job's waiting.
    const restartedAt = Date.now();
    const job = await until("the job to complete", BEYOND_WORK_MS + 120_000, async () => {
      const info = await json<{ status: string; failure_reason?: string }>(second, "GET", `/jobs/${jobId}`);
      if (info.status === "FAILED") throw new Error(`job failed: ${info.failure_reason}`);
      return info.status === "COMPLETED" ? info : undefined;
    });
    const recoveryMs = Date.now() - restartedAt;
    expect(job.status).toBe("COMPLETED");

    // Every block exactly once, in every table: the files tile 0..=end without overlap.
    const locations = (await json<{ locations: { id: number; dataset_name: string; table: string }[] }>(second, "GET", "/locations?limit=1000")).locations.filter(
      (location) => location.dataset_name === "restart",
    );
    expect(locations.map((location) => location.table).sort()).toEqual(["blocks", "logs", "transactions"]);
    for (const location of locations) {
      const listed = (await json<{ files: { id: number }[] }>(second, "GET", `/locations/${location.id}/files?limit=1000`)).files;
      const ranges: [number, number][] = [];
      for (const { id } of listed) {
        const file = await json<{ metadata: { ranges: { numbers: { start: number; end: number } }[] } }>(second, "GET", `/files/${id}`);
        const numbers = file.metadata.ranges[0]!.numbers;
        ranges.push([numbers.start, numbers.end]);
      }
      ranges.sort((a, b) => a[0] - b[0]);
      let next = 0;
      for (const [start, stop] of ranges) {
        expect(start, `${location.table}: a file starts at ${start}, expected ${next}`).toBe(next);
        next = stop + 1;
      }
      expect(next - 1, location.table).toBe(end);
    }

    // Its own work after the restart: the steps that completed then, run PARALLELISM at a time.
    const after = (await events(second, jobId)).slice(before.length);
    const workMs = after.filter((event) => event.kind === "step_completed").reduce((sum, event) => sum + (event.detail?.duration_ms ?? 0), 0) / PARALLELISM;
    reportFigures("dev-server restart", [
      {
        part: "§1 restart mid-job",
        blocks: end + 1,
        steps: Math.ceil((end + 1) / STEP_SIZE),
        completed_before_kill: before.filter((event) => event.kind === "step_completed").length,
        recovery_s: Math.round(recoveryMs / 100) / 10,
        work_after_restart_s: Math.round(workMs / 100) / 10,
        waited_beyond_work_s: Math.round((recoveryMs - workMs) / 100) / 10,
      },
    ]);
    expect(recoveryMs - workMs).toBeLessThanOrEqual(BEYOND_WORK_MS);
  });
});
