/**
 * vitest globalSetup (Node side), listed by both projects: one anvil for the
 * whole run, seeded with the test chain, and the fault proxy in front of it.
 * Both projects' setups run in the same process, so the first one starts the
 * harness and the last teardown stops it; each provides the same info.
 */
import type { TestProject } from "vitest/node";
import { startAnvil, seedTestChain } from "./anvil";
import { startFaultProxy } from "./fault-proxy";
import type { HarnessInfo } from "./harness-types";

interface Shared {
  info: Promise<HarnessInfo>;
  stop: () => Promise<void>;
  users: number;
}

const KEY = Symbol.for("amp-edge.evm-rpc-harness");
const registry = globalThis as { [KEY]?: Shared };

function acquire(): Shared {
  let shared = registry[KEY];
  if (!shared) {
    const stops: Array<() => Promise<void>> = [];
    const info = (async (): Promise<HarnessInfo> => {
      const node = await startAnvil();
      stops.push(node.stop);
      const chain = await seedTestChain(node.url);
      const proxy = await startFaultProxy(node.url);
      stops.unshift(proxy.close);
      return { anvilUrl: node.url, chain, harnessUrl: proxy.url };
    })();
    shared = {
      info,
      users: 0,
      stop: async () => {
        await info.catch(() => undefined);
        for (const stop of stops) await stop();
      },
    };
    registry[KEY] = shared;
  }
  shared.users++;
  return shared;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const shared = acquire();
  project.provide("evmRpcHarness", await shared.info);
  return async () => {
    if (--shared.users > 0) return;
    delete registry[KEY];
    await shared.stop();
  };
}
