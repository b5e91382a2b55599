import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../src/api/errors";
import { api, del, expectError, postJson, READ, withoutToken } from "./api-client";
import { canonicalOf, derivedManifest, rawManifest, register, registerFixtureDependencies, registryState, versions } from "./registry-support";

const MiB = 1024 * 1024;

describe("POST /datasets", () => {
  it("stores the manifest in R2 and D1, links it, and sets dev and the version (201, empty body)", async () => {
    const manifest = rawManifest();
    const { canonical, hash } = await canonicalOf(manifest);
    const res = await postJson("/datasets", { namespace: "_", name: "anvil_rpc", version: "1.0.0", manifest });
    expect(res.status).toBe(201);
    expect(await res.text()).toBe("");

    expect(hash).toBe("3d1c0c2d3d7c276e18bd92a09728ecd76ad8be05ebb30656c448859f3e5c22b9");
    expect(await (await env.BUCKET.get(`manifests/${hash}`))?.text()).toBe(canonical);
    const row = await env.DB.prepare("SELECT hash, path, kind, created_at FROM manifest_files").first<Record<string, string>>();
    expect(row).toMatchObject({ hash, path: hash, kind: "evm-rpc" });
    expect(row?.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

    const body = await versions("_", "anvil_rpc");
    expect(body.versions).toEqual([{ version: "1.0.0", manifest_hash: hash, created_at: expect.stringMatching(/Z$/), updated_at: expect.stringMatching(/Z$/) }]);
    expect(body.special_tags).toEqual({ latest: "1.0.0", dev: hash });
  });

  it("without a version only links the manifest and moves dev", async () => {
    const { hash } = await canonicalOf(rawManifest());
    await register("_", "anvil_rpc", rawManifest());
    await register("_", "anvil_rpc", rawManifest(), null);
    const body = await versions("_", "anvil_rpc");
    expect(body.versions).toEqual([]);
    expect(body.special_tags).toEqual({ dev: hash });
  });

  it("accepts a hash of a stored manifest, in either case", async () => {
    const manifest = rawManifest();
    const stored = await postJson("/manifests", manifest);
    const { hash } = (await stored.json()) as { hash: string };
    await register("edgeandnode", "anvil", hash.toUpperCase(), "0.1.0");
    const body = await versions("edgeandnode", "anvil");
    expect(body.special_tags).toEqual({ latest: "0.1.0", dev: hash });
  });

  it("answers 404 MANIFEST_NOT_FOUND for a hash that is not stored, and writes nothing", async () => {
    const before = await registryState();
    await expectError(await postJson("/datasets", { namespace: "_", name: "x", manifest: "ab".repeat(32) }), 404, "MANIFEST_NOT_FOUND");
    expect(await registryState()).toEqual(before);
  });

  it("registers a derived dataset whose SQL reads declared dependency aliases", async () => {
    await register("_", "eth", rawManifest("mainnet"), "1.0.0");
    const derived = derivedManifest("SELECT blocks.block_num FROM chain.blocks JOIN chain.logs ON blocks.hash = logs.block_hash", { chain: "_/eth@1.0.0" });
    await register("_", "eth_derived", derived, "1.0.0");
    const info = await api("/datasets/_/eth_derived/versions/1.0.0");
    expect(await info.json()).toMatchObject({ kind: "manifest" });
  });

  it("registers the shared fixtures, with the reference hashes", async () => {
    const shared = env.TEST_SHARED;
    if (!shared) return;
    const hashes = shared.manifests["hashes.json"] as Record<string, { sha256: string }>;
    for (const [file, manifest] of Object.entries(shared.manifests)) {
      if (file === "hashes.json") continue;
      const name = file.replace(/\.json$/, "").replace(/[^a-z0-9_]/g, "_");
      await registerFixtureDependencies(shared.manifests, manifest);
      await register("_", name, manifest, "1.0.0");
      const info = (await (await api(`/datasets/_/${name}/versions/1.0.0`)).json()) as { manifest_hash: string };
      expect(info.manifest_hash, file).toBe(hashes[file]?.sha256);
    }
  });

  describe("rejects bad requests with a code, and writes nothing", () => {
    const valid = { namespace: "_", name: "anvil_rpc", version: "1.0.0", manifest: rawManifest() };
    const cases: [string, Record<string, unknown>, number, ErrorCode][] = [
      ["missing namespace", { ...valid, namespace: undefined }, 400, "INVALID_PAYLOAD_FORMAT"],
      ["uppercase namespace", { ...valid, namespace: "Edge" }, 400, "INVALID_PAYLOAD_FORMAT"],
      ["namespace with a slash", { ...valid, namespace: "a/b" }, 400, "INVALID_PAYLOAD_FORMAT"],
      ["name starting with a digit", { ...valid, name: "1eth" }, 400, "INVALID_PAYLOAD_FORMAT"],
      ["name of 256 characters", { ...valid, name: "a".repeat(256) }, 400, "INVALID_PAYLOAD_FORMAT"],
      ["namespace of 256 characters", { ...valid, namespace: "a".repeat(256) }, 400, "INVALID_PAYLOAD_FORMAT"],
      ["numeric name", { ...valid, name: 5 }, 400, "INVALID_PAYLOAD_FORMAT"],
      ["v-prefixed version", { ...valid, version: "v1.0.0" }, 400, "INVALID_PAYLOAD_FORMAT"],
      ["version 'latest'", { ...valid, version: "latest" }, 400, "INVALID_PAYLOAD_FORMAT"],
      ["two-part version", { ...valid, version: "1.0" }, 400, "INVALID_PAYLOAD_FORMAT"],
      ["missing manifest", { ...valid, manifest: undefined }, 400, "INVALID_PAYLOAD_FORMAT"],
      ["a string that is not a hash", { ...valid, manifest: "abc" }, 400, "INVALID_MANIFEST"],
      ["a 63-hex string", { ...valid, manifest: "a".repeat(63) }, 400, "INVALID_MANIFEST"],
      ["a number", { ...valid, manifest: 5 }, 400, "INVALID_MANIFEST"],
      ["null", { ...valid, manifest: null }, 400, "INVALID_MANIFEST"],
      ["an array", { ...valid, manifest: [rawManifest()] }, 400, "INVALID_MANIFEST"],
      ["no kind", { ...valid, manifest: { network: "anvil" } }, 400, "INVALID_MANIFEST"],
      ["an unknown kind", { ...valid, manifest: { ...rawManifest(), kind: "sql" } }, 400, "UNSUPPORTED_DATASET_KIND"],
      ["a raw manifest without tables", { ...valid, manifest: { kind: "evm-rpc", network: "anvil" } }, 400, "INVALID_MANIFEST"],
      ["an unknown Arrow type", { ...valid, manifest: { kind: "firehose", network: "n", tables: { t: { network: "n", schema: { arrow: { fields: [{ name: "a", type: "Text", nullable: true }] } } } } } }, 400, "INVALID_MANIFEST"],
      ["a start_block above 2^53", { ...valid, manifest: { ...rawManifest(), start_block: 2 ** 60 } }, 400, "INVALID_MANIFEST"],
      ["an undeclared SQL dependency", { ...valid, manifest: derivedManifest("SELECT * FROM other.blocks", { eth: "_/anvil_rpc@0.1.0" }) }, 400, "DEPENDENCY_VALIDATION_ERROR"],
      ["a dataset reference instead of an alias", { ...valid, manifest: derivedManifest('SELECT * FROM "_/eth@1.0.0".blocks', { eth: "_/anvil_rpc@0.1.0" }) }, 400, "DEPENDENCY_VALIDATION_ERROR"],
      ["a non-incremental table (Aggregate)", { ...valid, manifest: derivedManifest("SELECT count(*) AS n FROM eth.blocks", { eth: "_/anvil_rpc@0.1.0" }) }, 400, "NON_INCREMENTAL_QUERY"],
      ["a non-incremental table (Sort)", { ...valid, manifest: derivedManifest("SELECT block_num FROM eth.blocks ORDER BY block_num", { eth: "_/anvil_rpc@0.1.0" }) }, 400, "NON_INCREMENTAL_QUERY"],
      ["a dependency that is not registered", { ...valid, manifest: derivedManifest("SELECT block_num FROM eth.blocks", { eth: "_/eth@1.0.0" }) }, 400, "DEPENDENCY_VALIDATION_ERROR"],
      ["a dependency version that is not tagged", { ...valid, manifest: derivedManifest("SELECT block_num FROM eth.blocks", { eth: "_/anvil_rpc@0.2.0" }) }, 400, "DEPENDENCY_VALIDATION_ERROR"],
      ["two SQL statements", { ...valid, manifest: derivedManifest("SELECT 1; SELECT 2", {}) }, 400, "DEPENDENCY_VALIDATION_ERROR"],
      ["SQL that does not parse", { ...valid, manifest: derivedManifest("SELEC nothing", {}) }, 400, "DEPENDENCY_VALIDATION_ERROR"],
      ["a malformed dependency reference", { ...valid, manifest: derivedManifest("SELECT 1", { eth: "eth@1.0.0" }) }, 400, "INVALID_MANIFEST"],
    ];
    it.each(cases)("%s", async (_, body, status, code) => {
      await register("_", "anvil_rpc", rawManifest("other"), "0.1.0");
      const before = await registryState();
      await expectError(await postJson("/datasets", body), status, code);
      expect(await registryState()).toEqual(before);
    });

    it.each([
      ["malformed JSON", { "content-type": "application/json" }, '{"namespace": "_",'],
      ["a JSON body sent as text/plain", { "content-type": "text/plain" }, JSON.stringify(valid)],
      ["no content type", {}, JSON.stringify(valid)],
      ["an empty body", { "content-type": "application/json" }, ""],
      ["a JSON array", { "content-type": "application/json" }, "[]"],
      ["invalid UTF-8", { "content-type": "application/json" }, new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])],
    ] as [string, Record<string, string>, BodyInit][])("%s is INVALID_PAYLOAD_FORMAT", async (_, headers, body) => {
      const before = await registryState();
      await expectError(await api("/datasets", { method: "POST", headers, body }), 400, "INVALID_PAYLOAD_FORMAT");
      expect(await registryState()).toEqual(before);
    });

    it("a body over 2 MiB is INVALID_PAYLOAD_FORMAT", async () => {
      const before = await registryState();
      const big = JSON.stringify({ ...valid, padding: "x".repeat(2 * MiB) });
      await expectError(await api("/datasets", { method: "POST", headers: { "content-type": "application/json" }, body: big }), 400, "INVALID_PAYLOAD_FORMAT");
      expect(await registryState()).toEqual(before);
    });

    it("a body just under 2 MiB is read", async () => {
      const body = JSON.stringify({ ...valid, padding: "" });
      const padded = JSON.stringify({ ...valid, padding: "x".repeat(2 * MiB - body.length) });
      expect(padded.length).toBe(2 * MiB);
      expect((await api("/datasets", { method: "POST", headers: { "content-type": "application/json" }, body: padded })).status).toBe(201);
    });
  });

  it("is idempotent: registering the same content twice leaves the same state", async () => {
    await register("_", "anvil_rpc", rawManifest(), "1.0.0");
    const once = await registryState();
    await register("_", "anvil_rpc", rawManifest(), "1.0.0");
    expect(await registryState()).toEqual(once);
  });
});

describe("DELETE /datasets/{namespace}/{name}", () => {
  it("removes links, tags and the manifests no other dataset links, rows and objects", async () => {
    const shared = (await canonicalOf(rawManifest("shared"))).hash;
    const own = (await canonicalOf(rawManifest("own"))).hash;
    await register("_", "a", rawManifest("shared"), "1.0.0");
    await register("_", "a", rawManifest("own"), "2.0.0");
    await register("_", "b", rawManifest("shared"), "1.0.0");

    expect((await del("/datasets/_/a")).status).toBe(204);
    expect(await versions("_", "a")).toEqual({ namespace: "_", name: "a", versions: [], special_tags: {} });
    expect(await env.BUCKET.head(`manifests/${own}`)).toBeNull();
    expect((await api(`/manifests/${own}`)).status).toBe(404);
    expect(await env.BUCKET.head(`manifests/${shared}`)).not.toBeNull();
    expect((await api("/datasets/_/b/versions/1.0.0")).status).toBe(200);
    const tags = await env.DB.prepare("SELECT namespace, name, version FROM tags WHERE name = 'a'").all();
    expect(tags.results).toEqual([]);
  });

  it("is idempotent: 204 twice, and for a dataset that never existed", async () => {
    await register("_", "a", rawManifest(), "1.0.0");
    expect((await del("/datasets/_/a")).status).toBe(204);
    const once = await registryState();
    expect((await del("/datasets/_/a")).status).toBe(204);
    expect((await del("/datasets/_/never")).status).toBe(204);
    expect(await registryState()).toEqual(once);
  });

  it.each([
    ["Upper", "a"],
    ["a-b", "a"],
    ["_", "1a"],
    ["_", "A"],
    ["_", "a".repeat(256)],
  ])("refuses %s/%s with INVALID_PATH", async (namespace, name) => {
    await expectError(await del(`/datasets/${namespace}/${name}`), 400, "INVALID_PATH");
  });
});

describe("GET /datasets", () => {
  it("lists every dataset by namespace then name, with versions highest first", async () => {
    await register("zeta", "b", rawManifest("1"), "0.2.0");
    await register("alpha", "z", rawManifest("2"), "1.0.0");
    await register("alpha", "z", rawManifest("3"), "0.9.0");
    await register("alpha", "a", rawManifest("4"));
    const res = await api("/datasets");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      datasets: [
        { namespace: "alpha", name: "a", versions: [] },
        { namespace: "alpha", name: "z", latest_version: "1.0.0", versions: ["1.0.0", "0.9.0"] },
        { namespace: "zeta", name: "b", latest_version: "0.2.0", versions: ["0.2.0"] },
      ],
    });
  });

  it("is empty on an empty registry, and readable with the read token", async () => {
    const res = await api("/datasets", { headers: READ });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ datasets: [] });
  });
});

describe("auth on the dataset routes", () => {
  it("answers 401 without a token or with a wrong one", async () => {
    const routes: [string, string][] = [
      ["GET", "/datasets"],
      ["POST", "/datasets"],
      ["DELETE", "/datasets/_/d"],
    ];
    for (const [method, path] of routes) {
      await expectError(await withoutToken(path, { method }), 401, "UNAUTHORIZED");
      await expectError(await api(path, { method, headers: { authorization: "Bearer nope" } }), 401, "UNAUTHORIZED");
    }
  });

  it("answers 403 to the read token on every write, and changes nothing", async () => {
    await register("_", "d", rawManifest("a"), "1.0.0");
    const before = await registryState();
    await expectError(await postJson("/datasets", { namespace: "_", name: "d", version: "3.0.0", manifest: rawManifest("c") }, READ), 403, "FORBIDDEN");
    await expectError(await api("/datasets/_/d", { method: "DELETE", headers: READ }), 403, "FORBIDDEN");
    expect(await registryState()).toEqual(before);
  });

  it("lets the read token read", async () => {
    expect((await api("/datasets", { headers: READ })).status).toBe(200);
  });
});

describe("odd input never answers 500", () => {
  it("a deeply nested unknown key is dropped like any unknown key (201)", async () => {
    const body = `{"namespace":"_","name":"x","manifest":{"kind":"evm-rpc","network":"n","tables":{},"x":${'{"a":'.repeat(3000)}1${"}".repeat(3000)}}}`;
    const res = await api("/datasets", { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(res.status).toBe(201);
    expect(await (await api("/datasets/_/x/versions/dev/manifest")).text()).toBe('{"kind":"evm-rpc","network":"n","start_block":0,"finalized_blocks_only":false,"tables":{}}');
  });

  it.each([
    ["GET", "/datasets/%E2%82%AC/x/versions"],
    ["GET", "/datasets/_/%00/versions/latest"],
    ["GET", "/datasets/_/x/versions/%ZZ"],
    ["DELETE", "/datasets/_/x/versions/1.0.0%2B"],
    ["GET", `/datasets/_/x/versions/${"9".repeat(400)}.0.0`],
    ["GET", "/manifests/%F0%9F%98%80"],
    ["DELETE", `/manifests/${"a".repeat(10_000)}`],
  ])("odd path %# (%s) is a 4xx", async (method, path) => {
    const res = await api(path, { method });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it.each([
    ["a deeply nested manifest", `{"namespace":"_","name":"x","manifest":${"[".repeat(5000)}${"]".repeat(5000)}}`],
    ["a huge number", '{"namespace":"_","name":"x","manifest":{"kind":"evm-rpc","network":"n","start_block":1e400,"tables":{}}}'],
    ["a table named __proto__ with a bad body", '{"namespace":"_","name":"x","manifest":{"kind":"evm-rpc","network":"n","tables":{"__proto__":{"x":1}}}}'],
    ["SQL nested past the parser's reach", JSON.stringify({ namespace: "_", name: "x", manifest: derivedManifest(`SELECT ${"(".repeat(5000)}1${")".repeat(5000)}`, {}) })],
  ])("%s is a 4xx and writes nothing", async (_, body) => {
    const before = await registryState();
    const res = await api("/datasets", { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await registryState()).toEqual(before);
  });
});
