import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../src/api/errors";
import { listFileSegments } from "../../src/store/files";
import {
  beginLocationDeletion,
  deleteEmptyInactiveLocation,
  deleteLocationFileRows,
  deleteLocationObjects,
  getLocation,
} from "../../src/store/locations";
import { fileObjectKey, locationObjectPrefix } from "../../src/store/r2-layout";
import { db, seedFile, seedJob, seedLocation } from "../support/workerd/seed-rows";
import { api, expectError, READ, withoutToken } from "./api-client";

async function objectKeys(path: string): Promise<string[]> {
  const listing = await env.BUCKET.list({ prefix: locationObjectPrefix(path) });
  return listing.objects.map((o) => o.key).sort();
}

describe("GET /locations", () => {
  it("lists LocationInfo newest first with writer as an id or null", async () => {
    const job = await seedJob("RUNNING");
    const a = await seedLocation({ active: true, writer: job.id });
    const b = await seedLocation();
    const res = await api("/locations");
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({
      locations: [
        {
          id: b.id,
          dataset_namespace: "_",
          dataset_name: "eth_rpc",
          manifest_hash: b.manifestHash,
          table: "blocks",
          url: b.url,
          active: false,
          writer: null,
        },
        {
          id: a.id,
          dataset_namespace: "_",
          dataset_name: "eth_rpc",
          manifest_hash: a.manifestHash,
          table: "blocks",
          url: a.url,
          active: true,
          writer: job.id,
        },
      ],
    });
    expect(a.url).toBe(`r2://amp-edge-data/data/${a.path}`);
  });

  it("pages with last_location_id; next_cursor absent on the last page", async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await seedLocation()).id);
    const page1 = await (await api("/locations?limit=1")).json<{ locations: { id: number }[]; next_cursor?: number }>();
    expect(page1.locations.map((l) => l.id)).toEqual([ids[2]]);
    expect(page1.next_cursor).toBe(ids[2]);
    const page2 = await (await api(`/locations?limit=2&last_location_id=${page1.next_cursor}`)).json<{ locations: { id: number }[] }>();
    expect(page2.locations.map((l) => l.id)).toEqual([ids[1], ids[0]]);
    expect(page2).not.toHaveProperty("next_cursor");
    expect(await (await api("/locations?last_location_id=999999&limit=1000")).json()).toMatchObject({ locations: [{}, {}, {}] });
  });

  it.each<[string, ErrorCode]>([
    ["limit=0", "LIMIT_INVALID"],
    ["limit=1001", "LIMIT_TOO_LARGE"],
    ["limit=-1", "INVALID_QUERY_PARAMETERS"],
    ["limit=abc", "INVALID_QUERY_PARAMETERS"],
    ["last_location_id=0", "INVALID_QUERY_PARAMETERS"],
    ["last_location_id=x", "INVALID_QUERY_PARAMETERS"],
  ])("answers ?%s with 400 %s", async (query, code) => {
    await expectError(await api(`/locations?${query}`), 400, code);
  });
});

describe("GET /locations/{id}", () => {
  it("answers the location with its writer job's details", async () => {
    const job = await seedJob("FAILED", { failureReason: "boom" });
    const location = await seedLocation({ writer: job.id });
    const body = await (await api(`/locations/${location.id}`)).json();
    expect(body).toMatchObject({
      id: location.id,
      table: "blocks",
      active: false,
      writer: { id: job.id, node_id: `jobrunner-${job.id}`, status: "FAILED", descriptor: job.descriptor, failure_reason: "boom" },
    });
  });

  it("answers writer null when no job holds the location", async () => {
    const location = await seedLocation();
    expect(await (await api(`/locations/${location.id}`)).json()).toMatchObject({ id: location.id, writer: null });
  });

  it("answers 404 LOCATION_NOT_FOUND and 400 INVALID_LOCATION_ID", async () => {
    await expectError(await api("/locations/31337"), 404, "LOCATION_NOT_FOUND");
    for (const id of ["0", "-1", "abc", "9007199254740992"]) await expectError(await api(`/locations/${id}`), 400, "INVALID_LOCATION_ID");
  });
});

describe("GET /locations/{location_id}/files", () => {
  it("lists files newest first, object_size only when known, page by page", async () => {
    const location = await seedLocation();
    const f1 = await seedFile(location, 0, 9);
    const f2 = await seedFile(location, 10, 19, { withObject: false });
    const f3 = await seedFile(location, 20, 29);
    await seedFile(await seedLocation(), 0, 9);
    const all = await (await api(`/locations/${location.id}/files`)).json();
    expect(all).toEqual({
      files: [
        { id: f3.id, file_name: f3.fileName, object_size: f3.objectSize },
        { id: f2.id, file_name: f2.fileName },
        { id: f1.id, file_name: f1.fileName, object_size: f1.objectSize },
      ],
    });
    const page1 = await (await api(`/locations/${location.id}/files?limit=2`)).json<{ files: { id: number }[]; next_cursor?: number }>();
    expect(page1.files.map((f) => f.id)).toEqual([f3.id, f2.id]);
    expect(page1.next_cursor).toBe(f2.id);
    const page2 = await (await api(`/locations/${location.id}/files?limit=2&last_file_id=${f2.id}`)).json();
    expect(page2).toEqual({ files: [{ id: f1.id, file_name: f1.fileName, object_size: f1.objectSize }] });
  });

  it("answers 200 with no files for an unknown location, as the original", async () => {
    expect(await (await api("/locations/4040/files")).json()).toEqual({ files: [] });
  });

  it.each<[string, ErrorCode]>([
    ["/locations/0/files", "INVALID_LOCATION_ID"],
    ["/locations/x/files?limit=0", "INVALID_LOCATION_ID"],
    ["/locations/1/files?limit=0", "LIMIT_INVALID"],
    ["/locations/1/files?limit=1001", "LIMIT_TOO_LARGE"],
    ["/locations/1/files?limit=-1", "INVALID_QUERY_PARAMETERS"],
    ["/locations/1/files?last_file_id=0", "INVALID_QUERY_PARAMETERS"],
  ])("%s answers 400 %s", async (path, code) => {
    await expectError(await api(path), 400, code);
  });
});

describe("DELETE /locations/{id}", () => {
  it("deletes an inactive location: its R2 objects, file rows and row; a second call answers 404", async () => {
    const job = await seedJob("COMPLETED");
    const location = await seedLocation({ writer: job.id });
    await seedFile(location, 0, 9);
    await seedFile(location, 10, 19);
    const orphanKey = fileObjectKey(location.path, "orphan-from-a-crashed-step.parquet");
    await env.BUCKET.put(orphanKey, "no row");
    const neighbour = await seedLocation();
    const kept = await seedFile(neighbour, 0, 9);
    expect(await objectKeys(location.path)).toHaveLength(3);

    expect((await api(`/locations/${location.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await getLocation(db(), location.id)).toBeUndefined();
    expect(await listFileSegments(db(), location.id)).toEqual([]);
    expect(await objectKeys(location.path)).toEqual([]);
    expect(await objectKeys(neighbour.path)).toEqual([fileObjectKey(neighbour.path, kept.fileName)]);
    expect(await listFileSegments(db(), neighbour.id)).toHaveLength(1);

    await expectError(await api(`/locations/${location.id}`, { method: "DELETE" }), 404, "LOCATION_NOT_FOUND");
  });

  it("refuses an active location without force (409 ACTIVE_LOCATION_CONFLICT), deletes it with force=true", async () => {
    const location = await seedLocation({ active: true });
    await seedFile(location, 0, 9);
    await expectError(await api(`/locations/${location.id}`, { method: "DELETE" }), 409, "ACTIVE_LOCATION_CONFLICT");
    await expectError(await api(`/locations/${location.id}?force=false`, { method: "DELETE" }), 409, "ACTIVE_LOCATION_CONFLICT");
    expect(await getLocation(db(), location.id)).toMatchObject({ active: true });
    expect(await objectKeys(location.path)).toHaveLength(1);
    expect((await api(`/locations/${location.id}?force=true`, { method: "DELETE" })).status).toBe(204);
    expect(await getLocation(db(), location.id)).toBeUndefined();
    expect(await objectKeys(location.path)).toEqual([]);
  });

  it.each(["SCHEDULED", "RUNNING", "STOP_REQUESTED", "STOPPING"] as const)(
    "refuses a location whose writer is %s with 409 ONGOING_JOB_CONFLICT, even forced, and changes nothing",
    async (status) => {
      const job = await seedJob(status);
      const location = await seedLocation({ active: true, writer: job.id });
      const inactive = await seedLocation({ active: false, writer: job.id });
      await seedFile(location, 0, 9);
      await expectError(await api(`/locations/${location.id}?force=true`, { method: "DELETE" }), 409, "ONGOING_JOB_CONFLICT");
      await expectError(await api(`/locations/${inactive.id}`, { method: "DELETE" }), 409, "ONGOING_JOB_CONFLICT");
      expect(await getLocation(db(), location.id)).toMatchObject({ active: true, writer: job.id });
      expect(await listFileSegments(db(), location.id)).toHaveLength(1);
      expect(await objectKeys(location.path)).toHaveLength(1);
    },
  );

  it("checks active before the writer, as the original", async () => {
    const job = await seedJob("RUNNING");
    const location = await seedLocation({ active: true, writer: job.id });
    await expectError(await api(`/locations/${location.id}`, { method: "DELETE" }), 409, "ACTIVE_LOCATION_CONFLICT");
  });

  it("answers 404 LOCATION_NOT_FOUND for an absent location", async () => {
    await expectError(await api("/locations/8080", { method: "DELETE" }), 404, "LOCATION_NOT_FOUND");
    await expectError(await api("/locations/8080?force=true", { method: "DELETE" }), 404, "LOCATION_NOT_FOUND");
  });

  it.each<[string, ErrorCode]>([
    ["/locations/0", "INVALID_LOCATION_ID"],
    ["/locations/abc?force=maybe", "INVALID_LOCATION_ID"],
    ["/locations/1?force=yes", "INVALID_QUERY_PARAMETERS"],
    ["/locations/1?force=1", "INVALID_QUERY_PARAMETERS"],
    ["/locations/1?force=", "INVALID_QUERY_PARAMETERS"],
    ["/locations/1?force=TRUE", "INVALID_QUERY_PARAMETERS"],
  ])("%s answers 400 %s and deletes nothing", async (path, code) => {
    const location = await seedLocation({ active: true });
    await expectError(await api(path.replace("/1", `/${location.id}`), { method: "DELETE" }), 400, code);
    expect(await getLocation(db(), location.id)).toBeDefined();
  });

  describe("crash safety: a DELETE interrupted after any step is finished by the next DELETE", () => {
    async function seeded() {
      const job = await seedJob("STOPPED");
      const location = await seedLocation({ active: true, writer: job.id });
      await seedFile(location, 0, 9);
      await seedFile(location, 10, 19);
      return location;
    }

    async function expectGone(location: { id: number; path: string }) {
      expect(await getLocation(db(), location.id)).toBeUndefined();
      expect(await listFileSegments(db(), location.id)).toEqual([]);
      expect(await objectKeys(location.path)).toEqual([]);
    }

    /** Every file row still has its object: the invariant every step keeps. */
    async function expectEveryRowHasItsObject(location: { id: number; path: string }) {
      const keys = await objectKeys(location.path);
      const rows = await (await api(`/locations/${location.id}/files`)).json<{ files: { file_name: string }[] }>();
      for (const file of rows.files) expect(keys).toContain(fileObjectKey(location.path, file.file_name));
    }

    it("after deactivation: the location is inactive, so no force is needed the second time", async () => {
      const location = await seeded();
      expect((await beginLocationDeletion(db(), location.id, true)).outcome).toBe("started");
      expect(await getLocation(db(), location.id)).toMatchObject({ active: false });
      await expectEveryRowHasItsObject(location);
      expect((await api(`/locations/${location.id}`, { method: "DELETE" })).status).toBe(204);
      await expectGone(location);
    });

    it("after the file rows went: the objects are still found under the location's prefix", async () => {
      const location = await seeded();
      await beginLocationDeletion(db(), location.id, true);
      await deleteLocationFileRows(db(), location.id);
      expect(await listFileSegments(db(), location.id)).toEqual([]);
      expect(await objectKeys(location.path)).toHaveLength(2);
      expect(await getLocation(db(), location.id)).toBeDefined();
      expect((await api(`/locations/${location.id}`, { method: "DELETE" })).status).toBe(204);
      await expectGone(location);
    });

    it("after the objects went: only the empty inactive location row is left", async () => {
      const location = await seeded();
      await beginLocationDeletion(db(), location.id, true);
      await deleteLocationFileRows(db(), location.id);
      expect(await deleteLocationObjects(env.BUCKET, location.path)).toBe(2);
      expect((await api(`/locations/${location.id}`, { method: "DELETE" })).status).toBe(204);
      await expectGone(location);
    });

    it("never deletes the location row while file rows remain", async () => {
      const location = await seeded();
      await beginLocationDeletion(db(), location.id, true);
      expect(await deleteEmptyInactiveLocation(db(), location.id)).toBe(false);
      expect(await getLocation(db(), location.id)).toBeDefined();
    });

    it("deletes objects over several listing pages, and only under the location's prefix", async () => {
      const location = await seeded();
      const neighbour = await seedLocation({ table: "blocks" });
      await seedFile(neighbour, 0, 9);
      for (let i = 0; i < 3; i++) await env.BUCKET.put(fileObjectKey(location.path, `extra-${i}.parquet`), "x");
      expect(await deleteLocationObjects(env.BUCKET, location.path, 2)).toBe(5);
      expect(await objectKeys(location.path)).toEqual([]);
      expect(await objectKeys(neighbour.path)).toHaveLength(1);
    });
  });
});

describe("auth on the locations routes", () => {
  it("answers 401 without a token and 403 to the read token on DELETE", async () => {
    const location = await seedLocation();
    for (const path of ["/locations", `/locations/${location.id}`, `/locations/${location.id}/files`]) {
      await expectError(await withoutToken(path), 401, "UNAUTHORIZED");
      expect((await api(path, { headers: READ })).status).toBe(200);
    }
    await expectError(await withoutToken(`/locations/${location.id}`, { method: "DELETE" }), 401, "UNAUTHORIZED");
    await expectError(await api(`/locations/${location.id}`, { method: "DELETE", headers: READ }), 403, "FORBIDDEN");
    expect(await getLocation(db(), location.id)).toBeDefined();
  });
});
