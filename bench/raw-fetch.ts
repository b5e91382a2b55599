/**
 * The source limit: the JSON-RPC requests EvmRpcClient makes for a block
 * range, sent the same way, with the JSON parsed and nothing else done. Plain
 * `fetch`, no product code, so speeding up the product cannot move it.
 *
 * As the client does it: the range goes in chunks of `chunkBlocks`, one chunk
 * after the other; per chunk first eth_getBlockByNumber (full transactions)
 * for every block, then eth_getBlockReceipts for the blocks that have
 * transactions, each in JSON-RPC batches of `batchSize` calls, the batches of
 * a chunk sent at once but at most `concurrency` HTTP requests in flight.
 */

export interface RawFetchSettings {
  url: string;
  /** Calls per JSON-RPC batch (>= 1). */
  batchSize: number;
  /** Blocks per chunk, as EvmRpcClientOptions.chunkBlocks. */
  chunkBlocks: number;
  /** HTTP requests in flight at most, as concurrent_request_limit. */
  concurrency: number;
}

export interface RawFetchResult {
  blocks: number;
  transactions: number;
  httpRequests: number;
  responseBytes: number;
  seconds: number;
}

interface RpcResponse {
  id: number;
  result?: unknown;
  error?: { code: number; message: string };
}

class Limit {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(size: number) {
    this.free = size;
  }
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/** Fetches `start..=end` the way the client does; throws on any JSON-RPC or HTTP error. */
export async function rawFetch(settings: RawFetchSettings, start: number, end: number): Promise<RawFetchResult> {
  const limit = new Limit(settings.concurrency);
  const totals = { httpRequests: 0, responseBytes: 0 };

  async function post(method: string, paramsList: readonly unknown[][]): Promise<unknown[]> {
    const body = JSON.stringify(paramsList.map((params, id) => ({ jsonrpc: "2.0", id, method, params })));
    return limit.run(async () => {
      const response = await fetch(settings.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body,
      });
      if (!response.ok) throw new Error(`HTTP ${response.status} for ${method}`);
      const text = await response.text();
      totals.httpRequests++;
      totals.responseBytes += text.length;
      const answers = JSON.parse(text) as RpcResponse[];
      const results = new Array<unknown>(paramsList.length);
      for (const answer of answers) {
        if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
        results[answer.id] = answer.result;
      }
      return results;
    });
  }

  async function callAll(method: string, paramsList: readonly unknown[][]): Promise<unknown[]> {
    const batches: Promise<unknown[]>[] = [];
    for (let i = 0; i < paramsList.length; i += settings.batchSize) batches.push(post(method, paramsList.slice(i, i + settings.batchSize)));
    return (await Promise.all(batches)).flat();
  }

  const began = performance.now();
  let transactions = 0;
  for (let from = start; from <= end; from += settings.chunkBlocks) {
    const numbers = Array.from({ length: Math.min(settings.chunkBlocks, end - from + 1) }, (_, i) => `0x${(from + i).toString(16)}`);
    const blocks = (await callAll("eth_getBlockByNumber", numbers.map((n) => [n, true]))) as { transactions: unknown[] }[];
    const busy = numbers.filter((_, i) => blocks[i]!.transactions.length > 0);
    const receipts = (await callAll("eth_getBlockReceipts", busy.map((n) => [n]))) as unknown[][];
    for (const list of receipts) transactions += list.length;
  }
  const seconds = (performance.now() - began) / 1000;
  return { blocks: end - start + 1, transactions, ...totals, seconds };
}

export interface RawPoolSettings {
  url: string;
  /** Calls per HTTP request: 1 sends single calls, more sends JSON-RPC batches. */
  batchSize: number;
  /** HTTP requests in flight at most. */
  concurrency: number;
}

/**
 * The node's own limit for a range, as plainly as it can be fetched:
 * `concurrency` loops each take the next `batchSize` blocks, fetch them
 * (eth_getBlockByNumber with full transactions) in one request, then the
 * receipts of those with transactions (eth_getBlockReceipts) in another,
 * until the range is done. No chunks, no product code.
 */
export async function rawPoolFetch(settings: RawPoolSettings, start: number, end: number): Promise<RawFetchResult> {
  const totals = { transactions: 0, httpRequests: 0, responseBytes: 0 };
  let nextId = 0;
  async function post(method: string, paramsList: readonly unknown[][]): Promise<unknown[]> {
    const calls = paramsList.map((params) => ({ jsonrpc: "2.0", id: nextId++, method, params }));
    const response = await fetch(settings.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(calls.length === 1 ? calls[0] : calls),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status} for ${method}`);
    const text = await response.text();
    totals.httpRequests++;
    totals.responseBytes += text.length;
    const parsed = JSON.parse(text) as RpcResponse | RpcResponse[];
    const answers = Array.isArray(parsed) ? parsed : [parsed];
    const byId = new Map(answers.map((answer) => [answer.id, answer]));
    return calls.map((call) => {
      const answer = byId.get(call.id);
      if (!answer || answer.error) throw new Error(`${method}: ${answer?.error?.message ?? "no answer"}`);
      return answer.result;
    });
  }
  let next = start;
  async function loop(): Promise<void> {
    while (next <= end) {
      const from = next;
      const to = Math.min(end, from + settings.batchSize - 1);
      next = to + 1;
      const numbers = Array.from({ length: to - from + 1 }, (_, i) => `0x${(from + i).toString(16)}`);
      const blocks = (await post("eth_getBlockByNumber", numbers.map((n) => [n, true]))) as { transactions: unknown[] }[];
      const busy = numbers.filter((_, i) => blocks[i]!.transactions.length > 0);
      if (busy.length === 0) continue;
      const receipts = (await post("eth_getBlockReceipts", busy.map((n) => [n]))) as unknown[][];
      for (const list of receipts) totals.transactions += list.length;
    }
  }
  const began = performance.now();
  await Promise.all(Array.from({ length: settings.concurrency }, loop));
  return { blocks: end - start + 1, ...totals, seconds: (performance.now() - began) / 1000 };
}
