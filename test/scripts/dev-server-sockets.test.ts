/**
 * Jobs under `wrangler dev` (scripts/dev.mjs, as a user starts it) keep the
 * dev server's resources bounded. Two things once multiplied into an
 * exhausted file-descriptor table ("Too many open files" in workerd, then no
 * answer even on /healthz): a provider registered with name, kind, network
 * and url only got one JSON-RPC call per HTTP request (defaults filled into
 * its config took the batch size from the client), and wrangler's inspector
 * proxy turned each subrequest into four loopback HTTP requests into
 * wrangler's Node process, faster than it answered them.
 */
import { readdirSync, readlinkSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evmRpcManifest } from "../../src/domain/manifest/evm-rpc";
import { type AnvilNode, seedBulkChain, startAnvil } from "../support/anvil";
import { type DevServer, liveGroupMembers, startDevServer } from "../support/dev-server";

/** Blocks the node holds past genesis; 1,000-block steps (the default step size). */
const BLOCKS = 2_000;
/** Sockets of the whole dev server (npm, wrangler, esbuild, both workerd) at most: about 60 idle, thousands in the flood. */
const MAX_SOCKETS = 300;

interface StepEvent {
  kind: string;
  detail: { range?: { start: number; end: number }; requests?: number };
}

/** Open sockets of the processes of the dev server's process group. */
function groupSockets(pgid: number): number {
  let sockets = 0;
  for (const pid of liveGroupMembers(pgid)) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // exited between the listing and now
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) sockets++;
      } catch {
        // closed between readdir and readlink
      }
    }
  }
  return sockets;
}

describe("jobs under wrangler dev", () => {
  let node: AnvilNode;
  let server: DevServer;
  let head: number;

  beforeAll(async () => {
    node = await startAnvil();
    ({ head } = await seedBulkChain(node.url, { blocks: BLOCKS, transactions: 800 }));
    // Generous: on a loaded machine bundling and starting workerd took over a minute.
    server = await startDevServer({ startTimeoutMs: 170_000 });
  }, 240_000);

  afterAll(async () => {
    await server?.stop();
    await node?.stop();
  }, 20_000);

  /** Deploys `_/<network>` over blocks 1..=head with `provider` fields, samples the sockets until COMPLETED. */
  async function runJob(network: string, providerFields: Record<string, unknown>): Promise<{ steps: StepEvent[]; peakSockets: number }> {
    const created = await server.request("POST", "/providers", { name: network, kind: "evm-rpc", network, url: node.url, ...providerFields });
    expect(created.status).toBe(201);
    const manifest = evmRpcManifest(network, { startBlock: 1 });
    expect((await server.request("POST", "/datasets", { namespace: "_", name: network, version: "1.0.0", manifest })).status).toBe(201);
    let peakSockets = groupSockets(server.pid);
    const sampler = setInterval(() => {
      peakSockets = Math.max(peakSockets, groupSockets(server.pid));
    }, 100);
    try {
      const deploy = await server.request("POST", `/datasets/_/${network}/versions/1.0.0/deploy`, { end_block: "latest" });
      expect(deploy.status).toBe(202);
      const jobId = (deploy.body as { job_id: number }).job_id;
      let status = "";
      for (const deadline = Date.now() + 150_000; status !== "COMPLETED" && Date.now() < deadline; ) {
        const job = await server.request("GET", `/jobs/${jobId}`);
        status = (job.body as { status: string }).status;
        expect(["SCHEDULED", "RUNNING", "COMPLETED"]).toContain(status);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(status).toBe("COMPLETED");
      const { events } = (await server.request("GET", `/jobs/${jobId}/events?limit=1000`)).body as { events: StepEvent[] };
      return { steps: events.filter((event) => event.kind === "step_completed"), peakSockets };
    } finally {
      clearInterval(sampler);
    }
  }

  it("batches the calls of a provider registered with name, kind, network and url only", { timeout: 180_000 }, async () => {
    const { steps } = await runJob("dev_sockets_default", {});
    expect(steps.map((step) => step.detail.range!.end).at(-1)).toBe(head);
    for (const { detail } of steps) {
      const blocks = detail.range!.end - detail.range!.start + 1;
      // A call per block and one per busy block: unbatched that is more than one request a block.
      if (blocks >= 100) expect(detail.requests!).toBeLessThan(blocks / 5);
    }
  });

  // A node that takes no batches gets a request per call: the dev server must stand that rate too.
  it("keeps its sockets bounded while a job sends a request per call", { timeout: 180_000 }, async () => {
    const { steps, peakSockets } = await runJob("dev_sockets_single", { rpc_batch_size: 1 });
    expect(steps.reduce((sum, step) => sum + step.detail.requests!, 0)).toBeGreaterThan(BLOCKS);
    expect(peakSockets).toBeLessThan(MAX_SOCKETS);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
