import { describe, expect, it } from "vitest";
import { appendJobEvent, listJobEvents } from "../../src/store/job-events";
import { deleteJobsByStatus, deleteTerminalJob, getJob, listJobs, transitionJob } from "../../src/store/jobs";
import { getLocation } from "../../src/store/locations";
import { db, seedJob, seedLocation } from "../support/workerd/seed-rows";

describe("transitionJob", () => {
  it("applies when the status is allowed, and appends the event in the same batch", async () => {
    const job = await seedJob("SCHEDULED");
    const result = await transitionJob(db(), job.id, ["SCHEDULED"], "RUNNING", { event: { kind: "running" } });
    expect(result).toEqual({ applied: true, status: "RUNNING" });
    const after = await getJob(db(), job.id);
    expect(after?.status).toBe("RUNNING");
    expect(after?.updatedAt).not.toBe(job.updatedAt);
    expect(after?.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const events = await listJobEvents(db(), job.id, { limit: 10 });
    expect(events.items.map((e) => [e.kind, e.detail])).toEqual([["running", {}]]);
  });

  it("refuses from a status that is not allowed, reports the actual one and appends nothing", async () => {
    const job = await seedJob("COMPLETED");
    const result = await transitionJob(db(), job.id, ["SCHEDULED", "RUNNING"], "FAILED", {
      reason: "boom",
      event: { kind: "failed", detail: { reason: "boom" } },
    });
    expect(result).toEqual({ applied: false, status: "COMPLETED" });
    const after = await getJob(db(), job.id);
    expect(after).toMatchObject({ status: "COMPLETED", failureReason: null, updatedAt: job.updatedAt });
    expect((await listJobEvents(db(), job.id, { limit: 10 })).items).toEqual([]);
  });

  it("stores the failure reason with the transition to FAILED", async () => {
    const job = await seedJob("RUNNING");
    const result = await transitionJob(db(), job.id, ["SCHEDULED", "RUNNING"], "FAILED", {
      reason: "no provider for network anvil",
      event: { kind: "failed", detail: { reason: "no provider for network anvil" } },
    });
    expect(result.applied).toBe(true);
    expect((await getJob(db(), job.id))?.failureReason).toBe("no provider for network anvil");
    const [event] = (await listJobEvents(db(), job.id, { limit: 10 })).items;
    expect(event).toMatchObject({ kind: "failed", detail: { reason: "no provider for network anvil" } });
  });

  it("reports a missing job as not applied with a null status", async () => {
    expect(await transitionJob(db(), 999, ["SCHEDULED"], "RUNNING", { event: { kind: "running" } })).toEqual({ applied: false, status: null });
  });

  it("lets only one of two racing identical transitions apply", async () => {
    const job = await seedJob("STOP_REQUESTED");
    const results = await Promise.all(
      [1, 2].map(() => transitionJob(db(), job.id, ["STOP_REQUESTED"], "STOPPING", { event: { kind: "stopping" } })),
    );
    expect(results.filter((r) => r.applied)).toHaveLength(1);
    expect(results.map((r) => r.status)).toEqual(["STOPPING", "STOPPING"]);
    expect((await listJobEvents(db(), job.id, { limit: 10 })).items).toHaveLength(1);
  });
});

describe("deleteTerminalJob and deleteJobsByStatus", () => {
  it("deletes a terminal job with its events and clears the writer of its locations", async () => {
    const job = await seedJob("STOPPED");
    await appendJobEvent(db(), job.id, { kind: "stopped" });
    const location = await seedLocation({ writer: job.id });
    expect(await deleteTerminalJob(db(), job.id)).toEqual({ outcome: "deleted" });
    expect(await getJob(db(), job.id)).toBeUndefined();
    expect((await listJobEvents(db(), job.id, { limit: 10 })).items).toEqual([]);
    expect((await getLocation(db(), location.id))?.writer).toBeNull();
  });

  it("refuses a job that is not terminal and says its status", async () => {
    const job = await seedJob("STOPPING");
    expect(await deleteTerminalJob(db(), job.id)).toEqual({ outcome: "not_terminal", status: "STOPPING" });
    expect(await getJob(db(), job.id)).toBeDefined();
  });

  it("reports an absent job", async () => {
    expect(await deleteTerminalJob(db(), 12345)).toEqual({ outcome: "absent" });
  });

  it("deletes by status only terminal jobs", async () => {
    const completed = await seedJob("COMPLETED");
    const running = await seedJob("RUNNING");
    expect(await deleteJobsByStatus(db(), ["COMPLETED", "RUNNING"])).toBe(1);
    expect(await getJob(db(), completed.id)).toBeUndefined();
    expect(await getJob(db(), running.id)).toBeDefined();
  });
});

describe("listJobs", () => {
  it("pages by id descending with a cursor present only when more rows exist", async () => {
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) ids.push((await seedJob()).id);
    const first = await listJobs(db(), { limit: 2 });
    expect(first.items.map((j) => j.id)).toEqual([ids[3], ids[2]]);
    expect(first.nextCursor).toBe(ids[2]);
    const second = await listJobs(db(), { limit: 2, after: first.nextCursor });
    expect(second.items.map((j) => j.id)).toEqual([ids[1], ids[0]]);
    expect(second.nextCursor).toBeUndefined();
  });
});
