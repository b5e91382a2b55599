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
