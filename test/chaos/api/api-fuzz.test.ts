/**
 * The fuzzing campaign: FUZZ_REQUESTS requests generated from /openapi.json
 * (test/support/api-fuzz.ts) with a fixed seed, against a storage that holds
 * a dataset, a manifest, a provider, jobs, locations, files and a worker. For
 * every answer: never a 5xx, every non-2xx an ErrorResponse with a code the
 * API lists, and a digest of D1 and R2 taken right before a rejected request
 * equal to the one taken right after it. A failure names the request's index,
 * kind and route: `FUZZ_SEED` and the index replay it.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { isErrorCode } from "../../../src/api/errors";
import { workerMetadataFromVersion } from "../../../src/domain/worker";
import { openDb } from "../../../src/store/db";
import { registerWorker } from "../../../src/store/workers";
import { ApiFuzzer, FUZZ_KINDS, type FuzzKind, type FuzzRequest, type OpenApiDocument } from "../../support/api-fuzz";
import { prng } from "../../support/prng";
import { rawManifest } from "../../api/registry-support";
import { fetchWorker } from "../../support/workerd/fetch-worker";
import { seedFile, seedJob, seedLocation } from "../../support/workerd/seed-rows";
import { storageDigest } from "../../support/workerd/storage-digest";
import { reportFigures } from "../../support/chaos-figures";

const FUZZ_SEED = 20261202;
const FUZZ_REQUESTS = 10_000;
const ADMIN_TOKEN = "test-admin-token";
const READ_TOKEN = "test-read-token";
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };
/** The deployable dataset's network has no provider: a job a fuzzed deploy starts fails at once, by itself. */
const DATASET_NETWORK = "fuzznet";
const PROVIDER = { name: "rpc_fuzz", kind: "evm-rpc", network: "elsewhere", url: "http://127.0.0.1:9/v3/SECRETKEY123" };

async function post(path: string, body: unknown): Promise<number> {
  const res = await fetchWorker(path, { method: "POST", headers: ADMIN, body: JSON.stringify(body) });
  await res.body?.cancel();
  return res.status;
}

/** (Re)creates what the fuzzer's deletes may have removed; idempotent. */
async function ensureRegistry(manifest: Record<string, unknown>): Promise<void> {
  expect([201, 409]).toContain(await post("/providers", PROVIDER));
  expect(await post("/datasets", { namespace: "_", name: "sample", version: "1.0.0", manifest })).toBe(201);
}

async function seedWorld(manifest: Record<string, unknown>, hash: string) {
  await ensureRegistry(manifest);
  const jobIds: string[] = [];
  for (const status of ["COMPLETED", "FAILED", "STOPPED"] as const) jobIds.push(String((await seedJob(status, { failureReason: "seeded" })).id));
  const locationIds: string[] = [];
  const fileIds: string[] = [];
  for (const table of ["blocks", "logs"]) {
    const location = await seedLocation({ table });
    locationIds.push(String(location.id));
    for (let start = 0; start < 30; start += 10) fileIds.push(String((await seedFile(location, start, start + 9)).id));
  }
  await registerWorker(openDb(env.DB), "jobrunner-1", workerMetadataFromVersion(undefined));
  return {
    params: {
      namespace: ["_"],
      name: ["sample", PROVIDER.name],
      revision: ["1.0.0", "latest", "dev", hash],
      version: ["1.0.0", "2.0.0"],
      hash: [hash],
      id: [...jobIds, ...locationIds, "jobrunner-1"],
      location_id: locationIds,
      file_id: fileIds,
      table: ["blocks", "logs", "transactions"],
      status: ["terminal", "completed", "stopped", "error"],
      force: ["true", "false"],
    },
    bodies: {
      "POST /datasets": [{ namespace: "_", name: "sample", version: "1.0.1", manifest }, { namespace: "_", name: "other", manifest: hash }],
      "POST /manifests": [manifest],
      "POST /providers": [{ ...PROVIDER, name: "rpc_fuzz_2" }],
      "POST /datasets/{namespace}/{name}/versions/{revision}/deploy": [{}, { end_block: 20, parallelism: 2 }, { end_block: "latest" }],
    },
    adminToken: ADMIN_TOKEN,
    readToken: READ_TOKEN,
  };
}

/** After an accepted request, the background work it started (a job's runner) settles before the next digest. */
async function settle(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const open = await env.DB.prepare("SELECT count(*) AS n FROM jobs WHERE status NOT IN ('COMPLETED', 'FAILED', 'STOPPED')").first<{ n: number }>();
    if (open?.n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("a job started by a fuzzed request did not settle within 10 s");
}

interface KindFigures {
  requests: number;
  accepted: number;
  rejected: number;
  serverErrors: number;
  notErrorResponse: number;
  unlistedCode: number;
  changedOnReject: number;
}

type Problem = { index: number; request: FuzzRequest; status: number; what: string };

async function send(request: FuzzRequest): Promise<Response> {
  return fetchWorker(request.path, { method: request.method, headers: request.headers, ...(request.body === undefined ? {} : { body: request.body }) });
}

describe("fuzzing the API from its OpenAPI document", () => {
  it(`${FUZZ_REQUESTS} seeded requests: no 5xx, every rejection an ErrorResponse with a listed code that changes nothing`, { timeout: 900_000 }, async () => {
    const manifest = rawManifest(DATASET_NETWORK);
    const hash = await manifestHashOf(manifest);
    const world = await seedWorld(manifest, hash);
    const doc = (await (await fetchWorker("/openapi.json", { headers: ADMIN })).json()) as OpenApiDocument;
    const fuzzer = new ApiFuzzer(doc, world, prng(FUZZ_SEED));

    const figures = new Map<FuzzKind, KindFigures>(FUZZ_KINDS.map((kind) => [kind, { requests: 0, accepted: 0, rejected: 0, serverErrors: 0, notErrorResponse: 0, unlistedCode: 0, changedOnReject: 0 }]));
    const problems: Problem[] = [];
    const routes = new Set<string>();
    let before = await storageDigest();
    for (let index = 0; index < FUZZ_REQUESTS; index++) {
      if (index > 0 && index % 500 === 0) {
        await ensureRegistry(manifest);
        before = await storageDigest();
      }
      const request = fuzzer.request(index);
      routes.add(request.route);
      const counts = figures.get(request.kind)!;
      counts.requests++;
      const res = await send(request);
      const text = await res.text();
      const problem = (what: string) => problems.push({ index, request, status: res.status, what });
      if (res.status >= 500) {
        counts.serverErrors++;
        problem(text.slice(0, 200));
      }
      if (res.status < 400) {
        counts.accepted++;
        await settle();
        before = await storageDigest();
        continue;
      }
      counts.rejected++;
      let code: unknown;
      try {
        const body = JSON.parse(text) as { error_code?: unknown; error_message?: unknown };
        code = body.error_code;
        if (typeof body.error_code !== "string" || typeof body.error_message !== "string" || !res.headers.get("content-type")?.includes("application/json")) throw new Error();
      } catch {
        counts.notErrorResponse++;
        problem(`not an ErrorResponse: ${text.slice(0, 120)}`);
      }
      if (typeof code === "string" && !isErrorCode(code)) {
        counts.unlistedCode++;
        problem(`unlisted code ${code}`);
      }
      const after = await storageDigest();
      if (after !== before) {
        counts.changedOnReject++;
        problem("the rejected request changed D1 or R2");
        before = after;
      }
    }

    const total = [...figures.values()].reduce(
      (sum, f) => ({
        requests: sum.requests + f.requests,
        accepted: sum.accepted + f.accepted,
        rejected: sum.rejected + f.rejected,
        serverErrors: sum.serverErrors + f.serverErrors,
        notErrorResponse: sum.notErrorResponse + f.notErrorResponse,
        unlistedCode: sum.unlistedCode + f.unlistedCode,
        changedOnReject: sum.changedOnReject + f.changedOnReject,
      }),
      { requests: 0, accepted: 0, rejected: 0, serverErrors: 0, notErrorResponse: 0, unlistedCode: 0, changedOnReject: 0 },
    );
    reportFigures("API fuzzing", [
      ...[...figures].map(([kind, f]) => ({ part: `§6 fuzz: ${kind}`, ...f })),
      { part: `§6 fuzz: all (seed ${FUZZ_SEED}, ${routes.size} routes)`, ...total },
    ]);
    const shown = problems.slice(0, 20).map((p) => `#${p.index} ${p.request.kind} ${p.request.method} ${p.request.path.slice(0, 120)} -> ${p.status}: ${p.what}`);
    expect(shown).toEqual([]);
    expect(total.requests).toBe(FUZZ_REQUESTS);
    expect(routes.size).toBe(Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0));
    // Plausible requests do get through: the campaign is not 10,000 rejections of one malformed kind.
    expect(figures.get("plausible")!.accepted).toBeGreaterThan(0);
  });
});

async function manifestHashOf(manifest: Record<string, unknown>): Promise<string> {
  const res = await fetchWorker("/manifests", { method: "POST", headers: ADMIN, body: JSON.stringify(manifest) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { hash: string }).hash;
}
