/**
 * `npm test`'s pretest (scripts/ensure-chromium.mjs) as npm runs it: quiet when the browser is there, and a clear
 * failure, never an apt run, when CHROMIUM_PATH names a binary that does not exist.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";

function ensureChromium(env: Record<string, string>) {
  return spawnSync(process.execPath, ["scripts/ensure-chromium.mjs"], { env: { ...process.env, ...env }, encoding: "utf8" });
}

describe("scripts/ensure-chromium.mjs", () => {
  it("passes without output when CHROMIUM_PATH names an existing file", () => {
    const run = ensureChromium({ CHROMIUM_PATH: process.execPath });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe("");
  });

  it("fails naming the path when CHROMIUM_PATH does not exist", () => {
    const run = ensureChromium({ CHROMIUM_PATH: "/nonexistent/chromium" });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("CHROMIUM_PATH=/nonexistent/chromium does not exist");
    expect(run.stderr).not.toContain("installing");
  });

  it.runIf(existsSync("/usr/bin/chromium"))("passes when Debian's chromium is installed", () => {
    const env = { ...process.env };
    delete env["CHROMIUM_PATH"];
    const run = spawnSync(process.execPath, ["scripts/ensure-chromium.mjs"], { env, encoding: "utf8" });
    expect(run.status).toBe(0);
  });
});
