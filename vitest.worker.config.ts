import path from "node:path";
import { defineWorkersProject, readD1Migrations } from "@cloudflare/vitest-pool-workers/config";
import { loadSharedFixtures } from "./test/support/shared-fixtures";

export default defineWorkersProject(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    test: {
      name: "worker",
      // CI machines have 2 cores; a generous bound keeps loaded runs from failing on time alone.
      testTimeout: 30_000,
      include: ["test/worker/**/*.test.ts"],
      // The JobRunner tests run in their own project (vitest.jobs.config.ts), away from the real queue consumer.
      exclude: ["test/worker/jobs/**"],
      setupFiles: ["./test/worker/apply-migrations.ts"],
      // One anvil + fault proxy for the run; tests get their URLs with inject("evmRpcHarness").
      globalSetup: ["./test/support/global-setup.ts"],
      poolOptions: {
        workers: {
          singleWorker: true,
          isolatedStorage: true,
          wrangler: { configPath: "./wrangler.toml" },
          miniflare: {
            bindings: {
              TEST_MIGRATIONS: migrations,
              TEST_SHARED: loadSharedFixtures(),
              AMP_ADMIN_TOKEN: "test-admin-token",
              AMP_READ_TOKEN: "test-read-token",
            },
          },
        },
      },
    },
  };
});
