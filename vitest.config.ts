import path from "node:path";
import { defineWorkersProject, readD1Migrations } from "@cloudflare/vitest-pool-workers/config";
import { configDefaults, defineConfig } from "vitest/config";
import { loadSharedFixtures } from "./test/support/shared-fixtures";

/**
 * One project per kind of test, chosen by the test's folder:
 * - `node`: pure logic and what needs Node (DuckDB, the dev server, Chromium): test/domain, test/parquet, test/scripts,
 *   test/cli (the CLI run as a user runs it, against the dev server), test/docs (the README's walkthroughs run as
 *   written) and test/assets (the dashboard in a headless Chromium against the dev server).
 * - `worker`: inside workerd with local D1, R2, Durable Objects and Queues: test/api, test/store, test/extract (but the
 *   consumer's test, below), test/sql.
 * - `jobs`: the JobRunner driven by hand (test/durable-objects), with test/durable-objects/runner-entry.ts as
 *   the main module, so the messages the runner sends to STEPS reach a handler that only records them and the
 *   tests play the consumer's part; and test/extract/consumer.test.ts, where the test plays the queue instead,
 *   handing those messages to the real consumer (in `worker`, the Worker's own consumer would take them first).
 * - `e2e-1`, `e2e-2`: whole jobs through the HTTP API with the real Worker (src/index.ts), its queue consumer, the
 *   JobRunner's alarms and anvil (test/e2e). Storage is not isolated per test: alarms and queue deliveries run
 *   in the background and may outlive a test's last await, which isolated storage cannot pop; each test works
 *   on a network, dataset and manifest of its own instead. Steps are 10 blocks so the seeded chain makes
 *   several, and a failing step or head read is tried 4 times, so a provider that never works fails its job
 *   in seconds rather than minutes.
 * All share one anvil and fault proxy, started by the global setup (tests get their URLs with inject("evmRpcHarness")).
 */
const GLOBAL_SETUP = ["./test/support/global-setup.ts"];
const MIGRATIONS_SETUP = ["./test/support/workerd/apply-migrations.ts"];
/** The queue consumer against a runner driven by hand: in `jobs`, not with the rest of test/extract in `worker`. */
const CONSUMER_TEST = "test/extract/consumer.test.ts";
// CI machines have 2 cores; a generous bound keeps loaded runs from failing on time alone.
const TEST_TIMEOUT_MS = 30_000;
/** test/e2e split by file name into halves of about equal time (e2e-1: a-l, e2e-2: m-z). */
const E2E_HALVES = [
  { name: "e2e-1", include: ["test/e2e/[a-l]*.test.ts"] },
  { name: "e2e-2", include: ["test/e2e/[m-z]*.test.ts"] },
];
const TOKENS = { AMP_ADMIN_TOKEN: "test-admin-token", AMP_READ_TOKEN: "test-read-token" };

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));

  /** The pool options every workerd project shares: wrangler.toml's bindings, one runtime, the migrations. */
  function workerdPool(options: { isolatedStorage: boolean; main?: string; bindings: Record<string, unknown> }) {
    return {
      workers: {
        singleWorker: true,
        isolatedStorage: options.isolatedStorage,
        ...(options.main ? { main: options.main } : {}),
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: { bindings: { TEST_MIGRATIONS: migrations, ...options.bindings } },
      },
    };
  }

  /**
   * The reliability campaign (`npm run chaos`, scripts/chaos.mjs, which sets AMP_CHAOS=1; not in `npm test`):
   * - `chaos-api`: the fuzzing campaign, alone in its storage, which its digests compare request by request.
   * - `chaos-dev`: whole jobs under `npm run dev` (Node: it starts processes and reads Parquet with DuckDB): killed
   *   and restarted in the middle of a job, and a provider that fails a fifth of its requests.
   * - `chaos-jobs`: whole jobs inside workerd as in `e2e` (real queue consumer, alarms, anvil): fifty stops at seeded
   *   random moments, and seeded reorgs under a continuous job. AMP_CHAOS_STOPS_SEED and AMP_CHAOS_REORGS_SEED
   *   replay a run.
   * - `chaos-crash`: whole jobs as in `chaos-jobs`, with test/chaos/crash/crash-entry.ts as the main module: the
   *   production Worker and JobRunner with a crash-point hook that kills a step or a runner at each point between
   *   two of its effects (src/domain/crash-points.ts).
   */
  const chaosProjects = [
    defineWorkersProject({
      test: {
        name: "chaos-api",
        include: ["test/chaos/api/**/*.test.ts"],
        setupFiles: MIGRATIONS_SETUP,
        globalSetup: GLOBAL_SETUP,
        testTimeout: 900_000,
        poolOptions: workerdPool({ isolatedStorage: false, bindings: { TEST_SHARED: null, ...TOKENS } }),
      },
    }),
    {
      test: {
        name: "chaos-dev",
        include: ["test/chaos/dev/**/*.test.ts"],
        environment: "node",
        globalSetup: GLOBAL_SETUP,
        testTimeout: 600_000,
        hookTimeout: 120_000,
      },
    },
    defineWorkersProject({
      test: {
        name: "chaos-jobs",
        include: ["test/chaos/jobs/**/*.test.ts"],
        setupFiles: MIGRATIONS_SETUP,
        globalSetup: GLOBAL_SETUP,
        testTimeout: 600_000,
        hookTimeout: 60_000,
        poolOptions: workerdPool({
          isolatedStorage: false,
          bindings: {
            TEST_SHARED: null,
            ...TOKENS,
            AMP_STEP_SIZE: "10",
            AMP_STEP_MAX_ATTEMPTS: "4",
            // A head read every 2 s rather than 10: each reorg settles after one, so the reorgs take a minute or two, not four.
            AMP_HEAD_POLL_MS: "2000",
            CHAOS_STOPS_SEED: process.env.AMP_CHAOS_STOPS_SEED ?? "",
            CHAOS_REORGS_SEED: process.env.AMP_CHAOS_REORGS_SEED ?? "",
          },
        }),
      },
    }),
    defineWorkersProject({
      test: {
        name: "chaos-crash",
        include: ["test/chaos/crash/**/*.test.ts"],
        setupFiles: MIGRATIONS_SETUP,
        globalSetup: GLOBAL_SETUP,
        testTimeout: 600_000,
        hookTimeout: 60_000,
        poolOptions: workerdPool({
          isolatedStorage: false,
          main: "./test/chaos/crash/crash-entry.ts",
          bindings: { TEST_SHARED: null, ...TOKENS, AMP_STEP_SIZE: "10", AMP_STEP_MAX_ATTEMPTS: "4", AMP_HEAD_POLL_MS: "2000" },
        }),
      },
    }),
  ];

  return {
    test: {
      // Node projects' files (dev servers, anvil, Chromium: mostly waiting on processes) two at a time; vitest's
      // default on a 2-core machine is one, which ran test/cli, test/docs, test/assets and chaos-dev in series.
      poolOptions: { forks: { maxForks: 2 } },
      // The Worker's structured log lines (one per job transition and step) would bury the test report.
      onConsoleLog: (log: string) => !log.startsWith('{"level":'),
      projects: [
        {
          test: {
            name: "node",
            testTimeout: TEST_TIMEOUT_MS,
            include: ["test/domain/**/*.test.ts", "test/parquet/**/*.test.ts", "test/scripts/**/*.test.ts", "test/cli/**/*.test.ts", "test/docs/**/*.test.ts", "test/assets/**/*.test.ts"],
            environment: "node",
            globalSetup: GLOBAL_SETUP,
          },
        },
        defineWorkersProject({
          test: {
            name: "worker",
            testTimeout: TEST_TIMEOUT_MS,
            include: ["test/api/**/*.test.ts", "test/store/**/*.test.ts", "test/extract/**/*.test.ts", "test/sql/**/*.test.ts"],
            exclude: [...configDefaults.exclude, CONSUMER_TEST],
            setupFiles: MIGRATIONS_SETUP,
            globalSetup: GLOBAL_SETUP,
            poolOptions: workerdPool({ isolatedStorage: true, bindings: { TEST_SHARED: loadSharedFixtures(), ...TOKENS } }),
          },
        }),
        defineWorkersProject({
          test: {
            name: "jobs",
            testTimeout: TEST_TIMEOUT_MS,
            include: ["test/durable-objects/**/*.test.ts", CONSUMER_TEST],
            setupFiles: MIGRATIONS_SETUP,
            globalSetup: GLOBAL_SETUP,
            poolOptions: workerdPool({ isolatedStorage: true, main: "./test/durable-objects/runner-entry.ts", bindings: { TEST_SHARED: null } }),
          },
        }),
        // Two halves, each in a runtime of its own: a runtime runs its files one after another, and these are
        // the slowest files (real waits for alarms and deliveries), so the halves run side by side.
        ...E2E_HALVES.map(({ name, include }) =>
          defineWorkersProject({
            test: {
              name,
              include,
              setupFiles: MIGRATIONS_SETUP,
              globalSetup: GLOBAL_SETUP,
              // Real waits for real alarms and queue deliveries, on a loaded machine.
              testTimeout: 180_000,
              hookTimeout: 60_000,
              poolOptions: workerdPool({
                isolatedStorage: false,
                bindings: { TEST_SHARED: loadSharedFixtures(), ...TOKENS, AMP_STEP_SIZE: "10", AMP_STEP_MAX_ATTEMPTS: "4" },
              }),
            },
          }),
        ),
        ...(process.env.AMP_CHAOS === "1" ? chaosProjects : []),
      ],
    },
  };
});
