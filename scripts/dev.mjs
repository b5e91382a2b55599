#!/usr/bin/env node
// `npm run dev [-- wrangler dev args]`: applies the D1 migrations to the local
// database, then starts `wrangler dev` with auth disabled for local use.
// Passing `--var AMP_ADMIN_TOKEN:<token>` turns auth back on; `--inspector-port <port>` opens the Worker to
// DevTools (off by default, see below).
//
// Quiet by default: wrangler prints a line for every HTTP request the Worker
// answers and for every queue batch it delivers (a polling client or a job's
// steps make many of them), and no log level tells those from the Worker's own
// lines (both are "info"). They are dropped here, so the output is the
// Worker's lines: one per step (step_completed: range, rows, bytes,
// duration), per job transition and per failure, and wrangler's warnings and
// errors. `--log-requests` shows wrangler's output as it is (with its hotkeys).
//
// `wrangler dev` runs no cron trigger by itself, so this script fires the
// Worker's cron (`/__scheduled`) once a minute, as production does: it is what
// gives an unfinished job its runner's alarm back after a restart (a local
// Durable Object's alarm does not survive one), so a job killed with
// `npm run dev` goes on once it is started again on the same `--persist-to`.
import { spawn, spawnSync } from "node:child_process";

const CRON_INTERVAL_MS = 60_000;
const FIRST_CRON_MS = 15_000;
const logRequests = process.argv.includes("--log-requests");
const args = process.argv.slice(2).filter((arg) => arg !== "--log-requests");
const valueOf = (flag, fallback) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : fallback);

const persist = args.includes("--persist-to") ? ["--persist-to", valueOf("--persist-to")] : [];
const migrate = spawnSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", ...persist], { stdio: "inherit" });
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

// wrangler dev's inspector proxy (its InspectorProxyWorker, what DevTools and --inspector-port reach) turns every
// message of the Worker's inspector into an HTTP request into wrangler's Node process, at any log level: four per
// subrequest the Worker makes (workerd's Network events). A job sending hundreds of provider requests a second
// piles up thousands of loopback connections, until workerd runs out of file descriptors ("Too many open files")
// and the dev server stops answering. So it runs only when asked for with --inspector-port. wrangler 4 has no
// switch for it; it leaves it out in a VS Code debug terminal, which it tells by VSCODE_INSPECTOR_OPTIONS.
const inspector = args.some((arg) => arg === "--inspector-port" || arg.startsWith("--inspector-port="));
const env = inspector || process.env.VSCODE_INSPECTOR_OPTIONS ? process.env : { ...process.env, VSCODE_INSPECTOR_OPTIONS: "amp-edge: no inspector proxy" };
const dev = spawn("npx", ["wrangler", "dev", "--var", "AMP_AUTH:disabled", "--test-scheduled", ...args], {
  stdio: logRequests ? "inherit" : ["inherit", "pipe", "inherit"],
  env,
});
if (!logRequests) dev.stdout.on("data", dropRequestLines(process.stdout));
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

/**
 * What wrangler prints per request and per queue batch, after its colours are
 * stripped: `[wrangler:info] GET /jobs/1 200 OK (4ms)`, `[wrangler:info] QUEUE amp-edge-steps 4/4 (812ms)`.
 */
const REQUEST_LINE = /^\[wrangler:info\] (?:(?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) \S+ \d{3}\b|QUEUE \S+ \d+\/\d+)/;
const ANSI = /\u001b\[[0-9;]*m/g;

/** Writes whole lines to `out`, except wrangler's request and queue lines. */
function dropRequestLines(out) {
  let partial = "";
  return (data) => {
    const lines = (partial + data.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    const kept = lines.filter((line) => !REQUEST_LINE.test(line.replace(ANSI, "")));
    if (kept.length > 0) out.write(`${kept.join("\n")}\n`);
  };
}
