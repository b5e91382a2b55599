/**
 * Drives a JobRunner by hand: D1 and R2 set up the way deploy does it, the
 * runner's alarm run on demand, and the consumer's part (claim, write and
 * register files, report) played with the leases the runner stored. The clock
 * is frozen with `vi.setSystemTime` (the Durable Object shares the test's
 * isolate, so it sees the same `Date`) a day ahead of real time, so no alarm
 * ever fires on its own: time moves only when a test calls `advance`.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect, vi } from "vitest";
import { jobRunnerObject } from "../../durable-objects/job-runner";
import { type RunnerState, type RunnerStep, RunnerStorage } from "../../durable-objects/runner-storage";
import type { BlockRange } from "../../src/domain/block-range";
import type { EndBlock } from "../../src/domain/end-block";
import { dumpDescriptor, type JobStatus } from "../../src/domain/job";
import { evmRpcManifest } from "../../src/domain/manifest/evm-rpc";
import { prepareManifest } from "../../src/domain/manifest/parse";
import type { StepContext, StepCoordinator, StepFile } from "../../src/domain/step-protocol";
import { parquetFileName } from "../../src/domain/parquet-file";
import { openDb } from "../../src/store/db";
import { registerFile } from "../../src/store/files";
import { listJobEvents } from "../../src/store/job-events";
import { getJob } from "../../src/store/jobs";
import { registerManifest } from "../../src/store/manifests";
import { insertProvider } from "../../src/store/providers";
import { fileObjectKey } from "../../src/store/r2-layout";
import { type JobLocation, listJobLocations, scheduleJob } from "../../src/store/scheduling";

export const db = () => openDb(env.DB);

export const BUCKET_NAME = "amp-edge-data";
export const DATASET = { namespace: "_", name: "anvil_rpc" };
/** The tables of an evm-rpc dataset, in the order `listJobLocations` returns them. */
export const TABLES = ["blocks", "logs", "transactions"];

/** Freezes the clock a day ahead of real time, where alarms never fire on their own. */
export function freezeClock(): void {
  vi.setSystemTime(Math.floor(Date.now() / 1000) * 1000 + 86_400_000);
}

export function advance(ms: number): void {
  vi.setSystemTime(Date.now() + ms);
}

export type RunnerStub = DurableObjectStub<import("../../durable-objects/job-runner").JobRunner>;

/** The runner as a consumer sees it: RPC's result types cannot express the contexts' tuples and recursive configs (see stepCoordinator). */
export function asCoordinator(stub: RunnerStub): StepCoordinator {
  return stub as unknown as StepCoordinator;
}

export interface Deployed {
  jobId: number;
  stub: RunnerStub;
  manifestHash: string;
  locations: JobLocation[];
}

export interface DeployOptions {
  endBlock: EndBlock;
  parallelism?: number;
  startBlock?: number;
  /** Register an evm-rpc provider for network anvil (default true). */
  provider?: boolean;
  /** The registered provider's url. The default is never called by tests that play the consumer's part themselves. */
  providerUrl?: string;
  /** A job a rebuild deploys: these ranges and nothing else. */
  rebuild?: BlockRange[];
}

/** What deploy does: manifest in R2 and D1, a provider, the job row with its locations; nothing started yet. */
export async function schedule(options: DeployOptions): Promise<Deployed> {
  const prepared = await prepareManifest(evmRpcManifest("anvil", { startBlock: options.startBlock ?? 0 }));
  if (!prepared.ok) throw new Error(prepared.message);
  await registerManifest(db(), env.BUCKET, { hash: prepared.hash, kind: prepared.kind, canonical: prepared.canonical });
  if (options.provider ?? true) {
    await insertProvider(db(), { name: "anvil", kind: "evm-rpc", network: "anvil", config: { url: options.providerUrl ?? "http://127.0.0.1:8545" } });
  }
  const scheduled = await scheduleJob(db(), {
    manifestHash: prepared.hash,
    datasetNamespace: DATASET.namespace,
    datasetName: DATASET.name,
    tables: TABLES,
    bucketName: BUCKET_NAME,
    descriptor: dumpDescriptor({
      endBlock: options.endBlock,
      maxWriters: options.parallelism ?? 1,
      datasetNamespace: DATASET.namespace,
      datasetName: DATASET.name,
      manifestHash: prepared.hash,
      verify: false,
      ...(options.rebuild ? { rebuild: options.rebuild } : {}),
    }),
  });
  expect(scheduled.outcome).toBe("scheduled");
  const jobId = scheduled.jobId;
  return { jobId, stub: jobRunnerObject(env.JOB_RUNNER, jobId), manifestHash: prepared.hash, locations: await listJobLocations(db(), jobId) };
}

/** Schedules a job and starts its runner with `stepSize` blocks per step. */
export async function deploy(options: DeployOptions & { stepSize?: number }): Promise<Deployed> {
  const job = await schedule(options);
  await job.stub.start(job.jobId, options.stepSize ?? 10);
  return job;
}

/** Runs the runner's alarm now (whatever time it is set for); false when none is set. */
export function fireAlarm(stub: RunnerStub): Promise<boolean> {
  return runDurableObjectAlarm(stub);
}

export function alarmAt(stub: RunnerStub): Promise<number | null> {
  return runInDurableObject(stub, (_runner, state) => state.storage.getAlarm());
}

export function runnerSteps(stub: RunnerStub): Promise<RunnerStep[]> {
  return runInDurableObject(stub, (_runner, state) => new RunnerStorage(state.storage).steps());
}

export async function runnerState(stub: RunnerStub): Promise<RunnerState> {
  const state = await runInDurableObject(stub, (_runner, state) => new RunnerStorage(state.storage).state());
  if (!state) throw new Error("the runner has no state");
  return state;
}

export async function jobRow(jobId: number) {
  const row = await getJob(db(), jobId);
  if (!row) throw new Error(`job ${jobId} has no row`);
  return row;
}

export async function jobStatus(jobId: number): Promise<JobStatus> {
  return (await jobRow(jobId)).status;
}

export async function events(jobId: number) {
  return (await listJobEvents(db(), jobId, { limit: 1000 })).items;
}

export async function eventKinds(jobId: number): Promise<string[]> {
  return (await events(jobId)).map((event) => event.kind);
}

// ---- the chain and the consumer's part ------------------------------------

/** A chain whose blocks from `forkFrom` on carry fork `fork` in their hash. */
export interface Chain {
  hash(block: number): string;
}

export function chain(fork = "a", forkFrom = 0, base?: Chain): Chain {
  return {
    hash: (block) =>
      block >= forkFrom || !base ? `0x${fork}${block.toString(16).padStart(63, "0")}` : base.hash(block),
  };
}

export const mainChain = chain();

/** Answers the pending probe with `head` and the hashes the runner asked for. */
export async function answerProbe(stub: RunnerStub, head: number | null, on: Chain = mainChain): Promise<{ blocks: readonly number[] }> {
  const probe = (await runnerState(stub)).probe;
  if (!probe) throw new Error("no probe is pending");
  const context = await asCoordinator(stub).claimProbe(probe.lease);
  if (!context) throw new Error("the probe could not be claimed");
  const hashes = Object.fromEntries(context.blocks.filter((block) => head !== null && block <= head).map((block) => [block, on.hash(block)]));
  expect(await stub.completeProbe(probe.lease, { head, hashes })).toBe(true);
  return { blocks: context.blocks };
}

/** What a consumer writes for one step: an object and a file row per table and range it still needs. */
export async function writeStepFiles(jobId: number, context: StepContext, on: Chain = mainChain): Promise<StepFile[]> {
  const written: StepFile[] = [];
  for (const table of context.tables) {
    for (const range of table.ranges) {
      written.push(await writeFile(jobId, table, range, on));
    }
  }
  return written;
}

export async function writeFile(
  jobId: number,
  table: { table: string; locationId: number; path: string; rebuildOf?: number },
  range: BlockRange,
  on: Chain = mainChain,
): Promise<StepFile> {
  const hash = on.hash(range.end);
  const prevHash = range.start === 0 ? null : on.hash(range.start - 1);
  const fileName = parquetFileName(range, hash, table.rebuildOf);
  const object = await env.BUCKET.put(fileObjectKey(table.path, fileName), `${table.table} ${range.start}..=${range.end} ${hash}`);
  if (!object) throw new Error("put failed");
  const rows = range.end - range.start + 1;
  const registered = await registerFile(db(), jobId, {
    locationId: table.locationId,
    fileName,
    rangeStart: range.start,
    rangeEnd: range.end,
    endHash: hash,
    prevHash,
    rowCount: rows,
    objectSize: object.size,
    objectETag: object.etag,
    objectVersion: object.version,
    metadata: { table: table.table, filename: fileName, ranges: [{ numbers: { start: range.start, end: range.end }, network: "anvil", hash, prev_hash: prevHash }] },
  });
  if (registered.outcome === "refused") throw new Error(`file ${fileName} was refused`);
  return { fileId: registered.id, locationId: table.locationId, fileName, range, hash, prevHash, network: "anvil", rows, bytes: object.size };
}

/** Claims a step with its current lease. */
export async function claim(stub: RunnerStub, step: RunnerStep): Promise<StepContext> {
  const context = await asCoordinator(stub).claimStep(step.id, step.lease);
  if (!context) throw new Error(`step ${step.id} could not be claimed`);
  return context;
}

/** Claims a step, writes its files and reports them: a consumer that works. */
export async function runStep(stub: RunnerStub, jobId: number, step: RunnerStep, on: Chain = mainChain): Promise<StepFile[]> {
  const context = await claim(stub, step);
  const files = await writeStepFiles(jobId, context, on);
  expect(await stub.completeStep(step.id, step.lease, { files, durationMs: 5 })).toBe(true);
  return files;
}

/** Starts the job's run: SCHEDULED → RUNNING on the first alarm, then answers its first probe. */
export async function startRunning(stub: RunnerStub, jobId: number, head: number): Promise<void> {
  await fireAlarm(stub);
  expect(await jobStatus(jobId)).toBe("RUNNING");
  await answerProbe(stub, head);
}
