/**
 * What the global setup hands to tests, typed. Import `harness()` in a test
 * (worker or node project) to get the shared node, its seeded chain and the
 * fault proxy.
 */
import { inject } from "vitest";
import type { HarnessInfo } from "./harness-types";

export function harness(): HarnessInfo {
  const info = inject("evmRpcHarness");
  if (!info) throw new Error("no evm-rpc harness: is test/support/global-setup.ts in this project's globalSetup?");
  return info;
}
