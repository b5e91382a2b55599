import type { D1Migration } from "cloudflare:test";
import type { Env } from "../../../src/env";
import type { SharedFixtures } from "../shared-types";

declare module "cloudflare:test" {
  interface ProvidedEnv extends Env {
    TEST_MIGRATIONS: D1Migration[];
    /** ../shared/spec and fixtures as JSON; null when ../shared is absent. */
    TEST_SHARED: SharedFixtures | null;
    /** The chaos-jobs project's seeds (vitest.config.ts, from AMP_CHAOS_STOPS_SEED / AMP_CHAOS_REORGS_SEED); "" for the default. */
    CHAOS_STOPS_SEED?: string;
    CHAOS_REORGS_SEED?: string;
  }
}
