import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "node",
    include: ["test/node/**/*.test.ts"],
    environment: "node",
    // One anvil + fault proxy for the run; tests get their URLs with inject("evmRpcHarness").
    globalSetup: ["./test/support/global-setup.ts"],
  },
});
