import { describe, expect, it } from "vitest";
import { findActiveLocation, getLocationWithWriter } from "../../src/store/locations";
import { db, seedJob, seedLocation } from "../support/workerd/seed-rows";

describe("locations", () => {
  it("finds the active location of a table and reads a location with its writer", async () => {
    const job = await seedJob("RUNNING");
    const active = await seedLocation({ active: true, writer: job.id, table: "logs" });
    await seedLocation({ active: false, table: "logs", manifestHash: active.manifestHash });
    expect((await findActiveLocation(db(), active.manifestHash, "logs"))?.id).toBe(active.id);
    expect(await findActiveLocation(db(), active.manifestHash, "blocks")).toBeUndefined();
    const withWriter = await getLocationWithWriter(db(), active.id);
    expect(withWriter?.writer).toMatchObject({ id: job.id, status: "RUNNING" });
    const withoutWriter = await getLocationWithWriter(db(), (await seedLocation()).id);
    expect(withoutWriter?.writer).toBeNull();
  });
});
