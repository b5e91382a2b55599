import type { D1Migration } from "cloudflare:test";
import type { Env } from "../../../src/env";
import type { SharedFixtures } from "../shared-types";

declare module "cloudflare:test" {
  interface ProvidedEnv extends Env {
    TEST_MIGRATIONS: D1Migration[];
    /** ../shared/spec and fixtures as JSON; null when ../shared is absent. */
    TEST_SHARED: SharedFixtures | null;
  }
}
