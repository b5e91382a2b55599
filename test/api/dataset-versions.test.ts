import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, del, expectError, READ, withoutToken } from "./api-client";
import { canonicalOf, rawManifest, register, registryState, versions } from "./registry-support";

describe("tags", () => {
  it("dev moves to the manifest registered last, with or without a version", async () => {
    const a = (await canonicalOf(rawManifest("a"))).hash;
    const b = (await canonicalOf(rawManifest("b"))).hash;
    await register("_", "d", rawManifest("a"), "2.0.0");
    expect((await versions("_", "d")).special_tags.dev).toBe(a);
    await register("_", "d", rawManifest("b"), "1.0.0");
    expect((await versions("_", "d")).special_tags.dev).toBe(b);
    await register("_", "d", rawManifest("a"));
    expect((await versions("_", "d")).special_tags.dev).toBe(a);
    const dev = (await (await api("/datasets/_/d/versions/dev")).json()) as { manifest_hash: string };
    expect(dev.manifest_hash).toBe(a);
  });

  it("latest only moves forward in semver, whatever the registration order", async () => {
    const hashes: Record<string, string> = {};
    for (const [version, network] of [
      ["1.0.0", "n1"],
      ["9.0.0", "n9"],
      ["10.0.0", "n10"],
      ["2.0.0", "n2"],
      ["10.0.0-rc.1", "rc"],
    ]) {
      hashes[version as string] = (await canonicalOf(rawManifest(network))).hash;
      await register("_", "d", rawManifest(network), version);
    }
    const body = await versions("_", "d");
    expect(body.versions.map((v) => v.version)).toEqual(["10.0.0", "10.0.0-rc.1", "9.0.0", "2.0.0", "1.0.0"]);
    expect(body.special_tags.latest).toBe("10.0.0");
    const latest = (await (await api("/datasets/_/d/versions/latest")).json()) as { manifest_hash: string; revision: string };
    expect(latest).toMatchObject({ manifest_hash: hashes["10.0.0"], revision: "latest" });
    const list = (await (await api("/datasets")).json()) as { datasets: unknown[] };
    expect(list.datasets).toEqual([{ namespace: "_", name: "d", latest_version: "10.0.0", versions: ["10.0.0", "10.0.0-rc.1", "9.0.0", "2.0.0", "1.0.0"] }]);
  });

  it("re-tagging a version moves it to the new manifest; latest follows when it is that version", async () => {
    const first = (await canonicalOf(rawManifest("first"))).hash;
    const second = (await canonicalOf(rawManifest("second"))).hash;
    await register("_", "d", rawManifest("first"), "1.0.0");
    const before = (await versions("_", "d")).versions[0];
    await new Promise((resolve) => setTimeout(resolve, 5));
    await register("_", "d", rawManifest("second"), "1.0.0");
    const after = (await versions("_", "d")).versions[0];
    expect(before?.manifest_hash).toBe(first);
    expect(after?.manifest_hash).toBe(second);
    expect(after?.created_at).toBe(before?.created_at);
    expect(after?.updated_at).not.toBe(before?.updated_at);
    const latest = (await (await api("/datasets/_/d/versions/latest")).json()) as { manifest_hash: string };
    expect(latest.manifest_hash).toBe(second);
    // Both manifests stay linked: the old one is still reachable by hash.
    expect((await api(`/datasets/_/d/versions/${first}`)).status).toBe(200);
  });

  it("re-registering a version with the same manifest keeps its updated_at", async () => {
    await register("_", "d", rawManifest(), "1.0.0");
    const before = await versions("_", "d");
    await new Promise((resolve) => setTimeout(resolve, 5));
    await register("_", "d", rawManifest(), "1.0.0");
    expect(await versions("_", "d")).toEqual(before);
  });
});

describe("GET /datasets/{namespace}/{name}/versions", () => {
  it("answers 200 with empty lists for an unknown dataset", async () => {
    expect(await versions("_", "unknown")).toEqual({ namespace: "_", name: "unknown", versions: [], special_tags: {} });
  });

  it("refuses an invalid name with INVALID_PATH", async () => {
    await expectError(await api("/datasets/_/Bad/versions"), 400, "INVALID_PATH");
  });
});

describe("GET /datasets/{namespace}/{name}/versions/{revision}", () => {
  it("resolves a version, latest, dev and a linked hash to the manifest and kind", async () => {
    const { hash } = await canonicalOf(rawManifest());
    await register("_", "d", rawManifest(), "1.0.0");
    for (const revision of ["1.0.0", "latest", "dev", hash, hash.toUpperCase()]) {
      const res = await api(`/datasets/_/d/versions/${revision}`);
      expect(res.status, revision).toBe(200);
      expect(await res.json()).toEqual({ namespace: "_", name: "d", revision, manifest_hash: hash, kind: "evm-rpc" });
    }
  });

  it("answers 404 DATASET_NOT_FOUND for a hash linked to another dataset only", async () => {
    const { hash } = await canonicalOf(rawManifest());
    await register("_", "owner", rawManifest(), "1.0.0");
    await register("_", "other", rawManifest("x"), "1.0.0");
    await expectError(await api(`/datasets/_/other/versions/${hash}`), 404, "DATASET_NOT_FOUND");
    await expectError(await api(`/datasets/ns/owner/versions/${hash}`), 404, "DATASET_NOT_FOUND");
    await expectError(await api(`/datasets/_/other/versions/${hash}/manifest`), 404, "DATASET_NOT_FOUND");
  });

  it("answers 404 DATASET_NOT_FOUND for an unknown dataset, version, latest or dev", async () => {
    await register("_", "dev_only", rawManifest());
    await expectError(await api("/datasets/_/nothing/versions/1.0.0"), 404, "DATASET_NOT_FOUND");
    await expectError(await api("/datasets/_/dev_only/versions/1.0.0"), 404, "DATASET_NOT_FOUND");
    await expectError(await api("/datasets/_/dev_only/versions/latest"), 404, "DATASET_NOT_FOUND");
    await expectError(await api("/datasets/_/nothing/versions/dev"), 404, "DATASET_NOT_FOUND");
    expect((await api("/datasets/_/dev_only/versions/dev")).status).toBe(200);
  });

  it.each(["v1.0.0", "Latest", "1.0", "abc", "a".repeat(65)])("refuses revision %s with INVALID_PATH", async (revision) => {
    await expectError(await api(`/datasets/_/d/versions/${revision}`), 400, "INVALID_PATH");
  });
});

describe("GET /datasets/{namespace}/{name}/versions/{revision}/manifest", () => {
  it("answers the stored canonical JSON, the same bytes as GET /manifests/{hash}", async () => {
    const manifest = { ...rawManifest(), name: "dropped", tables: { b: { network: "n", schema: { arrow: { fields: [] } } } } };
    const { canonical, hash } = await canonicalOf(manifest);
    await register("_", "d", manifest, "1.0.0");
    const res = await api("/datasets/_/d/versions/latest/manifest");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.text()).toBe(canonical);
    expect(await (await api(`/manifests/${hash}`)).text()).toBe(canonical);
  });

  it("answers 404 DATASET_NOT_FOUND for an unresolved revision and 404 MANIFEST_NOT_FOUND when the object is gone", async () => {
    const { hash } = await canonicalOf(rawManifest());
    await register("_", "d", rawManifest(), "1.0.0");
    await expectError(await api("/datasets/_/d/versions/2.0.0/manifest"), 404, "DATASET_NOT_FOUND");
    await env.BUCKET.delete(`manifests/${hash}`);
    await expectError(await api("/datasets/_/d/versions/1.0.0/manifest"), 404, "MANIFEST_NOT_FOUND");
  });

  it("refuses a bad revision with INVALID_PATH", async () => {
    await expectError(await api("/datasets/_/d/versions/nope/manifest"), 400, "INVALID_PATH");
  });
});

describe("DELETE /datasets/{namespace}/{name}/versions/{version}", () => {
  it("refuses to delete the version latest points to, and deletes the others", async () => {
    await register("_", "d", rawManifest("a"), "1.0.0");
    await register("_", "d", rawManifest("b"), "2.0.0");
    const before = await registryState();
    await expectError(await del("/datasets/_/d/versions/2.0.0"), 400, "CANNOT_DELETE_LATEST_VERSION");
    expect(await registryState()).toEqual(before);

    expect((await del("/datasets/_/d/versions/1.0.0")).status).toBe(204);
    const body = await versions("_", "d");
    expect(body.versions.map((v) => v.version)).toEqual(["2.0.0"]);
    expect(body.special_tags.latest).toBe("2.0.0");
    // The manifest stays linked and resolvable by hash.
    const a = (await canonicalOf(rawManifest("a"))).hash;
    expect((await api(`/datasets/_/d/versions/${a}`)).status).toBe(200);
  });

  it("allows deleting a version that shares latest's manifest but is not latest", async () => {
    await register("_", "d", rawManifest(), "1.0.0");
    await register("_", "d", rawManifest(), "2.0.0");
    expect((await del("/datasets/_/d/versions/1.0.0")).status).toBe(204);
    await expectError(await del("/datasets/_/d/versions/2.0.0"), 400, "CANNOT_DELETE_LATEST_VERSION");
  });

  it("lets the old latest go once a higher version exists", async () => {
    await register("_", "d", rawManifest("a"), "1.0.0");
    await expectError(await del("/datasets/_/d/versions/1.0.0"), 400, "CANNOT_DELETE_LATEST_VERSION");
    await register("_", "d", rawManifest("b"), "1.1.0");
    expect((await del("/datasets/_/d/versions/1.0.0")).status).toBe(204);
  });

  it("is idempotent: an absent version is 204, twice", async () => {
    await register("_", "d", rawManifest("a"), "1.0.0");
    await register("_", "d", rawManifest("b"), "2.0.0");
    expect((await del("/datasets/_/d/versions/1.0.0")).status).toBe(204);
    const once = await registryState();
    expect((await del("/datasets/_/d/versions/1.0.0")).status).toBe(204);
    expect((await del("/datasets/_/nothing/versions/3.0.0")).status).toBe(204);
    expect(await registryState()).toEqual(once);
  });

  it.each(["latest", "dev", "v1.0.0", "1.0", "a".repeat(64)])("refuses %s as a version with INVALID_PATH", async (version) => {
    await register("_", "d", rawManifest(), "1.0.0");
    const before = await registryState();
    await expectError(await del(`/datasets/_/d/versions/${version}`), 400, "INVALID_PATH");
    expect(await registryState()).toEqual(before);
  });
});

describe("auth on the version routes", () => {
  const reads = ["/datasets/_/d/versions", "/datasets/_/d/versions/latest", `/datasets/_/d/versions/${"a".repeat(64)}/manifest`];

  it("answers 401 without a token or with a wrong one", async () => {
    const routes: [string, string][] = [...reads.map((path): [string, string] => ["GET", path]), ["DELETE", "/datasets/_/d/versions/1.0.0"]];
    for (const [method, path] of routes) {
      await expectError(await withoutToken(path, { method }), 401, "UNAUTHORIZED");
      await expectError(await api(path, { method, headers: { authorization: "Bearer nope" } }), 401, "UNAUTHORIZED");
    }
  });

  it("answers 403 to the read token on DELETE, and changes nothing", async () => {
    await register("_", "d", rawManifest("a"), "1.0.0");
    await register("_", "d", rawManifest("b"), "2.0.0");
    const before = await registryState();
    await expectError(await api("/datasets/_/d/versions/1.0.0", { method: "DELETE", headers: READ }), 403, "FORBIDDEN");
    expect(await registryState()).toEqual(before);
  });

  it("lets the read token read", async () => {
    await register("_", "d", rawManifest(), "1.0.0");
    for (const path of ["/datasets/_/d/versions", "/datasets/_/d/versions/latest", "/datasets/_/d/versions/dev/manifest"]) {
      expect((await api(path, { headers: READ })).status, path).toBe(200);
    }
  });
});
