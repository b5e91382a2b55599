import { FatalError, RetryableError, retryOptions, type RetryOptions } from "../../domain/errors";
import { toQuantity } from "../../domain/hex";
import { type Semaphore, sleep } from "../limits";
import { chunkBlocksFor, chunksAheadFor, nextDensity, parseDensity } from "../../domain/chunk-sizing";
import { minBatchForBudget, parseTuning, type RpcTuning } from "../../domain/rpc-tuning";
import type { SourceHints } from "../../domain/step-protocol";
import { providerLimits, type ProviderLimitSettings } from "../provider-http";
import { RequestPacing } from "./pacing";
import { BlockVerificationError, verificationFailure } from "./block-verification";
import { emptyColumns, rowCounts, truncateColumns, type EvmRpcColumns } from "./columns";
import { type AnswerTally, JsonRpcTransport, MethodNotSupportedError, type RpcCall } from "./json-rpc";
import type { BlockRef, BlockSource, SourceChunk, SourceOptions } from "../block-source";
import { appendBlockRows, BlockInvalidError } from "./rows";

/** The evm-rpc provider fields of reference §5.8 that shape fetching. */
export interface EvmRpcProviderSettings extends ProviderLimitSettings {
  /** <= 1: one call per HTTP request; > 1: JSON-RPC batches of this many calls. Unset: found by the client. */
  rpc_batch_size?: number;
  /** Receipts by eth_getTransactionReceipt per transaction instead of eth_getBlockReceipts. Default false. */
  fetch_receipts_per_tx?: boolean;
}

export interface EvmRpcClientOptions {
  retry?: Partial<RetryOptions>;
  /** Per HTTP request. Default 30 s. */
  requestTimeoutMs?: number;
  /** Longest Retry-After waited out inside the client. Default 60 s. */
  maxRetryAfterMs?: number;
  /**
   * Blocks fetched and converted together, fixed. Default: sized by the bytes
   * of the answers (src/domain/chunk-sizing.ts), at most rpc_batch_size * 10
   * when batched, 100 unbatched, 500 when the client finds the batch size.
   */
  chunkBlocks?: number;
  /** What earlier steps of the job learned about the provider (see learned()). */
  learned?: RpcTuning | null;
  /** Answer bytes per block that earlier steps of the job measured (see hints()). */
  bytesPerBlock?: number | null;
  /** HTTP requests the client may send at most; default no limit. */
  requestBudget?: number | null;
  /** The invocation's outgoing connections (invocationConnections); default: the client's own. */
  connections?: Semaphore;
  /**
   * Deploy's `verify`: check every block against its hash and roots before its rows are handed out
   * (block-verification.ts); a block that fails is fetched once more, failing again is fatal. Default false.
   */
  verify?: boolean;
}

/** A chunk with evm-rpc's typed columns; the step runner sees it as a SourceChunk. */
export interface ExtractedChunk extends SourceChunk {
  tables: EvmRpcColumns;
}

/** A chunk's blocks and receipts as the node sent them, not yet checked or turned into rows. */
interface FetchedChunk {
  numbers: number[];
  blocks: unknown[];
  receipts: unknown[][];
  /** Bytes of the answers. */
  bytes: number;
}

const DEFAULT_UNBATCHED_CHUNK = 100;
const DEFAULT_ADAPTIVE_CHUNK = 500;

/**
 * Fetches blocks with their receipts from an Ethereum JSON-RPC node and
 * turns them into rows (see rows.ts). Receipts come from eth_getBlockReceipts,
 * or per transaction when the provider says so or the node does not know
 * eth_getBlockReceipts (then for the rest of this client's life). A block
 * whose data does not add up (reference §5.2 validation) is fetched once
 * more; failing again is fatal. A block or receipts the node answers null
 * for are retryable: the node is behind.
 */
export class EvmRpcClient implements BlockSource {
  private readonly transport: JsonRpcTransport;
  private receiptsPerTx: boolean;
  /** Fixed blocks per chunk, or null: sized by the answers' bytes, up to maxChunkBlocks. */
  private readonly fixedChunkBlocks: number | null;
  private readonly maxChunkBlocks: number;
  /** rpc_batch_size when set (1 for single calls), else 1. */
  private readonly explicitBatchSize: number;
  /** Answer bytes per block measured so far (this step's chunks and the job's earlier steps). */
  private bytesPerBlock: number | null;
  /** Bytes of answers fetched and not yet turned into rows. */
  private heldAnswerBytes = 0;
  private readonly pacing: RequestPacing;
  private readonly requestBudget: number | null;
  private readonly verify: boolean;

  constructor(provider: EvmRpcProviderSettings, options: EvmRpcClientOptions = {}) {
    const limits = providerLimits(provider);
    const settings = validateSettings(provider);
    this.receiptsPerTx = settings.fetchReceiptsPerTx;
    this.fixedChunkBlocks = options.chunkBlocks ?? null;
    this.maxChunkBlocks =
      options.chunkBlocks ??
      (settings.batchSize === null ? DEFAULT_ADAPTIVE_CHUNK : settings.batchSize > 1 ? settings.batchSize * 10 : DEFAULT_UNBATCHED_CHUNK);
    if (!Number.isInteger(this.maxChunkBlocks) || this.maxChunkBlocks < 1) throw new RangeError(`chunkBlocks must be an integer >= 1`);
    this.bytesPerBlock = options.bytesPerBlock ?? null;
    this.explicitBatchSize = Math.max(1, settings.batchSize ?? 1);
    this.pacing = new RequestPacing({
      batchSize: settings.batchSize,
      concurrency: provider.concurrent_request_limit ?? null,
      learned: options.learned ?? null,
    });
    this.requestBudget = options.requestBudget ?? null;
    this.verify = options.verify ?? false;
    this.transport = new JsonRpcTransport({
      url: limits.url,
      rateLimiter: limits.rateLimiter,
      pacing: this.pacing,
      requestBudget: this.requestBudget,
      ...(options.connections === undefined ? {} : { connections: options.connections }),
      retry: retryOptions(options.retry),
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
    });
  }

  /** What the client found about its provider, for the next client of the same job; null when its settings fix everything. */
  learned(): RpcTuning | null {
    return this.pacing.learned();
  }

  /** What the job's next steps start from: the tuning found, and the answer bytes per block measured. */
  hints(): SourceHints | null {
    const tuning = this.learned();
    const hints = { ...(tuning === null ? {} : { tuning }), ...(this.bytesPerBlock === null ? {} : { bytesPerBlock: Math.round(this.bytesPerBlock) }) };
    return Object.keys(hints).length === 0 ? null : hints;
  }

  /** HTTP requests sent so far. */
  get requests(): number {
    return this.transport.requests;
  }

  /** The number of the chain head (`finalized` or `latest`), null when the node has none. */
  async head(finalized: boolean): Promise<number | null> {
    const block = await this.transport.call("eth_getBlockByNumber", [finalized ? "finalized" : "latest", false]);
    if (block === null) return null;
    const number = (block as { number?: unknown } | undefined)?.number;
    if (typeof number !== "string") throw new RetryableError("invalid_response", "the head block has no number");
    return Number(BigInt(number));
  }

  /**
   * The hashes (0x + lowercase hex) of the given blocks, by number, as the
   * node sees them now: for checking files against the chain (reorgs).
   * Blocks the node does not have are left out.
   */
  async blockHashes(numbers: readonly number[]): Promise<Map<number, string>> {
    const blocks = await this.transport.callAll(
      numbers.map((number) => ({ method: "eth_getBlockByNumber", params: [toQuantity(number), false] })),
    );
    const hashes = new Map<number, string>();
    blocks.forEach((block, i) => {
      if (block === null || block === undefined) return;
      const { hash, number } = block as { hash?: unknown; number?: unknown };
      if (typeof hash !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(hash)) {
        throw new RetryableError("invalid_response", `block ${numbers[i]} came without a valid hash`);
      }
      // Another block's hash would pass for this one's: a false reorg, or a file named after the wrong block.
      if (typeof number !== "string" || !/^0x[0-9a-fA-F]+$/.test(number) || Number(number) !== numbers[i]) {
        throw new RetryableError("invalid_response", `block ${numbers[i]}: the node returned block ${String(number)}`);
      }
      hashes.set(numbers[i]!, hash.toLowerCase());
    });
    return hashes;
  }

  /**
   * Blocks `start..=end` in chunks of consecutive blocks, in order. Chunks
   * are sized by the bytes of the node's answers (about CHUNK_ANSWER_BYTES
   * each at the density measured so far), and the requests of the next
   * chunks (as many as fit AHEAD_ANSWER_BYTES) go out before this one is
   * turned into rows, so the node works on them while rows are built and the
   * caller uses them. A chunk's answers are let go once its rows are built.
   */
  async *blocks(start: number, end: number): AsyncGenerator<ExtractedChunk> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
      throw new RangeError(`invalid block range ${start}..=${end}`);
    }
    // Requests of a chunk carry at most its blocks: a step within a small subrequest budget needs chunks of that many at least.
    let minChunkBlocks = 1;
    if (this.requestBudget !== null) {
      minChunkBlocks = minBatchForBudget(end - start + 1, this.requestBudget - this.transport.requests);
      this.pacing.requireBatchOf(minChunkBlocks);
    }
    const ahead: Promise<FetchedChunk>[] = [];
    let from = start;
    const fetchAhead = () => {
      const blocks =
        this.fixedChunkBlocks ??
        Math.min(this.maxChunkBlocks, Math.max(minChunkBlocks, chunkBlocksFor(this.bytesPerBlock, this.maxChunkBlocks, this.explicitBatchSize)));
      const depth = this.fixedChunkBlocks === null ? chunksAheadFor(this.bytesPerBlock, blocks) : 1;
      while (ahead.length < depth && from <= end) {
        const last = Math.min(end, from + blocks - 1);
        ahead.push(this.fetchChunk(from, last));
        from = last + 1;
      }
    };
    try {
      fetchAhead();
      while (ahead.length > 0) {
        let current: FetchedChunk | null = await ahead.shift()!;
        fetchAhead();
        // Building rows is long synchronous work: let the next chunks' requests out first.
        if (ahead.length > 0) await sleep(0);
        const answerBytes = this.heldAnswerBytes;
        const chunk = await this.rowsOf(current);
        this.heldAnswerBytes -= current.bytes;
        // Not held while the caller encodes the rows: the parsed answers can go.
        current = null;
        yield { ...chunk, answerBytes };
      }
    } finally {
      // The caller stopped early: nobody awaits the prefetches, so their failures must not go unhandled.
      for (const pending of ahead) pending.catch(() => undefined);
    }
  }

  private async fetchChunk(first: number, last: number): Promise<FetchedChunk> {
    const numbers = Array.from({ length: last - first + 1 }, (_, i) => first + i);
    const tally: AnswerTally = { bytes: 0 };
    const blocks = await this.fetchBlockObjects(numbers, tally);
    const receipts = await this.fetchReceipts(numbers, blocks, tally);
    this.bytesPerBlock = nextDensity(this.bytesPerBlock, { blocks: numbers.length, bytes: tally.bytes });
    this.heldAnswerBytes += tally.bytes;
    return { numbers, blocks, receipts, bytes: tally.bytes };
  }

  private async rowsOf({ numbers, blocks, receipts }: FetchedChunk): Promise<ExtractedChunk> {
    const firstTry = buildChunk(numbers, blocks, receipts, this.verify);
    if (firstTry.invalid.length === 0) return firstTry.chunk;
    // Second chance for the blocks that failed validation (a reorg between the
    // block and receipt calls, a lagging node behind a load balancer).
    for (const i of firstTry.invalid) {
      [blocks[i]] = await this.fetchBlockObjects([numbers[i]!]);
      receipts[i] = (await this.fetchReceipts([numbers[i]!], [blocks[i]]))[0]!;
    }
    const secondTry = buildChunk(numbers, blocks, receipts, this.verify);
    const stillInvalid = secondTry.errors[0];
    if (stillInvalid !== undefined) {
      const reason = stillInvalid instanceof BlockVerificationError ? "verification_failed" : "block_invalid_twice";
      throw new FatalError(reason, `${stillInvalid.message} (again after fetching it a second time)`, { cause: stillInvalid });
    }
    return secondTry.chunk;
  }

  /** Full blocks; a block the node does not have (yet) is retryable. */
  private async fetchBlockObjects(numbers: readonly number[], tally?: AnswerTally): Promise<unknown[]> {
    const blocks = await this.transport.callAll(
      numbers.map((number) => ({ method: "eth_getBlockByNumber", params: [toQuantity(number), true] })),
      tally,
    );
    blocks.forEach((block, i) => {
      if (block === null || block === undefined) {
        throw new RetryableError("block_not_available", `block ${numbers[i]} is not available from the provider`);
      }
    });
    return blocks;
  }

  /** Receipts per block, in transaction order; empty blocks cost no request. */
  private async fetchReceipts(numbers: readonly number[], blocks: readonly unknown[], tally?: AnswerTally): Promise<unknown[][]> {
    if (!this.receiptsPerTx) {
      try {
        return await this.fetchBlockReceipts(numbers, blocks, tally);
      } catch (error) {
        if (!(error instanceof MethodNotSupportedError && error.method === "eth_getBlockReceipts")) throw error;
        this.receiptsPerTx = true;
      }
    }
    return this.fetchReceiptsPerTx(numbers, blocks, tally);
  }

  private async fetchBlockReceipts(numbers: readonly number[], blocks: readonly unknown[], tally?: AnswerTally): Promise<unknown[][]> {
    const wanted = blocks.map((block) => transactionsOf(block).length > 0);
    const calls: RpcCall[] = [];
    numbers.forEach((number, i) => {
      if (wanted[i]) calls.push({ method: "eth_getBlockReceipts", params: [toQuantity(number)] });
    });
    const results = calls.length > 0 ? await this.transport.callAll(calls, tally) : [];
    let next = 0;
    return wanted.map((want, i) => {
      if (!want) return [];
      const receipts = results[next++];
      if (receipts === null || receipts === undefined) throw receiptsNotAvailable(numbers[i]!);
      if (!Array.isArray(receipts)) throw new RetryableError("invalid_response", `the receipts of block ${numbers[i]} are not an array`);
      return receipts.slice().sort(byTransactionIndex);
    });
  }

  private async fetchReceiptsPerTx(numbers: readonly number[], blocks: readonly unknown[], tally?: AnswerTally): Promise<unknown[][]> {
    // Transactions without a hash get no call: the missing receipt fails validation.
    const hashes = blocks.map((block) =>
      transactionsOf(block)
        .map((tx) => (tx as { hash?: unknown } | null)?.hash)
        .filter((hash): hash is string => typeof hash === "string"),
    );
    const calls = hashes.flat().map((hash) => ({ method: "eth_getTransactionReceipt", params: [hash] }));
    const results = calls.length > 0 ? await this.transport.callAll(calls, tally) : [];
    let next = 0;
    return hashes.map((blockHashes, i) =>
      blockHashes.map(() => {
        const receipt = results[next++];
        if (receipt === null || receipt === undefined) throw receiptsNotAvailable(numbers[i]!);
        return receipt;
      }),
    );
  }
}

/**
 * A node that has the block but answers null for its receipts is behind (a
 * lagging node behind a load balancer): the step is tried again later, as for
 * a block the node does not have. Taken as a block with no receipts, it would
 * be refused twice in a row by a node lagging for a few seconds, and fail the job.
 */
function receiptsNotAvailable(block: number): RetryableError {
  return new RetryableError("block_not_available", `the receipts of block ${block} are not available from the provider`);
}

/** A step's source options as this client's: the hints are what hints() returned in an earlier step. */
export function evmRpcSourceOptions(options: SourceOptions): EvmRpcClientOptions {
  return {
    learned: parseTuning(options.hints?.tuning),
    bytesPerBlock: parseDensity(options.hints?.bytesPerBlock),
    requestBudget: options.requestBudget,
    verify: options.verify,
    ...(options.connections === undefined ? {} : { connections: options.connections }),
  };
}

/** Rows of all the blocks in order; blocks that fail validation (or, with `verify`, verification) are left out and reported. */
function buildChunk(
  numbers: readonly number[],
  blocks: readonly unknown[],
  receipts: readonly unknown[][],
  verify: boolean,
): { chunk: ExtractedChunk; invalid: number[]; errors: BlockInvalidError[] } {
  const tables = emptyColumns();
  const refs: BlockRef[] = [];
  const invalid: number[] = [];
  const errors: BlockInvalidError[] = [];
  numbers.forEach((number, i) => {
    const before = rowCounts(tables);
    try {
      const ref = appendBlockRows(tables, number, blocks[i], receipts[i]!);
      // Verified after the rows are built, so a malformed answer gets the validation's message.
      const unverified = verify ? verificationFailure(number, blocks[i], receipts[i]!) : null;
      if (unverified !== null) {
        truncateColumns(tables, before);
        throw unverified;
      }
      refs.push(ref);
    } catch (error) {
      if (!(error instanceof BlockInvalidError)) throw error;
      invalid.push(i);
      errors.push(error);
    }
  });
  return { chunk: { blocks: refs, tables }, invalid, errors };
}

function transactionsOf(block: unknown): unknown[] {
  const transactions = (block as { transactions?: unknown } | null)?.transactions;
  return Array.isArray(transactions) ? transactions : [];
}

function byTransactionIndex(a: unknown, b: unknown): number {
  return indexOf(a) - indexOf(b);
}

function indexOf(receipt: unknown): number {
  const index = (receipt as { transactionIndex?: unknown } | null)?.transactionIndex;
  return typeof index === "string" ? Number(index) : Number.NaN;
}

interface ValidSettings {
  /** Null: the client finds it. */
  batchSize: number | null;
  fetchReceiptsPerTx: boolean;
}

/** Settings outside their domain are a fatal configuration error, not something to retry. */
function validateSettings(provider: EvmRpcProviderSettings): ValidSettings {
  const batchSize = provider.rpc_batch_size ?? null;
  if (batchSize !== null && (!Number.isInteger(batchSize) || batchSize < 0)) throw new FatalError("invalid_provider", "rpc_batch_size must be an integer >= 0");
  return { batchSize, fetchReceiptsPerTx: provider.fetch_receipts_per_tx === true };
}
