/**
 * How many calls go into one HTTP request and how many requests are in
 * flight: fixed where the provider sets `rpc_batch_size` or
 * `concurrent_request_limit` (hard limits, as in the original), found by the
 * controller of src/domain/rpc-tuning.ts where it does not.
 */
import {
  type AnswerSample,
  DEFAULT_MAX_BATCH_SIZE,
  learnedTuning,
  MAX_CONNECTIONS,
  observeAnswer,
  type RpcController,
  type RpcTuning,
  startController,
  withMinBatch,
} from "../../domain/rpc-tuning";
import { AdjustableSemaphore } from "../limits";

export interface PacingSettings {
  /** rpc_batch_size when set: <= 1 single calls, else batches of exactly that many. */
  batchSize: number | null;
  /** concurrent_request_limit when set. */
  concurrency: number | null;
  /** What earlier steps of the job learned about this provider. */
  learned: RpcTuning | null;
}

export class RequestPacing {
  private controller: RpcController;
  private readonly semaphore: AdjustableSemaphore;

  constructor(private readonly settings: PacingSettings) {
    this.controller = startController(
      { maxBatchSize: DEFAULT_MAX_BATCH_SIZE, maxInFlight: Math.min(MAX_CONNECTIONS, settings.concurrency ?? MAX_CONNECTIONS), minBatchSize: 1 },
      settings.learned,
    );
    this.semaphore = new AdjustableSemaphore(() => this.inFlight());
  }

  /** True when the batch size is the controller's to choose (a refused batch is then split, not an error). */
  get adaptiveBatches(): boolean {
    return this.settings.batchSize === null;
  }

  batchSize(): number {
    return this.settings.batchSize === null ? this.controller.tuning.batchSize : Math.max(1, this.settings.batchSize);
  }

  /** The controller's generation: a request records it when it takes its calls, its answer reports it (see observe). */
  generation(): number {
    return this.controller.generation;
  }

  inFlight(): number {
    return this.settings.concurrency ?? this.controller.tuning.inFlight;
  }

  /** One HTTP request, within the requests-in-flight limit. */
  run<T>(task: () => Promise<T>): Promise<T> {
    return this.semaphore.run(task);
  }

  observe(sample: AnswerSample): void {
    if (this.settings.batchSize !== null && this.settings.concurrency !== null) return;
    this.controller = observeAnswer(this.controller, sample);
    this.semaphore.release();
  }

  /** The smallest batch that keeps the step within its subrequest budget (the controller's floor). */
  requireBatchOf(size: number): void {
    this.controller = withMinBatch(this.controller, size);
  }

  /** What this client learned, for the job's next steps; null when both settings are fixed. */
  learned(): RpcTuning | null {
    return this.settings.batchSize !== null && this.settings.concurrency !== null ? null : learnedTuning(this.controller);
  }
}
