import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "node",
    // CI machines have 2 cores; a generous bound keeps loaded runs from failing on time alone.
    testTimeout: 30_000,
    include: ["test/node/**/*.test.ts"],
    environment: "node",
    // One anvil + fault proxy for the run; tests get their URLs with inject("evmRpcHarness").
    globalSetup: ["./test/support/global-setup.ts"],
  },
});
