import path from "node:path";
import { defineWorkersProject, readD1Migrations } from "@cloudflare/vitest-pool-workers/config";

/**
 * The JobRunner tests: the same bindings as the Worker (wrangler.toml), but
 * with test/worker/jobs/runner-entry.ts as the main module, so the messages
 * the runner sends to STEPS reach a handler that only records them instead
 * of the real consumer, and the tests play the consumer's part.
 */
export default defineWorkersProject(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    test: {
      name: "worker-jobs",
      // CI machines have 2 cores; a generous bound keeps loaded runs from failing on time alone.
      testTimeout: 30_000,
      include: ["test/worker/jobs/**/*.test.ts"],
      // The end-to-end job tests need the real consumer: they run in vitest.e2e.config.ts.
      exclude: ["test/worker/jobs/e2e-*.test.ts"],
      setupFiles: ["./test/worker/apply-migrations.ts"],
      poolOptions: {
        workers: {
          main: "./test/worker/jobs/runner-entry.ts",
          singleWorker: true,
          isolatedStorage: true,
          wrangler: { configPath: "./wrangler.toml" },
          miniflare: { bindings: { TEST_MIGRATIONS: migrations, TEST_SHARED: null } },
        },
      },
    },
  };
});
