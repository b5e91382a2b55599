/**
 * The Worker's isolate seen from outside, through workerd's inspector (the
 * DevTools protocol that `wrangler dev --inspector-port` serves): its heap,
 * and CPU profiles. workerd has no memory or CPU-usage API of its own
 * (no process.memoryUsage, no node:v8), so this is how the benches measure
 * what runs inside it. Node only.
 */
import WebSocket from "ws";

export interface HeapSampling {
  /** Stops sampling; the highest memory seen minus the memory when sampling started. */
  stop(): Promise<number>;
}

export interface CpuProfileNode {
  id: number;
  /** Where the function starts, 0-based, in the script at `url` (the bundle wrangler dev runs). */
  callFrame: { functionName: string; scriptId: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface WorkerdInspector {
  /**
   * Samples the isolate's memory (V8's used heap plus the backing stores of
   * ArrayBuffers, where Parquet bytes live) every `everyMs` until stopped.
   * workerd does not answer HeapProfiler.collectGarbage, so the baseline may
   * hold garbage: the peak above it bounds the step's own memory from below
   * by at most that garbage, and what it holds is collected while sampling.
   */
  startSampling(everyMs?: number): Promise<HeapSampling>;
  startProfiling(intervalUs?: number): Promise<void>;
  stopProfiling(): Promise<CpuProfile>;
  /**
   * The source text of the isolate's script `scriptId` (a profile node's callFrame.scriptId). workerd names the
   * Worker's bundle by its module name alone ("index.js"), so this text is what tells which file on disk it is.
   */
  scriptSource(scriptId: string): Promise<string>;
  close(): void;
}

/**
 * `target` is the inspector's path for the Worker: `ws` behind wrangler dev's proxy, `core:user:<name>` on
 * Miniflare's own workerd (its /json listing names them).
 */
export async function connectWorkerdInspector(port: number, target = "ws"): Promise<WorkerdInspector> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/${target}`);
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  socket.on("message", (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id!);
    if (message.error) waiter.reject(new Error(message.error.message));
    else waiter.resolve(message.result);
  });
  const send = <T>(method: string, params: Record<string, unknown> = {}): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  // wrangler's inspector proxy turns every message of the runtime into an HTTP request into wrangler's Node
  // process, and workerd's Network domain (which the proxy enables) sends four per subrequest of the Worker:
  // the benches need none of them, and under a job's rate they pile up as loopback connections.
  if (target === "ws") await send("Network.disable");
  const usedHeap = async () => {
    const usage = await send<{ usedSize: number; backingStorageSize?: number }>("Runtime.getHeapUsage");
    return usage.usedSize + (usage.backingStorageSize ?? 0);
  };

  return {
    async startSampling(everyMs = 10) {
      const baseline = await usedHeap();
      let peak = baseline;
      let running = true;
      const loop = (async () => {
        while (running) {
          peak = Math.max(peak, await usedHeap());
          await new Promise((resolve) => setTimeout(resolve, everyMs));
        }
      })();
      return {
        async stop() {
          running = false;
          await loop;
          return peak - baseline;
        },
      };
    },
    async startProfiling(intervalUs = 200) {
      await send("Profiler.enable");
      await send("Profiler.setSamplingInterval", { interval: intervalUs });
      await send("Profiler.start");
    },
    async stopProfiling() {
      return (await send<{ profile: CpuProfile }>("Profiler.stop")).profile;
    },
    async scriptSource(scriptId) {
      // The Debugger domain only for this call: enabled, it reports every script parsed and may slow the isolate.
      await send("Debugger.enable");
      try {
        return (await send<{ scriptSource: string }>("Debugger.getScriptSource", { scriptId })).scriptSource;
      } finally {
        await send("Debugger.disable");
      }
    },
    close() {
      socket.close();
    },
  };
}
