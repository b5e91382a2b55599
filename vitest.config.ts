import { defineConfig } from "vitest/config";

/**
 * Two projects: `worker` runs inside workerd with local D1, R2, Durable
 * Objects and Queues; `node` runs pure logic and the checks that need Node
 * (DuckDB). Both share one anvil node started by the global setup.
 */
export default defineConfig({
  test: {
    projects: ["./vitest.worker.config.ts", "./vitest.node.config.ts"],
  },
});
