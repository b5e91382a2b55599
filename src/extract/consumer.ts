/**
 * The queue consumer's side of a step: claim it from the job's runner, run
 * the extraction, register each file in D1 (its object is already complete in
 * R2), then report. A step delivered twice writes the same object keys and the
 * registration ignores rows that exist, so it leaves one file and one row.
 */
import type { AtPhase, StepPhase } from "../domain/crash-points";
import { classifyError, FatalError } from "../domain/errors";
import type { VariableSource } from "../domain/provider";
import { datasetKind } from "../domain/dataset-kinds/registry";
import type { ProbeContext, StepContext, StepCoordinator, StepFile, StepMessage, StepResult } from "../domain/step-protocol";
import { WORKER_HEARTBEAT_MS, type WorkerMetadata } from "../domain/worker";
import type { Db } from "../store/db";
import { registerFile } from "../store/files";
import { heartbeatWorker, registerWorker } from "../store/workers";
import type { BlockSource } from "./block-source";
import { blockSourceFor } from "./block-sources";
import { renewWhileWorking } from "./claim-renewal";
import type { Semaphore } from "./limits";
import { runExtractStep } from "./step-runner";

export interface ConsumerDeps {
  db: Db;
  bucket: R2Bucket;
  /** Vars and secrets for `${VAR}` placeholders in provider configs. */
  variables: VariableSource;
  /** This executor's worker identity. */
  worker: { nodeId: string; metadata: WorkerMetadata };
  /** The runner of a job. */
  coordinator(jobId: number): StepCoordinator;
  /** HTTP requests each step may send to its provider (its share of the invocation's subrequests); null: no limit. */
  requestBudget: number | null;
  /**
   * The source of a kind that reads other datasets instead of a provider (derived): the derive layer's,
   * handed in by src/index.ts, so this layer never imports the SQL engine.
   */
  datasetSource(context: ProbeContext | StepContext): BlockSource;
  /** The invocation's outgoing connections (invocationConnections), shared by the steps of its batch. */
  connections: Semaphore;
  /** Reached between the step's effects (src/domain/crash-points.ts): `ignorePhase` but in the crash campaign. */
  atPhase: AtPhase;
}

let registeredAt = 0;
let lastHeartbeat = 0;

/** Registers this executor on its first message and refreshes its heartbeat as it works. */
async function heartbeat(deps: ConsumerDeps): Promise<void> {
  const now = Date.now();
  if (registeredAt === 0) {
    await registerWorker(deps.db, deps.worker.nodeId, deps.worker.metadata);
    registeredAt = lastHeartbeat = now;
  } else if (now - lastHeartbeat >= WORKER_HEARTBEAT_MS) {
    lastHeartbeat = now;
    await heartbeatWorker(deps.db, deps.worker.nodeId);
  }
}

/** The source the job's runner chose for it: its provider's client, or its dependencies for a kind that reads no provider. */
function sourceFor(deps: ConsumerDeps, context: ProbeContext | StepContext): BlockSource {
  if (datasetKind(context.datasetKind).providerKind === null) return deps.datasetSource(context);
  if (context.provider === null) throw new FatalError("invalid_provider", `job ${context.jobId} has no provider to read ${context.datasetKind} blocks from`);
  const step = "sourceHints" in context ? context : null;
  // A probe reads heads and hashes only: nothing of it becomes rows, so there is nothing to verify.
  return blockSourceFor(context.provider, deps.variables, {
    hints: step?.sourceHints ?? null,
    requestBudget: deps.requestBudget,
    verify: step?.verify ?? false,
    connections: deps.connections,
  });
}

function failureOf(error: unknown) {
  const classified = classifyError(error);
  return { reason: classified.message, error: classified.reason, retryable: classified.retryable };
}

export async function handleStepMessage(message: StepMessage, deps: ConsumerDeps): Promise<void> {
  const coordinator = deps.coordinator(message.jobId);
  if (message.kind === "probe") {
    const context = await coordinator.claimProbe(message.lease);
    if (!context) return;
    let result: Awaited<ReturnType<typeof probe>>;
    try {
      result = await probe(deps, context);
    } catch (error) {
      await coordinator.failProbe(message.lease, failureOf(error));
      return;
    }
    // Not inside the try: a report the runner did not take (it restarted) is no failed head read; the
    // message is retried and reads the head again under the same lease.
    await coordinator.completeProbe(message.lease, result);
    return;
  }
  const context = await coordinator.claimStep(message.stepId, message.lease);
  if (!context) return;
  await heartbeat(deps);
  const renewal = renewWhileWorking(() => Promise.all([coordinator.renewStep(message.stepId, message.lease), heartbeat(deps)]));
  try {
    await runClaimedStep(deps, coordinator, message.stepId, message.lease, context);
  } finally {
    renewal.stop();
  }
}

async function runClaimedStep(deps: ConsumerDeps, coordinator: StepCoordinator, stepId: number, lease: string, context: StepContext): Promise<void> {
  const started = Date.now();
  const atPhase: StepPhase = (point, table) => deps.atPhase(point, { jobId: context.jobId, ...(table === undefined ? {} : { table }) });
  let extracted: Extracted;
  try {
    extracted = await extract(deps, context, atPhase);
  } catch (error) {
    await coordinator.failStep(stepId, lease, failureOf(error));
    return;
  }
  await heartbeat(deps);
  await atPhase("step:before-report");
  await coordinator.completeStep(stepId, lease, { ...extracted, durationMs: Date.now() - started });
}

async function probe(deps: ConsumerDeps, context: ProbeContext) {
  const client = sourceFor(deps, context);
  const head = await client.head(context.finalizedOnly);
  const wanted = head === null ? [] : context.blocks.filter((block) => block <= head);
  const hashes = Object.fromEntries(await client.blockHashes(wanted));
  return { head, hashes };
}

type Extracted = Omit<StepResult, "durationMs">;

async function extract(deps: ConsumerDeps, context: StepContext, atPhase: StepPhase): Promise<Extracted> {
  const client = sourceFor(deps, context);
  const { files: written, heldBytes } = await runExtractStep({
    client,
    kindTables: context.kindTables,
    bucket: deps.bucket,
    network: context.network,
    range: context.range,
    tables: context.tables,
    atPhase,
  });
  const files: StepFile[] = [];
  for (const file of written) {
    const registered = await registerFile(deps.db, context.jobId, {
      locationId: file.locationId,
      fileName: file.fileName,
      rangeStart: file.range.start,
      rangeEnd: file.range.end,
      endHash: file.hash,
      prevHash: file.prevHash,
      rowCount: file.rows,
      objectSize: file.bytes,
      objectETag: file.etag,
      objectVersion: file.version,
      metadata: { ...file.metadata },
    });
    await atPhase("step:file-registered", file.table);
    // The job lost its write lock or ended. Its object is left to the next job's
    // consistency check: deleting it here could remove a new writer's object of the same name.
    if (registered.outcome === "refused") continue;
    files.push({
      fileId: registered.id,
      locationId: file.locationId,
      fileName: file.fileName,
      range: file.range,
      hash: file.hash,
      prevHash: file.prevHash,
      network: context.network,
      rows: file.rows,
      bytes: file.bytes,
    });
  }
  return { files, heldBytes, requests: client.requests, ...(client.hints() ? { sourceHints: client.hints()! } : {}) };
}
