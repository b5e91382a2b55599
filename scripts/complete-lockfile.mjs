#!/usr/bin/env node
// Adds to package-lock.json the optional platform packages (other operating
// systems' and CPUs' builds of rollup, DuckDB, ...) that npm left out because
// the registry mirror of these machines does not serve them. Without them
// `npm ci` refuses the lock as out of sync. The entries carry only the version
// their parent asks for; npm skips them on install as failed optional packages.
// Run it after `npm install` changes the lock: `npm run lock:complete`.
import { readFileSync, writeFileSync } from "node:fs";

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
const packages = lock.packages;
let added = 0;
for (const [key, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    // npm looks for a dependency beside its parent first, then at the top level.
    const nested = `${key}/node_modules/${name}`;
    const top = `node_modules/${name}`;
    if (packages[nested] || packages[top]) continue;
    packages[top] = { version, ...(entry.dev ? { dev: true } : {}), optional: true };
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))));
writeFileSync(path, `${JSON.stringify({ ...lock, packages: sorted }, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} optional platform package(s)`);
