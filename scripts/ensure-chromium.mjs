#!/usr/bin/env node
// `npm test`'s pretest: the dashboard's test (test/assets/ui) drives a real headless Chromium, and npm cannot
// install one here (playwright's browser downloads are not on the npm registry), so Debian's package is
// installed with apt when neither CHROMIUM_PATH nor /usr/bin/chromium is there. Fails loudly rather than
// letting the suite run without its browser test.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

const wanted = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
if (existsSync(wanted)) process.exit(0);
if (process.env["CHROMIUM_PATH"]) {
  console.error(`ensure-chromium: CHROMIUM_PATH=${wanted} does not exist`);
  process.exit(1);
}

const asRoot = process.getuid?.() === 0 ? [] : ["sudo"];
function apt(...args) {
  const [command, ...rest] = [...asRoot, "apt-get", ...args];
  execFileSync(command, rest, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
}

console.error("ensure-chromium: installing Debian's chromium package for the dashboard's test");
try {
  try {
    apt("install", "-y", "-qq", "chromium");
  } catch {
    apt("update", "-qq");
    apt("install", "-y", "-qq", "chromium");
  }
} catch {
  console.error("ensure-chromium: could not install chromium with apt-get; install it (`sudo apt-get install -y chromium`)\n" +
    "or point CHROMIUM_PATH at a Chromium binary, then run npm test again");
  process.exit(1);
}
if (!existsSync(wanted)) {
  console.error(`ensure-chromium: apt-get installed chromium but ${wanted} is missing; set CHROMIUM_PATH`);
  process.exit(1);
}
