#!/usr/bin/env node
// The amp-edge CLI (src/cli/): `npm run -s cli -- <noun> <verb> ...`, or `amp-edge ...` after `npm link`.
// Runs the TypeScript sources through tsx, which `npm install` brings.
import { register } from "tsx/esm/api";

// A reader that stops early (`| head`) is not an error of the command.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

register();
const { runCli } = await import("../src/cli/main.ts");
process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
