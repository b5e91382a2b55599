/**
 * The contract between a job's JobRunner and the queue consumers that run its
 * steps. A step is one block range for all tables of a dataset; a probe asks
 * the provider for its chain head and for the hashes of a few blocks. Every
 * message carries a lease: a consumer whose lease is no longer current (the
 * step was handed out again, or the job stopped) drops its work.
 */
import type { BlockRange } from "./block-range";
import type { KindTable } from "./dataset-kinds/kind-definition";
import type { ErrorReason } from "./errors";
import type { DatasetKind } from "./manifest/kinds";
import type { ProviderKind } from "./provider/types";

/**
 * The provider a job's runner chose, as registered (`${VAR}` placeholders
 * unresolved; each consumer resolves them against its own vars). Its config
 * is plain JSON: RPC's types cannot carry the recursive ProviderConfig.
 */
export interface JobProvider {
  readonly name: string;
  readonly kind: ProviderKind;
  readonly network: string;
  readonly config: Readonly<Record<string, unknown>>;
}

/**
 * A dataset a job reads instead of a provider (a derived dataset's
 * dependency), pinned to the manifest its revision named when the job
 * started, so every step reads the same one.
 */
export interface PinnedDependency {
  readonly namespace: string;
  readonly name: string;
  readonly hash: string;
}

/** What a step or probe reads its blocks from: the job's provider, or the datasets its kind reads instead. */
export interface StepSourceContext {
  readonly jobId: number;
  readonly manifestHash: string;
  readonly datasetKind: DatasetKind;
  /** The job's provider as registered; null for a kind that reads no provider. */
  readonly provider: JobProvider | null;
  /** The datasets the job reads by alias, pinned; empty for a kind that reads a provider. */
  readonly dependencies: Readonly<Record<string, PinnedDependency>>;
  readonly network: string;
  /** The first block of the job. */
  readonly startBlock: number;
}

export type StepMessage =
  | { readonly kind: "extract"; readonly jobId: number; readonly stepId: number; readonly lease: string }
  | { readonly kind: "probe"; readonly jobId: number; readonly lease: string };

/**
 * What a block source learned about its provider in one step (for evm-rpc:
 * the batch size and requests in flight it settled on, the bytes per block),
 * plain JSON the runner keeps per provider in the job's state and hands to
 * the job's next steps, so they start from it. Only the kind's source reads it.
 */
export type SourceHints = Readonly<Record<string, unknown>>;

/** Where one table of a step writes, and which of the step's blocks it still needs. */
export interface StepTable {
  readonly table: string;
  readonly locationId: number;
  /** The location's path, `<dataset_name>/<table>/<revision>/`. */
  readonly path: string;
  /** Blocks of the step range this table still needs (a table may already have some). */
  readonly ranges: readonly BlockRange[];
  /** The invalidation whose blocks the files rebuild, which their names carry; absent when none covers them. */
  readonly rebuildOf?: number;
}

/** What a consumer needs to know to run one extract step. */
export interface StepContext extends StepSourceContext {
  readonly stepId: number;
  readonly attempt: number;
  readonly range: BlockRange;
  /** The tables of the job's kind, with the columns of their files. */
  readonly kindTables: readonly KindTable[];
  readonly finalizedOnly: boolean;
  /** Check each fetched block (header hash, transactions and receipts roots, logs bloom) before writing it. */
  readonly verify: boolean;
  readonly tables: readonly StepTable[];
  /** What the job's earlier steps learned about its provider; null before the first report. */
  readonly sourceHints: SourceHints | null;
}

/** What a consumer needs to know to run a probe. */
export interface ProbeContext extends StepSourceContext {
  readonly finalizedOnly: boolean;
  /** Blocks whose hashes the runner wants, to check its files against the node. */
  readonly blocks: readonly number[];
}

/** A Parquet file a step wrote and registered. */
export interface StepFile {
  readonly fileId: number;
  readonly locationId: number;
  readonly fileName: string;
  readonly range: BlockRange;
  readonly hash: string;
  readonly prevHash: string | null;
  readonly network: string;
  readonly rows: number;
  readonly bytes: number;
}

export interface StepResult {
  readonly files: readonly StepFile[];
  readonly durationMs: number;
  /** What the step's source learned, for the next steps; absent when it learned nothing. */
  readonly sourceHints?: SourceHints;
  /** The most bytes the step held at once (answers, rows, encoded Parquet), by its own account. */
  readonly heldBytes?: number;
  /** HTTP requests the step sent to its provider. */
  readonly requests?: number;
}

export interface StepFailure {
  readonly reason: string;
  /** The class of the failure (`rate_limited`, `timeout`, …), a stable label for metrics. */
  readonly error: ErrorReason;
  readonly retryable: boolean;
}

export interface ProbeResult {
  /** The provider's head (finalized head for finalized-only datasets); null when it has no blocks. */
  readonly head: number | null;
  /** Hashes of the requested blocks that are at or below the head. */
  readonly hashes: Readonly<Record<number, string>>;
}

/**
 * What the JobRunner offers the consumers. Each call answers false or null
 * when the lease is not current: the consumer then drops its work.
 */
export interface StepCoordinator {
  /** Null when the lease is not current, the step is waiting for a retry, or the job is not RUNNING. */
  claimStep(stepId: number, lease: string): Promise<StepContext | null>;
  /**
   * The reported files always count while the job has not ended. True when
   * this report completed the step: its current lease, or an expired one
   * whose files leave none of the step's blocks missing. False when the step
   * was already completed (a duplicate report) or still has work to do.
   */
  completeStep(stepId: number, lease: string, result: StepResult): Promise<boolean>;
  /**
   * The consumer still works on the step: its claim runs for another run
   * lease from now. False when the lease is no longer current (the step was
   * handed out again, completed, or the job ended): the work is then wasted.
   */
  renewStep(stepId: number, lease: string): Promise<boolean>;
  failStep(stepId: number, lease: string, failure: StepFailure): Promise<boolean>;
  claimProbe(lease: string): Promise<ProbeContext | null>;
  completeProbe(lease: string, result: ProbeResult): Promise<boolean>;
  failProbe(lease: string, failure: StepFailure): Promise<boolean>;
}
