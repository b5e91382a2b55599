import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { workerMetadataFromVersion } from "../../src/domain/worker";
import { getWorker, heartbeatWorker, registerWorker } from "../../src/store/workers";
import { db } from "../support/workerd/seed-rows";
import { api, expectError, READ, withoutToken } from "./api-client";

describe("workers", () => {
  const info = { version: "v1.2.0", commit_sha: "unknown", commit_timestamp: "unknown", build_date: "2025-11-06T10:00:00Z" };

  it("register keeps created_at and moves registered_at and heartbeat_at", async () => {
    await registerWorker(db(), "queue-consumer-1", info);
    const first = await getWorker(db(), "queue-consumer-1");
    await new Promise((resolve) => setTimeout(resolve, 5));
    await registerWorker(db(), "queue-consumer-1", { ...info, version: "v1.3.0" });
    const second = await getWorker(db(), "queue-consumer-1");
    expect(second?.createdAt).toBe(first?.createdAt);
    expect(second!.registeredAt > first!.registeredAt).toBe(true);
    expect(second!.heartbeatAt > first!.heartbeatAt).toBe(true);
    expect(second?.info.version).toBe("v1.3.0");
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await heartbeatWorker(db(), "queue-consumer-1")).toBe(true);
    const third = await getWorker(db(), "queue-consumer-1");
    expect(third!.heartbeatAt > second!.heartbeatAt).toBe(true);
    expect(third?.registeredAt).toBe(second?.registeredAt);
    expect(await heartbeatWorker(db(), "never-registered")).toBe(false);
  });

  it("GET /workers lists node ids and heartbeats, newest registration first", async () => {
    expect(await (await api("/workers")).json()).toEqual({ workers: [] });
    await registerWorker(db(), "alpha", info);
    await registerWorker(db(), "beta", info);
    const body = await (await api("/workers")).json<{ workers: { node_id: string; heartbeat_at: string }[] }>();
    expect(body.workers.map((w) => w.node_id)).toEqual(["beta", "alpha"]);
    expect(body.workers[0]!.heartbeat_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("GET /workers/{id} answers the detail, with 'unknown' for missing info fields", async () => {
    await registerWorker(db(), "jobrunner-7", info);
    const worker = await getWorker(db(), "jobrunner-7");
    expect(await (await api("/workers/jobrunner-7")).json()).toEqual({
      node_id: "jobrunner-7",
      info,
      created_at: worker!.createdAt,
      registered_at: worker!.registeredAt,
      heartbeat_at: worker!.heartbeatAt,
    });
    await env.DB.prepare("UPDATE workers SET info = ? WHERE node_id = ?").bind(JSON.stringify({ version: "v9" }), "jobrunner-7").run();
    expect(await (await api("/workers/jobrunner-7")).json()).toMatchObject({
      info: { version: "v9", commit_sha: "unknown", commit_timestamp: "unknown", build_date: "unknown" },
    });
  });

  it("accepts Unicode letters in node ids like the original", async () => {
    await registerWorker(db(), "wörker.ü-1", info);
    expect((await api(`/workers/${encodeURIComponent("wörker.ü-1")}`)).status).toBe(200);
  });

  it("answers 404 WORKER_NOT_FOUND and 400 INVALID_WORKER_ID", async () => {
    await expectError(await api("/workers/nobody"), 404, "WORKER_NOT_FOUND");
    for (const id of ["1worker", "-x", "_x", "a%20b", "a%2Fb", "a$b", "%C3%28"]) {
      await expectError(await api(`/workers/${id}`), 400, "INVALID_WORKER_ID");
    }
  });

  it("needs a token; the read token may read", async () => {
    await registerWorker(db(), "alpha", info);
    await expectError(await withoutToken("/workers"), 401, "UNAUTHORIZED");
    await expectError(await withoutToken("/workers/alpha"), 401, "UNAUTHORIZED");
    expect((await api("/workers", { headers: READ })).status).toBe(200);
    expect((await api("/workers/alpha", { headers: READ })).status).toBe(200);
  });
});

describe("workerMetadataFromVersion", () => {
  it("uses the version tag, else its id, and its upload time; 'unknown' for the rest", () => {
    expect(workerMetadataFromVersion({ id: "a1b2", tag: "v1.0.0", timestamp: "2025-11-06T10:00:00Z" })).toEqual({
      version: "v1.0.0",
      commit_sha: "unknown",
      commit_timestamp: "unknown",
      build_date: "2025-11-06T10:00:00Z",
    });
    expect(workerMetadataFromVersion({ id: "a1b2", tag: "", timestamp: "" })).toMatchObject({ version: "a1b2", build_date: "unknown" });
    expect(workerMetadataFromVersion(undefined)).toEqual({ version: "unknown", commit_sha: "unknown", commit_timestamp: "unknown", build_date: "unknown" });
  });

  it("works with this Worker's own VERSION binding", () => {
    const metadata = workerMetadataFromVersion(env.VERSION);
    expect(Object.keys(metadata).sort()).toEqual(["build_date", "commit_sha", "commit_timestamp", "version"]);
  });
});
