/**
 * The end-to-end job tests' side of the HTTP API: register a provider and a
 * dataset of the test's own, deploy, poll a job until it settles (real alarms
 * and real queue deliveries, so real but bounded waits), and read back what
 * the job wrote, from D1 through the API and from R2 directly.
 *
 * Storage is shared by every test of the project (see vitest.e2e.config.ts),
 * so each test takes a network of its own: its manifest, hence its manifest
 * hash, locations and jobs, and its provider are its alone.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import { type JobRunner, jobRunnerObject } from "../../durable-objects/job-runner";
import { type RunnerStep, RunnerStorage } from "../../durable-objects/runner-storage";
import { EVM_RPC_TABLE_NAMES } from "../../src/domain/dataset-kinds/evm-rpc";
import { dumpDescriptor } from "../../src/domain/job";
import { evmRpcManifest } from "../../src/domain/manifest/evm-rpc";
import { prepareManifest } from "../../src/domain/manifest/parse";
import type { NozzleMetadata } from "../../src/domain/parquet-file";
import { readParquetFooter, readParquetRows } from "../../src/parquet";
import { openDb } from "../../src/store/db";
import { scheduleJob } from "../../src/store/scheduling";
import type { TableProgress } from "../../src/api/progress";
import { fetchWorker } from "../support/workerd/fetch-worker";

const ADMIN = { authorization: "Bearer test-admin-token" };
const JSON_TYPE = { "content-type": "application/json" };

/** The step size the project binds as AMP_STEP_SIZE. */
export const STEP_SIZE = 10;
export const TABLES = ["blocks", "logs", "transactions"] as const;
export type TableName = (typeof TABLES)[number];

export function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetchWorker(path, { ...init, headers: { ...ADMIN, ...(init.headers as Record<string, string> | undefined) } });
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await api(path);
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export function postJson(path: string, body: unknown): Promise<Response> {
  return api(path, { method: "POST", headers: JSON_TYPE, body: JSON.stringify(body) });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let counter = 0;
/** A name no other test of the run uses: lowercase identifier, so it also serves as a dataset name. */
export function uniqueName(prefix: string): string {
  counter++;
  return `${prefix}_${counter}_${crypto.randomUUID().slice(0, 8)}`;
}

export interface Dataset {
  namespace: string;
  name: string;
  revision: string;
  network: string;
  startBlock: number;
  base: string;
}

/** A provider (when a URL is given) and a dataset on a network of the test's own; `startBlock` 0 by default. */
export async function setupDataset(options: { providerUrl: string | null; startBlock?: number }): Promise<Dataset> {
  const network = uniqueName("net");
  if (options.providerUrl !== null) {
    const res = await postJson("/providers", { name: `rpc_${network}`, kind: "evm-rpc", network, url: options.providerUrl });
    expect(res.status, await res.clone().text()).toBe(201);
  }
  const name = uniqueName("ds");
  const manifest = evmRpcManifest(network, { startBlock: options.startBlock ?? 0 });
  const res = await postJson("/datasets", { namespace: "_", name, version: "1.0.0", manifest });
  expect(res.status, await res.clone().text()).toBe(201);
  return { namespace: "_", name, revision: "1.0.0", network, startBlock: options.startBlock ?? 0, base: `/datasets/_/${name}/versions/1.0.0` };
}

/** Registers a derived dataset over `raw` (alias `eth`) with the schemas `POST /schema` infers, as Amp's client does. */
export async function registerDerived(raw: Dataset, tables: Record<string, string>): Promise<Dataset> {
  const dependencies = { eth: `_/${raw.name}@1.0.0` };
  const schemaRes = await postJson("/schema", { tables, dependencies, functions: {} });
  expect(schemaRes.status, await schemaRes.clone().text()).toBe(200);
  const { schemas } = (await schemaRes.json()) as { schemas: Record<string, { arrow: { fields: unknown[] } }> };
  const manifest = {
    kind: "manifest",
    dependencies,
    tables: Object.fromEntries(Object.entries(tables).map(([name, sql]) => [name, { input: { sql }, schema: schemas[name], network: raw.network }])),
    functions: {},
  };
  const name = uniqueName("derived");
  const res = await postJson("/datasets", { namespace: "_", name, version: "1.0.0", manifest });
  expect(res.status, await res.clone().text()).toBe(201);
  return { namespace: "_", name, revision: "1.0.0", network: raw.network, startBlock: 0, base: `/datasets/_/${name}/versions/1.0.0` };
}

export async function deploy(dataset: Dataset, body: unknown): Promise<number> {
  const res = await postJson(`${dataset.base}/deploy`, body);
  expect(res.status, await res.clone().text()).toBe(202);
  return ((await res.json()) as { job_id: number }).job_id;
}

/**
 * What deploy writes in D1 (the job row, its locations, the scheduled event)
 * without starting the job's runner: the state a deploy leaves when it dies
 * between its D1 batch and `JobRunner.start`.
 */
export async function scheduleWithoutStart(dataset: Dataset, endBlock: number | null): Promise<number> {
  const prepared = await prepareManifest(evmRpcManifest(dataset.network, { startBlock: dataset.startBlock }));
  if (!prepared.ok) throw new Error(prepared.message);
  const scheduled = await scheduleJob(openDb(env.DB), {
    manifestHash: prepared.hash,
    datasetNamespace: dataset.namespace,
    datasetName: dataset.name,
    tables: EVM_RPC_TABLE_NAMES,
    bucketName: env.BUCKET_NAME,
    descriptor: dumpDescriptor({
      endBlock: endBlock === null ? { kind: "continuous" } : { kind: "absolute", block: endBlock },
      maxWriters: 1,
      datasetNamespace: dataset.namespace,
      datasetName: dataset.name,
      manifestHash: prepared.hash,
      verify: false,
    }),
  });
  expect(scheduled.outcome).toBe("scheduled");
  return scheduled.jobId;
}

export function runner(jobId: number): DurableObjectStub<JobRunner> {
  return jobRunnerObject(env.JOB_RUNNER, jobId);
}

/** The steps the job's runner has handed out, with their leases. */
export function runnerSteps(jobId: number): Promise<RunnerStep[]> {
  return runInDurableObject(runner(jobId), (_instance, state) => new RunnerStorage(state.storage).steps());
}

export async function stop(jobId: number): Promise<void> {
  const res = await api(`/jobs/${jobId}/stop`, { method: "PUT" });
  expect(res.status, await res.clone().text()).toBe(200);
}

export interface Job {
  id: number;
  status: string;
  failure_reason?: string;
  descriptor: Record<string, unknown>;
}

export interface JobEvent {
  id: number;
  kind: string;
  detail?: Record<string, unknown> | null;
  created_at: string;
}

export function getJob(jobId: number): Promise<Job> {
  return getJson<Job>(`/jobs/${jobId}`);
}

/** Every event of a job, oldest first, across pages. */
export async function jobEvents(jobId: number): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  let cursor: number | undefined;
  do {
    const page = await getJson<{ events: JobEvent[]; next_cursor?: number }>(
      `/jobs/${jobId}/events?limit=1000${cursor === undefined ? "" : `&last_event_id=${cursor}`}`,
    );
    events.push(...page.events);
    cursor = page.next_cursor;
  } while (cursor !== undefined);
  return events;
}

export const TERMINAL = ["COMPLETED", "STOPPED", "FAILED"];

/**
 * Polls the job until `until` holds (default: a terminal status), at most
 * `timeoutMs`; on timeout the error shows the job and its events.
 */
export async function waitForJob(jobId: number, options: { until?: (job: Job) => boolean; timeoutMs?: number; what?: string } = {}): Promise<Job> {
  const until = options.until ?? ((job: Job) => TERMINAL.includes(job.status));
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  for (;;) {
    const job = await getJob(jobId);
    if (until(job)) return job;
    if (Date.now() > deadline) {
      const events = await jobEvents(jobId);
      throw new Error(
        `job ${jobId} did not reach ${options.what ?? "a terminal status"} within ${options.timeoutMs ?? 90_000} ms; it is ${job.status}.\n` +
          `events:\n${events.map((e) => `  ${e.kind} ${JSON.stringify(e.detail ?? null)}`).join("\n")}`,
      );
    }
    await sleep(250);
  }
}

/** Polls `probe` until it returns something other than undefined, at most `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

/** Waits until the job has an event of `kind`, and returns the events then. */
export function waitForEvent(jobId: number, kind: string, timeoutMs = 60_000): Promise<JobEvent[]> {
  return waitFor(`an event ${kind} of job ${jobId}`, async () => {
    const events = await jobEvents(jobId);
    return events.some((event) => event.kind === kind) ? events : undefined;
  }, timeoutMs);
}

export interface Location {
  id: number;
  dataset_name: string;
  manifest_hash: string;
  table: TableName;
  url: string;
  active: boolean;
  writer: number | null;
}

/** The dataset's locations, one per table, sorted by table. */
export async function locationsOf(dataset: Dataset): Promise<Location[]> {
  const all: Location[] = [];
  let cursor: number | undefined;
  do {
    const page = await getJson<{ locations: Location[]; next_cursor?: number }>(
      `/locations?limit=1000${cursor === undefined ? "" : `&last_location_id=${cursor}`}`,
    );
    all.push(...page.locations);
    cursor = page.next_cursor;
  } while (cursor !== undefined);
  return all.filter((location) => location.dataset_name === dataset.name).sort((a, b) => a.table.localeCompare(b.table));
}

/** The R2 key prefix of a location, from its URL `r2://<bucket>/<prefix>`. */
export function locationPrefix(location: Location): string {
  const match = /^r2:\/\/[^/]+\/(.+\/)$/.exec(location.url);
  if (!match?.[1]) throw new Error(`not an r2 location URL: ${location.url}`);
  return match[1];
}

export interface FileInfo {
  id: number;
  location_id: number;
  file_name: string;
  url: string;
  object_size?: number;
  object_e_tag?: string;
  object_version?: string;
  metadata: NozzleMetadata;
}

/** Every file row of a location through the API: the listing, then each file. */
export async function filesOf(location: Location): Promise<FileInfo[]> {
  const listed: { id: number; file_name: string; object_size?: number }[] = [];
  let cursor: number | undefined;
  do {
    const page = await getJson<{ files: { id: number; file_name: string; object_size?: number }[]; next_cursor?: number }>(
      `/locations/${location.id}/files?limit=1000${cursor === undefined ? "" : `&last_file_id=${cursor}`}`,
    );
    listed.push(...page.files);
    cursor = page.next_cursor;
  } while (cursor !== undefined);
  const files: FileInfo[] = [];
  for (const entry of listed) {
    const file = await getJson<FileInfo>(`/files/${entry.id}`);
    expect({ name: file.file_name, size: file.object_size }).toEqual({ name: entry.file_name, size: entry.object_size });
    files.push(file);
  }
  return files.sort((a, b) => a.metadata.ranges[0].numbers.start - b.metadata.ranges[0].numbers.start || a.id - b.id);
}

/** Every object under a location's prefix. */
export async function objectsOf(location: Location): Promise<R2Object[]> {
  const objects: R2Object[] = [];
  let cursor: string | undefined;
  do {
    const listing = await env.BUCKET.list({ prefix: locationPrefix(location), cursor, include: ["customMetadata"] });
    objects.push(...listing.objects);
    cursor = listing.truncated ? listing.cursor : undefined;
  } while (cursor !== undefined);
  return objects;
}

/** What a location holds, as names: file rows and objects; for "nothing was written after" checks. */
export async function snapshot(dataset: Dataset): Promise<Record<string, { rows: string[]; objects: string[] }>> {
  const out: Record<string, { rows: string[]; objects: string[] }> = {};
  for (const location of await locationsOf(dataset)) {
    out[location.table] = {
      rows: (await filesOf(location)).map((file) => `${file.id}:${file.file_name}`).sort(),
      objects: (await objectsOf(location)).map((object) => `${object.key}:${object.etag}`).sort(),
    };
  }
  return out;
}

/**
 * Checks a location's file rows against its objects one to one (name, size,
 * ETag, version, `nozzle_metadata` in the row, in the object's custom metadata
 * and in the Parquet footer) and returns each file's `_block_num` values.
 */
export async function verifyLocationFiles(location: Location): Promise<{ files: FileInfo[]; blockNums: bigint[] }> {
  const files = await filesOf(location);
  const objects = await objectsOf(location);
  const prefix = locationPrefix(location);
  expect(objects.map((object) => object.key).sort(), `objects of ${location.table}`).toEqual(files.map((file) => prefix + file.file_name).sort());
  const blockNums: bigint[] = [];
  for (const file of files) {
    expect(file.url).toBe(location.url);
    expect(file.location_id).toBe(location.id);
    const object = await env.BUCKET.get(prefix + file.file_name);
    if (!object) throw new Error(`object ${prefix + file.file_name} vanished`);
    const bytes = await object.arrayBuffer();
    expect(file.object_size, file.file_name).toBe(object.size);
    expect(file.object_size).toBe(bytes.byteLength);
    expect(file.object_e_tag, file.file_name).toBe(object.etag);
    expect(file.object_version, file.file_name).toBe(object.version);
    expect(JSON.parse(object.customMetadata?.nozzle_metadata ?? "null"), file.file_name).toEqual(file.metadata);
    const footer = await readParquetFooter(bytes);
    expect(JSON.parse(footer.keyValueMetadata.nozzle_metadata ?? "null"), file.file_name).toEqual(file.metadata);
    expect(file.metadata.table).toBe(location.table);
    expect(file.metadata.filename).toBe(file.file_name);
    const range = file.metadata.ranges[0].numbers;
    const rows = await readParquetRows(bytes, { columns: ["_block_num"] });
    for (const row of rows) {
      const block = row._block_num as bigint;
      expect(block >= BigInt(range.start) && block <= BigInt(range.end), `${file.file_name} holds block ${block}`).toBe(true);
      blockNums.push(block);
    }
  }
  return { files, blockNums };
}

/** The file ranges of a table tile `start..=end` exactly: sorted, each starting one past the previous end. */
export function expectTiled(files: readonly FileInfo[], start: number, end: number, what: string): void {
  const ranges = files.map((file) => file.metadata.ranges[0].numbers);
  let next = start;
  for (const range of ranges) {
    expect(range.start, `${what}: file ranges ${JSON.stringify(ranges)}`).toBe(next);
    next = range.end + 1;
  }
  expect(next - 1, `${what}: file ranges ${JSON.stringify(ranges)}`).toBe(end);
}

export async function progressOf(dataset: Dataset): Promise<TableProgress[]> {
  return (await getJson<{ tables: TableProgress[] }>(`${dataset.base}/progress`)).tables;
}
