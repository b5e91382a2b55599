#!/usr/bin/env node
// The amp-edge CLI (src/cli/): `npm run -s cli -- <noun> <verb> ...`, or `amp-edge ...` after `npm link`.
// Runs the TypeScript sources through tsx, which `npm install` brings.
import { register } from "tsx/esm/api";

// A reader that stops early (`| head`) is not an error of the command.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

// `npm run cli` runs scripts in the package's folder: relative paths (manifest files, -o) are the caller's.
if (process.env.npm_lifecycle_event === "cli" && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);

register();
const { runCli } = await import("../src/cli/main.ts");
process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
