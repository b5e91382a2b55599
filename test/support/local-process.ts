/**
 * The processes the test harness starts on this machine (anvil, Lodestar):
 * spawned with the tail of their stderr kept for error messages, stopped
 * with SIGTERM then SIGKILL, and killed when the test process exits, so a
 * crashed or interrupted run leaves none behind. Node only.
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import net from "node:net";

export interface LocalProcess {
  child: ChildProcess;
  /** The last 4,000 characters it wrote to stderr. */
  stderr(): string;
  /** SIGTERM, SIGKILL after 5 s if it is still there; resolves once it exited. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

export function startProcess(bin: string, args: readonly string[], options: Omit<SpawnOptions, "stdio"> = {}): LocalProcess {
  const child = spawn(bin, args, { ...options, stdio: ["ignore", "ignore", "pipe"] });
  running.add(child);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
