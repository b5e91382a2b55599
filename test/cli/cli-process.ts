/**
 * The CLI as a user runs it: `node scripts/amp-edge.mjs <args>` in a child
 * process, with pipes (no terminal) or under util-linux `script`, which gives
 * it a pseudo-terminal, as a person at a terminal would. And the same entry
 * point the launcher calls (`runCli`) inside the test's process, for the many
 * verbs whose checks need no process of their own: a process start costs a
 * second or two on a loaded machine.
 */
import { spawn } from "node:child_process";
import { Writable } from "node:stream";
import { runCli as runCliEntry } from "../../src/cli/main";
import { PROJECT_DIR } from "../support/dev-server";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** AMP_URL, AMP_TOKEN and the like; the parent's AMP_* and CI are not passed on. */
  env?: Record<string, string>;
  /** Run under a pseudo-terminal (`script -qefc`), 200 columns wide; stdout and stderr then arrive together in `stdout`. */
  tty?: boolean;
  /** Called with each chunk of stdout as it comes, e.g. to act once a line appears. */
  onStdout?: (text: string) => void;
}

const LAUNCHER = "scripts/amp-edge.mjs";

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("AMP_") && key !== "CI") env[key] = value;
  return { ...env, ...extra };
}

const shellQuote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

export function runCliProcess(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const env = childEnv(options.env ?? {});
  const command = options.tty
    ? spawn("script", ["-qefc", `stty cols 200 rows 50; exec ${[process.execPath, LAUNCHER, ...args].map(shellQuote).join(" ")}`, "/dev/null"], {
        cwd: PROJECT_DIR,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      })
    : spawn(process.execPath, [LAUNCHER, ...args], { cwd: PROJECT_DIR, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  command.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    options.onStdout?.(chunk.toString());
  });
  command.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    command.once("error", reject);
    command.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

class TextSink extends Writable {
  text = "";
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** `runCli` in this process, with its own environment (nothing of the test's) and its output collected; no terminal. */
export async function runCliInProcess(args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  const stdout = new TextSink();
  const stderr = new TextSink();
  const code = await runCliEntry(args, { stdout, stderr, env });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** The JSON a `--json` run printed, after checking it exited 0. */
export function jsonOf<T = unknown>(run: CliRun): T {
  if (run.code !== 0) throw new Error(`the CLI exited ${run.code}:\n${run.stderr}\n${run.stdout}`);
  return JSON.parse(run.stdout) as T;
}
