import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { SharedFixtures } from "./shared-types";

/** Where the read-only material lives: beside the checkout, absent in a user's clone. */
export const SHARED_DIR = path.resolve(import.meta.dirname, "../../../shared");

function readJsonDir(dir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
    out[file] = JSON.parse(readFileSync(path.join(dir, file), "utf8"));
  }
  return out;
}

/** The spec and fixtures as plain JSON, for a miniflare binding; null when ../shared is absent. */
export function loadSharedFixtures(): SharedFixtures | null {
  if (!existsSync(SHARED_DIR)) return null;
  return {
    spec: JSON.parse(readFileSync(path.join(SHARED_DIR, "spec/admin.spec.json"), "utf8")),
    manifests: readJsonDir(path.join(SHARED_DIR, "fixtures/manifests")),
    providers: readJsonDir(path.join(SHARED_DIR, "fixtures/providers")),
  };
}
