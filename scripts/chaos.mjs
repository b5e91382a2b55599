#!/usr/bin/env node
// `npm run chaos`: the reliability campaign (README "Reliability"). Runs the chaos vitest projects
// (vitest.config.ts, enabled by AMP_CHAOS=1), then prints the figures each test reported on a
// `CHAOS-FIGURES <json>` line as one table. Exits with vitest's status. Extra arguments go to vitest
// (`npm run chaos -- --project chaos-api`).
import { spawn } from "node:child_process";

const projects = ["chaos-api", "chaos-dev", "chaos-jobs", "chaos-crash"];
const extra = process.argv.slice(2);
const args = ["vitest", "run", ...(extra.some((arg) => arg.startsWith("--project")) ? [] : projects.flatMap((p) => ["--project", p])), ...extra];
const child = spawn("npx", args, { env: { ...process.env, AMP_CHAOS: "1" }, stdio: ["ignore", "pipe", "inherit"] });

const reports = [];
let pending = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  pending += chunk.toString();
  const lines = pending.split("\n");
  pending = lines.pop() ?? "";
  for (const line of lines) {
    const at = line.indexOf("CHAOS-FIGURES ");
    if (at >= 0) reports.push(JSON.parse(line.slice(at + "CHAOS-FIGURES ".length)));
  }
});

child.on("exit", (code) => {
  for (const { title, rows } of reports) {
    const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
    const cells = rows.map((row) => columns.map((column) => (row[column] === undefined ? "" : String(row[column]))));
    const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((cell) => cell[i].length)));
    const line = (values) => `| ${values.map((value, i) => value.padEnd(widths[i])).join(" | ")} |`;
    console.log(`\n${title}\n${line(columns)}\n|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
    for (const cell of cells) console.log(line(cell));
  }
  if (reports.length === 0) console.log("\nno figures were reported");
  process.exit(code ?? 1);
});
