import path from "node:path";
import { defineWorkersProject, readD1Migrations } from "@cloudflare/vitest-pool-workers/config";

/**
 * The end-to-end job tests (test/worker/jobs/e2e-*.test.ts): the real Worker
 * (src/index.ts, as wrangler.toml says) with its real queue consumer, the
 * JobRunner's real alarms, local D1 and R2, against the shared anvil of the
 * global setup. Storage is not isolated per test: alarms and queue deliveries
 * run in the background and may outlive a test's last await, which isolated
 * storage cannot pop. Each test works on a network, dataset and manifest of
 * its own instead. Steps are 10 blocks so the seeded chain makes several, and
 * a failing step or head read is tried 4 times, so a provider that never works
 * fails its job in seconds rather than minutes.
 */
export default defineWorkersProject(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    test: {
      name: "worker-e2e",
      include: ["test/worker/jobs/e2e-*.test.ts"],
      setupFiles: ["./test/worker/apply-migrations.ts"],
      globalSetup: ["./test/support/global-setup.ts"],
      // Real waits for real alarms and queue deliveries, on a loaded machine.
      testTimeout: 180_000,
      hookTimeout: 60_000,
      poolOptions: {
        workers: {
          singleWorker: true,
          isolatedStorage: false,
          wrangler: { configPath: "./wrangler.toml" },
          miniflare: {
            bindings: {
              TEST_MIGRATIONS: migrations,
              TEST_SHARED: null,
              AMP_ADMIN_TOKEN: "test-admin-token",
              AMP_READ_TOKEN: "test-read-token",
              AMP_STEP_SIZE: "10",
              AMP_STEP_MAX_ATTEMPTS: "4",
            },
          },
        },
      },
    },
  };
});
