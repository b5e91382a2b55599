import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { getFileWithUrl, listFileSegments, type NewFile, registerFile } from "../../src/store/files";
import { db, fileMetadata, seedFile, seedJob, seedLocation } from "../support/workerd/seed-rows";

function newFile(locationId: number, start = 0, end = 9): NewFile {
  const fileName = `${start}-${end}.parquet`;
  return {
    locationId,
    fileName,
    rangeStart: start,
    rangeEnd: end,
    endHash: "0xaa",
    prevHash: null,
    rowCount: 10,
    objectSize: 123,
    objectETag: "etag",
    objectVersion: null,
    metadata: fileMetadata(fileName, start, end),
  };
}

describe("registerFile", () => {
  it("inserts for the location's running writer, then ignores the same file again", async () => {
    const job = await seedJob("RUNNING");
    const location = await seedLocation({ active: true, writer: job.id });
    const first = await registerFile(db(), job.id, newFile(location.id));
    expect(first.outcome).toBe("inserted");
    const again = await registerFile(db(), job.id, { ...newFile(location.id), objectSize: 999 });
    expect(again).toEqual({ outcome: "existed", id: first.outcome === "inserted" ? first.id : -1 });
    const stored = await getFileWithUrl(db(), again.outcome === "existed" ? again.id : -1);
    expect(stored?.file.objectSize).toBe(123);
    expect(stored?.url).toBe(location.url);
  });

  it.each(["STOPPED", "COMPLETED", "FAILED"] as const)("refuses a %s writer", async (status) => {
    const job = await seedJob(status);
    const location = await seedLocation({ writer: job.id });
    expect(await registerFile(db(), job.id, newFile(location.id))).toEqual({ outcome: "refused" });
    expect(await listFileSegments(db(), location.id)).toEqual([]);
  });

  it.each(["SCHEDULED", "STOP_REQUESTED", "STOPPING"] as const)("accepts a %s writer (steps in flight finish)", async (status) => {
    const job = await seedJob(status);
    const location = await seedLocation({ writer: job.id });
    expect((await registerFile(db(), job.id, newFile(location.id))).outcome).toBe("inserted");
  });

  it("refuses a job that is not the location's writer, and a location without writer", async () => {
    const writer = await seedJob("RUNNING");
    const other = await seedJob("RUNNING");
    const location = await seedLocation({ writer: writer.id });
    expect(await registerFile(db(), other.id, newFile(location.id))).toEqual({ outcome: "refused" });
    const orphan = await seedLocation({ writer: null });
    expect(await registerFile(db(), writer.id, newFile(orphan.id))).toEqual({ outcome: "refused" });
    expect(await registerFile(db(), writer.id, newFile(987654))).toEqual({ outcome: "refused" });
  });

  it("answers existed rather than refused once the file is registered, even after the writer stopped", async () => {
    const job = await seedJob("RUNNING");
    const location = await seedLocation({ writer: job.id });
    expect((await registerFile(db(), job.id, newFile(location.id))).outcome).toBe("inserted");
    await env.DB.prepare("UPDATE jobs SET status = 'STOPPED' WHERE id = ?").bind(job.id).run();
    expect((await registerFile(db(), job.id, newFile(location.id))).outcome).toBe("existed");
    expect((await registerFile(db(), job.id, newFile(location.id, 10, 19))).outcome).toBe("refused");
  });
});

describe("listFileSegments", () => {
  it("returns every file as a segment with network and size, in id order", async () => {
    const location = await seedLocation();
    const a = await seedFile(location, 0, 9);
    const b = await seedFile(location, 10, 19, { withObject: false });
    expect(await listFileSegments(db(), location.id)).toEqual([
      { fileId: a.id, range: { start: 0, end: 9 }, hash: a.endHash, prevHash: null, network: "anvil", objectSize: a.objectSize },
      { fileId: b.id, range: { start: 10, end: 19 }, hash: b.endHash, prevHash: null, network: "anvil", objectSize: null },
    ]);
  });
});
