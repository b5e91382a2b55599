import { describe, expect, it } from "vitest";
import { seedFile, seedLocation } from "../support/workerd/seed-rows";
import { api, expectError, READ, withoutToken } from "./api-client";

describe("GET /files/{file_id}", () => {
  it("answers FileInfo with the location's url and the nozzle_metadata", async () => {
    const location = await seedLocation();
    const file = await seedFile(location, 100, 199);
    const res = await api(`/files/${file.id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      id: file.id,
      location_id: location.id,
      file_name: file.fileName,
      url: location.url,
      object_size: file.objectSize,
      object_e_tag: file.objectETag,
      metadata: file.metadata,
    });
  });

  it("leaves out object fields that are unknown", async () => {
    const file = await seedFile(await seedLocation(), 0, 9, { withObject: false });
    const body = await (await api(`/files/${file.id}`)).json();
    expect(Object.keys(body as object).sort()).toEqual(["file_name", "id", "location_id", "metadata", "url"]);
  });

  it("answers 404 FILE_NOT_FOUND and 400 INVALID_FILE_ID", async () => {
    await expectError(await api("/files/999"), 404, "FILE_NOT_FOUND");
    for (const id of ["0", "-1", "abc", "2.5", "99999999999999999999"]) await expectError(await api(`/files/${id}`), 400, "INVALID_FILE_ID");
  });

  it("needs a token; the read token may read", async () => {
    await expectError(await withoutToken("/files/1"), 401, "UNAUTHORIZED");
    const file = await seedFile(await seedLocation(), 0, 9);
    expect((await api(`/files/${file.id}`, { headers: READ })).status).toBe(200);
  });
});
