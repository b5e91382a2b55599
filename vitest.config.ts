import { defineConfig } from "vitest/config";

/**
 * Two projects: `worker` runs inside workerd with local D1, R2, Durable
 * Objects and Queues; `node` runs pure logic and the checks that need Node
 * (DuckDB). Both share one anvil node started by the global setup.
 */
export default defineConfig({
  test: {
    // `worker-jobs`: the JobRunner driven by hand, without the real queue consumer (see vitest.jobs.config.ts).
    // `worker-e2e`: whole jobs through the HTTP API with the real consumer, alarms and anvil (vitest.e2e.config.ts).
    projects: ["./vitest.worker.config.ts", "./vitest.node.config.ts", "./vitest.jobs.config.ts", "./vitest.e2e.config.ts"],
  },
});
