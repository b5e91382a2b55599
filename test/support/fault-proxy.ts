/**
 * An HTTP server on 127.0.0.1 (Node side) between the client under test and
 * anvil: real HTTP traffic, with faults injected on request. Each test uses
 * its own scenario (a path segment), so tests do not see each other's faults
 * or request logs:
 *   POST   /rpc/<scenario>[/<any>...]    JSON-RPC, forwarded to the node unless a fault applies (the rest of
 *                                        the path and the query are ignored: room for an API key in the URL)
 *   POST   /control/<scenario>/faults    body: Fault[], appended to the scenario's queues
 *   POST   /control/<scenario>/mix       body: FaultMix: from now on a share of its requests get a random fault
 *   GET    /control/<scenario>/log       ScenarioLog: every request the scenario saw
 *   POST   /nodes                        body: {"seed": boolean}; starts a fresh anvil -> FreshNode
 *   DELETE /nodes/<id>                   stops it
 *   POST   /beacon-node                  starts the shared Lodestar once (lodestar.ts) -> {"url"}
 *   GET    /beacon/<scenario>/<path>     beacon API, forwarded to it unless a request fault applies
 *   POST   /duckdb?sql=<query>           body: a Parquet file; the query's rows, `{file}` in it naming the file
 * Fresh nodes are for tests that change the chain (reorgs): workerd cannot
 * start processes, so it asks here. The beacon node starts only when a test
 * asks for it, so runs without eth-beacon tests do not pay for it.
 */
import http from "node:http";
import { startAnvil, seedTestChain, type AnvilNode } from "./anvil";
import { type CallFault, type Fault, type FaultMix, type FreshNode, MIX_FAULTS, type MixFault, type RequestFault, type RequestRecord } from "./harness-types";
import { startLodestar, type BeaconNode } from "./lodestar";
import { queryParquet } from "./duckdb";
import { type Prng, prng } from "./prng";

interface Scenario {
  mix: { settings: FaultMix; random: Prng; timeouts: number } | null;
  /** Chooses the victims of injected "mixed" faults. */
  mixedRandom?: Prng;
  mixed: Partial<Record<MixFault, number>>;
  requestFaults: RequestFault[];
  callFaults: CallFault[];
  requests: RequestRecord[];
  inFlight: number;
  maxInFlight: number;
}

export interface FaultProxy {
  url: string;
  close(): Promise<void>;
}

type JsonRpcMessage = { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown };

export async function startFaultProxy(upstreamUrl: string): Promise<FaultProxy> {
  const scenarios = new Map<string, Scenario>();
  const nodes = new Map<string, AnvilNode>();
  let nextNode = 1;
  let beacon: Promise<BeaconNode> | null = null;
  const beaconNode = () => {
    beacon ??= startLodestar();
    // A failed start is not kept: the next test that asks tries again.
    beacon.catch(() => (beacon = null));
    return beacon;
  };

  const scenario = (name: string): Scenario => {
    let found = scenarios.get(name);
    if (!found) {
      found = { mix: null, mixed: {}, requestFaults: [], callFaults: [], requests: [], inFlight: 0, maxInFlight: 0 };
      scenarios.set(name, found);
    }
    return found;
  };

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { "content-type": "text/plain" });
      response.end(`harness error: ${error instanceof Error ? error.message : String(error)}`);
    });
  });

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const path = (request.url ?? "/").split("?")[0]!.split("/").filter(Boolean);
    if (path[0] === "duckdb" && path.length === 1 && request.method === "POST") {
      // DuckDB runs in Node only: workerd tests send it the files their jobs wrote.
      const sql = new URL(request.url ?? "/", "http://proxy").searchParams.get("sql") ?? "";
      return json(response, 200, await queryParquet(await readBytes(request), sql));
    }
    const body = await readBody(request);
    if (path[0] === "rpc" && path.length >= 2 && request.method === "POST") return proxy(scenario(path[1]!), body, response);
    if (path[0] === "beacon" && path.length >= 2 && request.method === "GET") {
      const rawPath = (request.url ?? "/").split("?")[0]!;
      const upstreamPath = rawPath.slice(rawPath.indexOf(path[1]!) + path[1]!.length);
      return proxyBeacon(scenario(path[1]!), upstreamPath, response);
    }
    if (path[0] === "beacon-node" && path.length === 1 && request.method === "POST") return json(response, 200, { url: (await beaconNode()).url });
    if (path[0] === "control" && path.length === 3) {
      const target = scenario(path[1]!);
      if (path[2] === "faults" && request.method === "POST") {
        for (const fault of JSON.parse(body) as Fault[]) {
          if (fault.kind === "rpc-error" || fault.kind === "drop-last" || fault.kind === "wrong-block" || fault.kind === "null-result" || fault.kind === "alter") {
            target.callFaults.push({ ...fault });
          }
          else target.requestFaults.push({ ...fault });
        }
        return json(response, 200, { ok: true });
      }
      if (path[2] === "mix" && request.method === "POST") {
        const settings = JSON.parse(body) as FaultMix;
        target.mix = { settings, random: prng(settings.seed), timeouts: 0 };
        return json(response, 200, { ok: true });
      }
      if (path[2] === "log" && request.method === "GET") {
        return json(response, 200, { requests: target.requests, maxInFlight: target.maxInFlight, mixed: target.mixed });
      }
    }
    if (path[0] === "nodes" && path.length === 1 && request.method === "POST") {
      const { seed } = (body ? JSON.parse(body) : {}) as { seed?: boolean };
      const node = await startAnvil();
      const id = String(nextNode++);
      nodes.set(id, node);
      const fresh: FreshNode = { id, url: node.url, chain: seed ? await seedTestChain(node.url) : null };
      return json(response, 200, fresh);
    }
    if (path[0] === "nodes" && path.length === 2 && request.method === "DELETE") {
      const node = nodes.get(path[1]!);
      nodes.delete(path[1]!);
      await node?.stop();
      return json(response, node ? 200 : 404, { stopped: Boolean(node) });
    }
    json(response, 404, { error: "no such harness route" });
  }

  async function proxy(s: Scenario, body: string, response: http.ServerResponse): Promise<void> {
    const record: RequestRecord = { at: Date.now(), methods: [], batch: false, status: 0 };
    s.requests.push(record);
    s.inFlight++;
    s.maxInFlight = Math.max(s.maxInFlight, s.inFlight);
    try {
      let parsed: JsonRpcMessage | JsonRpcMessage[] | null = null;
      try {
        parsed = JSON.parse(body) as JsonRpcMessage | JsonRpcMessage[];
      } catch {
        // Forwarded as is: the node answers a parse error.
      }
      record.batch = Array.isArray(parsed);
      record.methods = (Array.isArray(parsed) ? parsed : parsed ? [parsed] : []).map((call) => String(call.method));

      const mixed = parsed === null ? null : (takeMixedFault(s, record) ?? pickMixFault(s, parsed));
      if (mixed !== null && parsed !== null) {
        record.mixed = mixed.fault;
        s.mixed[mixed.fault] = (s.mixed[mixed.fault] ?? 0) + 1;
        return await answerMixFault(s, mixed, parsed, body, record, response);
      }
      if (await answeredByFault(s, record, response)) return;

      const upstream = await fetch(upstreamUrl, { method: "POST", headers: { "content-type": "application/json" }, body });
      let answer = await upstream.text();
      if (parsed !== null && s.callFaults.length > 0) answer = applyCallFaults(s, parsed, answer);
      record.status = upstream.status;
      response.writeHead(upstream.status, { "content-type": "application/json" });
      response.end(answer);
    } finally {
      s.inFlight--;
    }
  }

  /** `upstreamPath` exactly as the client sent it after the scenario, so a doubled slash shows in the log. */
  async function proxyBeacon(s: Scenario, upstreamPath: string, response: http.ServerResponse): Promise<void> {
    const record: RequestRecord = { at: Date.now(), methods: [upstreamPath], batch: false, status: 0 };
    s.requests.push(record);
    s.inFlight++;
    s.maxInFlight = Math.max(s.maxInFlight, s.inFlight);
    try {
      if (await answeredByFault(s, record, response)) return;
      const upstream = await fetch(`${(await beaconNode()).url}${upstreamPath}`, { headers: { accept: "application/json" } });
      record.status = upstream.status;
      response.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" });
      response.end(Buffer.from(await upstream.arrayBuffer()));
    } finally {
      s.inFlight--;
    }
  }

  /** The fault of the mix this request gets, or null (most requests, and every one outside a mix). */
  function pickMixFault(s: Scenario, parsed: JsonRpcMessage | JsonRpcMessage[]): ChosenMixFault | null {
    if (s.mix === null || !s.mix.random.chance(s.mix.settings.rate)) return null;
    const batch = Array.isArray(parsed) && parsed.length > 1;
    const candidates = MIX_FAULTS.filter(
      (fault) => (batch || !fault.startsWith("batch-")) && (fault !== "timeout" || s.mix!.timeouts < s.mix!.settings.maxTimeouts),
    );
    const fault = s.mix.random.pick(candidates);
    if (fault === "timeout") s.mix.timeouts++;
    return { fault, random: s.mix.random, timeoutMs: s.mix.settings.timeoutMs };
  }

  async function answerMixFault(
    s: Scenario,
    { fault, random, timeoutMs }: ChosenMixFault,
    parsed: JsonRpcMessage | JsonRpcMessage[],
    body: string,
    record: RequestRecord,
    response: http.ServerResponse,
  ): Promise<void> {
    const calls = Array.isArray(parsed) ? parsed : [parsed];
    const send = (status: number, type: string, text: string, headers: Record<string, string> = {}) => {
      record.status = status;
      response.writeHead(status, { "content-type": type, ...headers });
      response.end(text);
    };
    switch (fault) {
      case "rpc-32005":
      case "rpc-32603": {
        const code = fault === "rpc-32005" ? -32005 : -32603;
        const message = code === -32005 ? "limit exceeded" : "internal error";
        // One call of a batch fails, the others are answered.
        const victim = random.int(0, calls.length - 1);
        const answers = await forwardParsed(body);
        const list = Array.isArray(answers) ? answers : [answers];
        const target = list.find((entry) => entry.id === calls[victim]!.id);
        if (target) {
          delete target.result;
          target.error = { code, message };
        }
        return send(200, "application/json", JSON.stringify(answers));
      }
      case "http-500":
        return send(500, "application/json", JSON.stringify({ message: "injected HTTP 500" }));
      case "http-503":
        return send(503, "text/plain", "service unavailable");
      case "http-429":
        return send(429, "application/json", JSON.stringify({ message: "too many requests" }), { "retry-after": "1" });
      case "disconnect":
        response.socket?.destroy();
        return;
      case "html":
        return send(502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>");
      case "cut-json": {
        const text = JSON.stringify(await forwardParsed(body));
        return send(200, "application/json", text.slice(0, Math.max(1, Math.floor(text.length / 2))));
      }
      case "null-result": {
        const answers = await forwardParsed(body);
        for (const entry of Array.isArray(answers) ? answers : [answers]) {
          const call = calls.find((c) => c.id === entry.id);
          if (call?.method === "eth_getBlockByNumber" || call?.method === "eth_getBlockReceipts") entry.result = null;
        }
        return send(200, "application/json", JSON.stringify(answers));
      }
      case "batch-fewer":
      case "batch-reordered": {
        const answers = (await forwardParsed(body)) as JsonRpcMessage[];
        return send(200, "application/json", JSON.stringify(fault === "batch-fewer" ? answers.slice(0, -1) : answers.slice().reverse()));
      }
      case "timeout":
        await new Promise((resolve) => setTimeout(resolve, timeoutMs));
        return send(200, "application/json", JSON.stringify(await forwardParsed(body)));
    }
  }

  async function forwardParsed(body: string): Promise<JsonRpcMessage | JsonRpcMessage[]> {
    const upstream = await fetch(upstreamUrl, { method: "POST", headers: { "content-type": "application/json" }, body });
    return (await upstream.json()) as JsonRpcMessage | JsonRpcMessage[];
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("fault proxy has no address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...nodes.values()].map((node) => node.stop()));
      nodes.clear();
      await (await beacon?.catch(() => null))?.stop();
    },
  };
}

/** Applies the scenario's next request fault; true when it answered (or dropped) the request itself. */
async function answeredByFault(s: Scenario, record: RequestRecord, response: http.ServerResponse): Promise<boolean> {
  // A "mixed" fault waits for a request it applies to (takeMixedFault).
  if (s.requestFaults[0]?.kind === "mixed") return false;
  const fault = takeRequestFault(s);
  if (fault?.kind === "delay") await new Promise((resolve) => setTimeout(resolve, fault.ms));
  if (fault?.kind === "disconnect") {
    response.socket?.destroy();
    return true;
  }
  if (fault?.kind === "status") {
    record.status = fault.status;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (fault.retryAfter !== undefined) headers["retry-after"] = fault.retryAfter;
    response.writeHead(fault.status, headers);
    // Both a JSON-RPC client and a beacon API client (whose errors are {code, message}) read it as an error.
    response.end(JSON.stringify({ code: fault.status, message: `injected HTTP ${fault.status}` }));
    return true;
  }
  if (fault?.kind === "batch-cap" && record.methods.length > fault.max) {
    record.status = 200;
    json(response, 200, { jsonrpc: "2.0", id: null, error: { code: -32600, message: `batch too large: at most ${fault.max} calls` } });
    return true;
  }
  if (fault?.kind === "call-rate") {
    const now = Date.now();
    const recent = s.requests.filter((seen) => seen !== record && seen.status === 200 && now - seen.at < fault.perMs);
    if (recent.reduce((sum, seen) => sum + seen.methods.length, 0) + record.methods.length > fault.calls) {
      record.status = 429;
      json(response, 429, { message: "too many calls" });
      return true;
    }
  }
  if (fault?.kind === "garbage") {
    record.status = 200;
    response.writeHead(200, { "content-type": "application/json" });
    response.end("<html>not json-rpc</html>");
    return true;
  }
  return false;
}

/** A fault of the mix chosen for one request: by the scenario's mix, or injected as a "mixed" request fault. */
interface ChosenMixFault {
  fault: MixFault;
  random: Prng;
  timeoutMs: number;
}

const DEFAULT_MIXED_TIMEOUT_MS = 31_000;

/** The next request fault when it is a "mixed" one that applies to this request (its method, if it names one). */
function takeMixedFault(s: Scenario, record: RequestRecord): ChosenMixFault | null {
  const fault = s.requestFaults[0];
  if (fault?.kind !== "mixed" || (fault.method !== undefined && record.methods[0] !== fault.method)) return null;
  // A batch fault needs a batch: it waits for one.
  if (fault.fault.startsWith("batch-") && record.methods.length < 2) return null;
  takeRequestFault(s);
  s.mixedRandom ??= prng(1);
  return { fault: fault.fault, random: s.mixedRandom, timeoutMs: fault.timeoutMs ?? DEFAULT_MIXED_TIMEOUT_MS };
}

function takeRequestFault(s: Scenario): RequestFault | undefined {
  const fault = s.requestFaults[0];
  if (!fault) return undefined;
  if (--fault.times <= 0) s.requestFaults.shift();
  return fault;
}

/** Rewrites the node's answers for the calls that a call fault targets. */
function applyCallFaults(s: Scenario, request: JsonRpcMessage | JsonRpcMessage[], answer: string): string {
  const calls = Array.isArray(request) ? request : [request];
  const parsedAnswer = JSON.parse(answer) as JsonRpcMessage | JsonRpcMessage[];
  const answers = Array.isArray(parsedAnswer) ? parsedAnswer : [parsedAnswer];
  for (const call of calls) {
    const index = s.callFaults.findIndex((fault) => fault.method === call.method && fault.times > 0 && paramsMatch(fault, call.params));
    if (index < 0) continue;
    const fault = s.callFaults[index]!;
    if (--fault.times <= 0) s.callFaults.splice(index, 1);
    const target = answers.find((entry) => entry.id === call.id);
    if (!target) continue;
    if (fault.kind === "rpc-error") {
      delete target.result;
      target.error = { code: fault.code, message: fault.message };
    } else if (fault.kind === "null-result") {
      target.result = null;
    } else if (fault.kind === "alter") {
      setPath(target.result, fault.path, fault.value);
    } else if (fault.kind === "wrong-block") {
      const block = target.result as { number?: string; hash?: string } | null;
      if (block?.number) block.number = `0x${(Number(block.number) + 1).toString(16)}`;
      if (block?.hash) block.hash = `0x${"ab".repeat(32)}`;
    } else if (Array.isArray(target.result)) {
      target.result = target.result.slice(0, -1);
    }
  }
  return JSON.stringify(parsedAnswer);
}

/** Whether a call's params start with those an "alter" fault names (any params for other faults). */
function paramsMatch(fault: CallFault, params: unknown): boolean {
  if (fault.kind !== "alter" || fault.params === undefined) return true;
  return Array.isArray(params) && fault.params.every((value, i) => JSON.stringify(value) === JSON.stringify(params[i]));
}

/** Sets `value` at a dotted path of arrays (numeric segments) and objects; a path that leads nowhere is the test's mistake. */
function setPath(root: unknown, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = root as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) {
    node = node?.[key] as Record<string, unknown>;
    if (typeof node !== "object" || node === null) throw new Error(`alter: ${path} leads nowhere at ${key}`);
  }
  node[keys.at(-1)!] = value;
}

function readBytes(request: http.IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function json(response: http.ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(value));
}
