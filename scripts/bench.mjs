/**
 * `npm run bench`: every `bench:*` script of package.json, one after the
 * other (they share the machine, so never at once). Runs them all even when
 * one fails, and fails itself if any did.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

const { scripts } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const benches = Object.keys(scripts).filter((name) => name.startsWith("bench:"));
const failed = [];
for (const name of benches) {
  console.log(`\n=== npm run ${name}`);
  const { status } = spawnSync("npm", ["run", "--silent", name], { stdio: "inherit" });
  if (status !== 0) failed.push(name);
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(", ")}`);
  process.exit(1);
}
