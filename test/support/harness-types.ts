/**
 * Types shared by the test harness (Node side: anvil, the fault proxy, the
 * global setup) and the tests that use it (Node or workerd), which must not
 * import the Node-only modules themselves.
 */

/** What the test chain holds where, so tests can pick a block of each kind. */
export interface SeededChain {
  /** The log emitter (see log-emitter.ts). */
  emitter: `0x${string}`;
  blocks: {
    /** Only the emitter's deployment (to = null). */
    contractCreation: number;
    /** Value transfers: legacy (EIP-155), EIP-2930 and EIP-1559, from several senders. */
    valueTransfers: number;
    /** Emitter calls with LOG0, LOG1, LOG2, LOG3, LOG4, then one transaction with all five. */
    logs: number;
    /** [transfer, reverted emitter call, emitter call with a LOG2]: tx_index renumbering. */
    revertedMiddle: number;
    /** [reverted emitter call, emitter call with a LOG3]. */
    revertedFirst: number;
    /** An EIP-7702 (type 4) transaction calling the delegated account, and an EIP-1559 transfer. */
    setCode: number;
    empty: number[];
  };
  /** Hashes of the transactions that failed. */
  revertedTransactions: `0x${string}`[];
  head: number;
}

/** What the global setup provides to every test (vitest `inject("evmRpcHarness")`). */
export interface HarnessInfo {
  /** The shared anvil, seeded with the test chain once per run. Read it, never change it. */
  anvilUrl: string;
  chain: SeededChain;
  /** The fault proxy and node launcher (see fault-control.ts). */
  harnessUrl: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    evmRpcHarness: HarnessInfo;
  }
}

/**
 * The fault proxy's vocabulary.
 *
 * Request faults hit the next `times` HTTP requests of a scenario, in the
 * order they were added; call faults hit the next `times` JSON-RPC calls of
 * `method` (inside batches too). Everything else is forwarded to the node.
 */
export type RequestFault =
  /** Answer with this HTTP status (and Retry-After header when given) instead of forwarding. */
  | { kind: "status"; status: number; times: number; retryAfter?: string }
  /** Answer 200 with a body that is not JSON-RPC. */
  | { kind: "garbage"; times: number }
  /** Close the connection without answering. */
  | { kind: "disconnect"; times: number }
  /** Wait this long before forwarding. */
  | { kind: "delay"; ms: number; times: number }
  /**
   * A provider that caps batches: a batch of more than `max` calls is answered with one
   * JSON-RPC error (`{"id": null, "error": {code -32600, "batch too large"}}`), smaller ones are forwarded.
   */
  | { kind: "batch-cap"; max: number; times: number }
  /**
   * A provider that counts every call of a batch against its rate: once `calls` calls arrived
   * within the last `perMs`, further requests get HTTP 429 until the window has room.
   */
  | { kind: "call-rate"; calls: number; perMs: number; times: number }
  /**
   * One fault of the mix (below), on requests of `method` only (the first call of a batch) when given;
   * other requests are forwarded and do not count. A "timeout" waits `timeoutMs` (default 31 s).
   */
  | { kind: "mixed"; fault: MixFault; times: number; method?: string; timeoutMs?: number };

/**
 * A share of a scenario's requests, chosen by a seeded PRNG, gets one fault
 * of the mix: JSON-RPC errors -32005 and -32603, HTTP 500 and 503, HTTP 429
 * with Retry-After, a dropped connection, an HTML error page, JSON cut in the
 * middle, null results for blocks and receipts (a lagging node), a batch
 * answered with an entry fewer or in reverse order, and, at most
 * `maxTimeouts` times, an answer delayed past the client's timeout.
 */
export interface FaultMix {
  rate: number;
  seed: number;
  maxTimeouts: number;
  /** How long a "timeout" answer waits, past the client's request timeout. */
  timeoutMs: number;
}

export const MIX_FAULTS = [
  "rpc-32005",
  "rpc-32603",
  "http-500",
  "http-503",
  "http-429",
  "disconnect",
  "html",
  "cut-json",
  "null-result",
  "batch-fewer",
  "batch-reordered",
  "timeout",
] as const;
export type MixFault = (typeof MIX_FAULTS)[number];

export type CallFault =
  /** Answer eth_getBlockByNumber with another block than the one asked for (its number and hash changed). */
  | { kind: "wrong-block"; method: string; times: number }
  /** Replace the call's result by this JSON-RPC error. */
  | { kind: "rpc-error"; method: string; code: number; message: string; times: number }
  /** Drop the last element of the call's (array) result, e.g. one receipt of eth_getBlockReceipts. */
  | { kind: "drop-last"; method: string; times: number }
  /** Answer the call with a null result, as a node that is behind does. */
  | { kind: "null-result"; method: string; times: number }
  /**
   * Set one field of the call's result, by a dotted path ("transactions.1.value", "0.logs.2.data"), on calls whose
   * params start with `params` (e.g. `["0x5", true]`: block 5 with its transactions) when given: a node that
   * answers one wrong value and nothing else amiss.
   */
  | { kind: "alter"; method: string; params?: unknown[]; path: string; value: unknown; times: number };

export type Fault = RequestFault | CallFault;

/** One HTTP request as the proxy saw it. */
export interface RequestRecord {
  /** ms since the epoch when it arrived. */
  at: number;
  /** The JSON-RPC methods in it, in order (one for a single call); for a beacon API request, its path. */
  methods: string[];
  batch: boolean;
  /** The HTTP status answered, 0 for a dropped connection. */
  status: number;
  /** The fault of the mix it got, if any. */
  mixed?: MixFault;
}

export interface ScenarioLog {
  requests: RequestRecord[];
  /** How many requests got each fault of the mix. */
  mixed: Partial<Record<MixFault, number>>;
  /** Most HTTP requests in flight at once. */
  maxInFlight: number;
}

/** A fresh node started on request (for tests that change the chain, such as reorgs). */
export interface FreshNode {
  id: string;
  url: string;
  /** Present when the node was asked to be seeded with the test chain. */
  chain: SeededChain | null;
}
