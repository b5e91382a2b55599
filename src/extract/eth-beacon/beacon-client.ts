/**
 * The eth-beacon block source: the standard beacon node API's `getBlockV2`
 * (`GET {url}/eth/v2/beacon/blocks/{slot|head|finalized}`, JSON), one
 * request per slot, under the provider's limits and retry rules
 * (provider-http.ts). A slot is one row of `blocks` (slot-rows.ts).
 *
 * A 404 for a slot means the node has no block there. At or below the slot
 * of the node's head block that is a skipped slot, whatever words the client
 * puts in the body; above it the slot has not happened yet (or the node lags
 * behind its load balancer's peers), which is retryable and bounded like any
 * other transient failure. The head is read before the slots: read after,
 * it could have moved past a slot whose block arrived after its 404.
 */
import { FatalError, RetryableError, retryOptions, type RetryOptions } from "../../domain/errors";
import type { BlockRef, BlockSource, SourceChunk } from "../block-source";
import type { Semaphore } from "../limits";
import { ProviderHttp, providerLimits, type ProviderLimitSettings, isTimeout, transportError } from "../provider-http";
import { appendSlotRow, type BeaconBlock, emptyBlocksColumns, parseBeaconBlock, SKIPPED_SLOT_HASH } from "./slot-rows";

/** The eth-beacon provider fields (amp-later A.2): `url`, `concurrent_request_limit`, `rate_limit_per_minute`. */
export type EthBeaconProviderSettings = ProviderLimitSettings;

export interface EthBeaconClientOptions {
  retry?: Partial<RetryOptions>;
  /** Per HTTP request. Default 30 s. */
  requestTimeoutMs?: number;
  /** Longest Retry-After waited out inside the client. Default 60 s. */
  maxRetryAfterMs?: number;
  /** Slots fetched together (concurrently, within the limits) and yielded as one chunk. Default 32, one mainnet epoch. */
  chunkSlots?: number;
  /** The invocation's outgoing connections (invocationConnections); default: the client's own. */
  connections?: Semaphore;
}

/** What the node has at a block id: a block, or nothing (HTTP 404). */
type SlotAnswer = BeaconBlock | null;

const DEFAULT_CHUNK_SLOTS = 32;

export class EthBeaconClient implements BlockSource {
  private readonly http: ProviderHttp;
  private readonly base: URL;
  private readonly chunkSlots: number;

  constructor(provider: EthBeaconProviderSettings, options: EthBeaconClientOptions = {}) {
    const limits = providerLimits(provider);
    this.base = new URL(limits.url);
    this.chunkSlots = options.chunkSlots ?? DEFAULT_CHUNK_SLOTS;
    if (!Number.isInteger(this.chunkSlots) || this.chunkSlots < 1) throw new RangeError("chunkSlots must be an integer >= 1");
    this.http = new ProviderHttp(limits.url, {
      ...limits,
      ...(options.connections === undefined ? {} : { connections: options.connections }),
      retry: retryOptions(options.retry),
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
    });
  }

  /** A beacon node has nothing to tune: nothing to carry to the next steps. */
  hints(): null {
    return null;
  }

  /** HTTP requests sent so far. */
  get requests(): number {
    return this.http.requests;
  }

  /** The slot of the node's `head` (or `finalized`) block; null when it has none (404). */
  async head(finalized: boolean): Promise<number | null> {
    const block = await this.fetchBlock(finalized ? "finalized" : "head");
    return block === null ? null : block.slot;
  }

  /** The state roots of the given slots (zeros for a skipped slot); slots above the node's head are left out. */
  async blockHashes(slots: readonly number[]): Promise<Map<number, string>> {
    const head = await this.head(false);
    const answers = await Promise.all(slots.map((slot) => this.fetchBlock(slot)));
    const hashes = new Map<number, string>();
    slots.forEach((slot, i) => {
      const block = answers[i]!;
      if (block !== null) hashes.set(slot, block.stateRoot);
      else if (head !== null && slot <= head) hashes.set(slot, SKIPPED_SLOT_HASH);
    });
    return hashes;
  }

  /** Slots `start..=end` in chunks of consecutive slots, in order, every slot once (skipped ones as rows of nulls). */
  async *blocks(start: number, end: number): AsyncGenerator<SourceChunk> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
      throw new RangeError(`invalid slot range ${start}..=${end}`);
    }
    for (let from = start; from <= end; from += this.chunkSlots) {
      const slots = Array.from({ length: Math.min(end, from + this.chunkSlots - 1) - from + 1 }, (_, i) => from + i);
      // One head read per chunk tells skipped slots from slots still to come.
      const head = await this.head(false);
      const answers = await Promise.all(slots.map((slot) => this.fetchBlock(slot)));
      yield chunkOf(slots, answers, head, this.http.host);
    }
  }

  /** `getBlockV2` for a slot or a named block, with retries; null on 404. */
  private fetchBlock(id: number | "head" | "finalized"): Promise<SlotAnswer> {
    const url = this.blockUrl(id);
    const init = { method: "GET", headers: { accept: "application/json" } };
    return this.http.retrying(() => this.http.request(url, init, (response) => this.answerOf(response, id)));
  }

  private async answerOf(response: Response, id: number | "head" | "finalized"): Promise<SlotAnswer> {
    const host = this.http.host;
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok) {
      const detail = await response.text().catch(() => "");
      throw new FatalError("http_rejected", `HTTP ${response.status} from ${host} for block ${id}: ${detail.slice(0, 200)}`);
    }
    let payload: unknown;
    try {
      payload = await response.json();
    } catch (error) {
      if (isTimeout(error)) throw transportError(error, `reading the response of ${host}`);
      throw new RetryableError("invalid_response", `${host} answered block ${id} with a body that is not JSON`, { cause: error });
    }
    return parseBeaconBlock(payload, typeof id === "number" ? id : null, host);
  }

  /** `{url}/eth/v2/beacon/blocks/{id}`: one slash between the provider's path and ours, its query string kept. */
  private blockUrl(id: number | "head" | "finalized"): string {
    const url = new URL(this.base);
    url.pathname = `${url.pathname.replace(/\/+$/, "")}/eth/v2/beacon/blocks/${id}`;
    return url.toString();
  }
}

function chunkOf(slots: readonly number[], answers: readonly SlotAnswer[], head: number | null, host: string): SourceChunk {
  const lastMissing = slots.findLast((_, i) => answers[i] === null);
  if (lastMissing !== undefined && (head === null || lastMissing > head)) {
    throw new RetryableError("block_not_available", `slot ${lastMissing} is not available from ${host} (its head block is at slot ${head ?? "none"})`);
  }
  const columns = emptyBlocksColumns();
  const blocks: BlockRef[] = slots.map((slot, i) => appendSlotRow(columns, slot, answers[i]!));
  return { blocks, tables: { blocks: columns } };
}
