/**
 * Steering the fault proxy and the node launcher from a test, with `fetch`
 * only, so it works inside workerd as well as in Node.
 */
import type { Fault, FreshNode, ScenarioLog } from "./harness-types";

/** One test's private route through the fault proxy to the shared node. */
export class FaultScenario {
  readonly rpcUrl: string;
  private readonly controlUrl: string;

  constructor(harnessUrl: string, name: string = crypto.randomUUID()) {
    this.rpcUrl = `${harnessUrl}/rpc/${name}`;
    this.controlUrl = `${harnessUrl}/control/${name}`;
  }

  async inject(...faults: Fault[]): Promise<void> {
    const response = await fetch(`${this.controlUrl}/faults`, { method: "POST", body: JSON.stringify(faults) });
    if (!response.ok) throw new Error(`fault proxy refused the faults: ${response.status} ${await response.text()}`);
    await response.body?.cancel();
  }

  async log(): Promise<ScenarioLog> {
    const response = await fetch(`${this.controlUrl}/log`);
    if (!response.ok) throw new Error(`fault proxy log: ${response.status}`);
    return (await response.json()) as ScenarioLog;
  }
}

/** Starts an anvil of its own for a test that changes the chain; stop it when done. */
export async function startFreshNode(harnessUrl: string, options: { seed: boolean }): Promise<FreshNode & { stop(): Promise<void> }> {
  const response = await fetch(`${harnessUrl}/nodes`, { method: "POST", body: JSON.stringify(options) });
  if (!response.ok) throw new Error(`could not start a node: ${response.status} ${await response.text()}`);
  const node = (await response.json()) as FreshNode;
  return {
    ...node,
    async stop() {
      const stopped = await fetch(`${harnessUrl}/nodes/${node.id}`, { method: "DELETE" });
      await stopped.body?.cancel();
    },
  };
}

/**
 * One test's private route through the fault proxy to the shared Lodestar
 * beacon node (started on first use; see lodestar.ts). `url` is a provider url.
 */
export class BeaconScenario extends FaultScenario {
  readonly url: string;

  constructor(harnessUrl: string, name: string = crypto.randomUUID()) {
    super(harnessUrl, name);
    this.url = `${harnessUrl}/beacon/${name}`;
  }
}

/** The shared Lodestar beacon node's own url (no faults), starting it if no test did yet. */
export async function beaconNodeUrl(harnessUrl: string): Promise<string> {
  const response = await fetch(`${harnessUrl}/beacon-node`, { method: "POST" });
  if (!response.ok) throw new Error(`could not start the beacon node: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { url: string }).url;
}

/** DuckDB (on the Node side) over one Parquet file: `{file}` in `sql` stands for it. */
export async function duckDbQuery(harnessUrl: string, file: ArrayBuffer, sql: string): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${harnessUrl}/duckdb?sql=${encodeURIComponent(sql)}`, { method: "POST", body: file });
  if (!response.ok) throw new Error(`duckdb: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>[];
}
