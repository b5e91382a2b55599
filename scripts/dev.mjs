#!/usr/bin/env node
// `npm run dev [-- wrangler dev args]`: applies the D1 migrations to the local
// database, then starts `wrangler dev` with auth disabled for local use.
// Passing `--var AMP_ADMIN_TOKEN:<token>` turns auth back on.
//
// `wrangler dev` runs no cron trigger by itself, so this script fires the
// Worker's cron (`/__scheduled`) once a minute, as production does: it is what
// gives an unfinished job its runner's alarm back after a restart (a local
// Durable Object's alarm does not survive one), so a job killed with
// `npm run dev` goes on once it is started again on the same `--persist-to`.
import { spawn, spawnSync } from "node:child_process";

const CRON_INTERVAL_MS = 60_000;
const FIRST_CRON_MS = 15_000;
const args = process.argv.slice(2);
const valueOf = (flag, fallback) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : fallback);

const persist = args.includes("--persist-to") ? ["--persist-to", valueOf("--persist-to")] : [];
const migrate = spawnSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", ...persist], { stdio: "inherit" });
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const dev = spawn("npx", ["wrangler", "dev", "--var", "AMP_AUTH:disabled", "--test-scheduled", ...args], { stdio: "inherit" });
const ip = valueOf("--ip", "localhost");
const cronUrl = `http://${ip.includes(":") ? `[${ip}]` : ip}:${valueOf("--port", "8787")}/__scheduled`;
const fireCron = () =>
  fetch(cronUrl, { signal: AbortSignal.timeout(10_000) })
    .then((response) => response.body?.cancel())
    .catch(() => undefined);
// The first soon after start (a restart's unfinished jobs wait for it), then every minute.
const first = setTimeout(fireCron, FIRST_CRON_MS);
const cron = setInterval(fireCron, CRON_INTERVAL_MS);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code, signal) => {
  clearTimeout(first);
  clearInterval(cron);
  process.exit(code ?? (signal ? 1 : 0));
});
