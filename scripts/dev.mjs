#!/usr/bin/env node
// `npm run dev [-- wrangler dev args]`: applies the D1 migrations to the local
// database, then starts `wrangler dev` with auth disabled for local use.
// Passing `--var AMP_ADMIN_TOKEN:<token>` turns auth back on.
import { spawnSync } from "node:child_process";

const wrangler = (args) => spawnSync("npx", ["wrangler", ...args], { stdio: "inherit" });

const persist = process.argv.slice(2).includes("--persist-to")
  ? ["--persist-to", process.argv[process.argv.indexOf("--persist-to") + 1]]
  : [];
const migrate = wrangler(["d1", "migrations", "apply", "DB", "--local", ...persist]);
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const dev = wrangler(["dev", "--var", "AMP_AUTH:disabled", "--test-scheduled", ...process.argv.slice(2)]);
process.exit(dev.status ?? 1);
