import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../src/api/errors";
import { api, del, expectError, postJson, READ, withoutToken } from "./api-client";
import { canonicalOf, derivedManifest, rawManifest, register, registerFixtureDependencies, registryState } from "./registry-support";

async function storeManifest(manifest: unknown): Promise<string> {
  const res = await postJson("/manifests", manifest);
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { hash: string }).hash;
}

describe("POST /manifests", () => {
  it("stores the canonical bytes under manifests/<hash> and a row, without links or tags (201 {hash})", async () => {
    const manifest = rawManifest();
    const { canonical, hash } = await canonicalOf(manifest);
    const res = await postJson("/manifests", manifest);
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ hash });
    expect(hash).toBe("3d1c0c2d3d7c276e18bd92a09728ecd76ad8be05ebb30656c448859f3e5c22b9");
    const object = await env.BUCKET.get(`manifests/${hash}`);
    expect(await object?.text()).toBe(canonical);
    expect(object?.httpMetadata?.contentType).toBe("application/json");
    const state = (await registryState()) as { manifest_files: unknown[]; dataset_manifests: unknown[]; tags: unknown[] };
    expect(state.manifest_files).toEqual([{ hash, path: hash, kind: "evm-rpc", created_at: expect.stringMatching(/Z$/) }]);
    expect(state.dataset_manifests).toEqual([]);
    expect(state.tags).toEqual([]);
  });

  it("gives every shared fixture its reference hash", async () => {
    const shared = env.TEST_SHARED;
    if (!shared) return;
    const hashes = shared.manifests["hashes.json"] as Record<string, { sha256: string; canonical_length: number }>;
    for (const [file, manifest] of Object.entries(shared.manifests)) {
      if (file === "hashes.json") continue;
      await registerFixtureDependencies(shared.manifests, manifest);
      const hash = await storeManifest(manifest);
      expect(hash, file).toBe(hashes[file]?.sha256);
      const stored = await (await api(`/manifests/${hash}`)).arrayBuffer();
      expect(stored.byteLength, file).toBe(hashes[file]?.canonical_length);
    }
  });

  it("is idempotent: the same content, in any key order, gives the same hash and state", async () => {
    const manifest = rawManifest();
    const hash = await storeManifest(manifest);
    const once = await registryState();
    const reordered = Object.fromEntries(Object.entries(manifest).reverse());
    expect(await storeManifest(reordered)).toBe(hash);
    expect(await storeManifest({ ...manifest, unknown_key: "dropped" })).toBe(hash);
    expect(await registryState()).toEqual(once);
  });

  it("stores a derived manifest whose dependencies check out", async () => {
    await register("_", "anvil", rawManifest(), "0.1.0");
    const hash = await storeManifest(derivedManifest("SELECT block_num FROM anvil.blocks", { anvil: "_/anvil@0.1.0" }));
    expect(JSON.parse(await (await api(`/manifests/${hash}`)).text())).toMatchObject({ kind: "manifest", dependencies: { anvil: "_/anvil@0.1.0" } });
  });

  describe("rejects bad manifests with a code, and writes nothing", () => {
    it.each([
      ["an array", [rawManifest()], "INVALID_MANIFEST"],
      ["a string", "evm-rpc", "INVALID_MANIFEST"],
      ["null", null, "INVALID_MANIFEST"],
      ["no kind", { network: "anvil", tables: {} }, "INVALID_MANIFEST"],
      ["a numeric kind", { kind: 7 }, "INVALID_MANIFEST"],
      ["an unknown kind", { kind: "substreams" }, "UNSUPPORTED_DATASET_KIND"],
      ["a raw manifest without network", { kind: "eth-beacon", tables: {} }, "INVALID_MANIFEST"],
      ["a negative start_block", { ...rawManifest(), start_block: -5 }, "INVALID_MANIFEST"],
      ["a nested Arrow type", { kind: "firehose", network: "n", tables: { t: { network: "n", schema: { arrow: { fields: [{ name: "a", type: { List: "Utf8" }, nullable: true }] } } } } }, "INVALID_MANIFEST"],
      ["an undeclared dependency", derivedManifest("SELECT * FROM eth.blocks", {}), "DEPENDENCY_VALIDATION_ERROR"],
      ["an INSERT instead of a query", derivedManifest("INSERT INTO eth.blocks VALUES (1)", { eth: "_/eth@1.0.0" }), "DEPENDENCY_VALIDATION_ERROR"],
      ["a dependency that is not registered", derivedManifest("SELECT block_num FROM eth.blocks", { eth: "_/eth@1.0.0" }), "DEPENDENCY_VALIDATION_ERROR"],
    ] as [string, unknown, ErrorCode][])("%s", async (_, body, code) => {
      await storeManifest(rawManifest("existing"));
      const before = await registryState();
      await expectError(await postJson("/manifests", body), 400, code);
      expect(await registryState()).toEqual(before);
    });

    it("an unpaired surrogate escape is INVALID_MANIFEST", async () => {
      const before = await registryState();
      const body = '{"kind":"evm-rpc","network":"\\ud800","tables":{}}';
      await expectError(await api("/manifests", { method: "POST", headers: { "content-type": "application/json" }, body }), 400, "INVALID_MANIFEST");
      expect(await registryState()).toEqual(before);
    });

    it.each([
      ["malformed JSON", { "content-type": "application/json" }, "{"],
      ["a wrong content type", { "content-type": "application/x-www-form-urlencoded" }, JSON.stringify(rawManifest())],
      ["an empty body", { "content-type": "application/json" }, ""],
      ["a body over 2 MiB", { "content-type": "application/json" }, JSON.stringify({ ...rawManifest(), pad: "x".repeat(2 * 1024 * 1024) })],
    ] as [string, Record<string, string>, string][])("%s is INVALID_PAYLOAD_FORMAT", async (_, headers, body) => {
      const before = await registryState();
      await expectError(await api("/manifests", { method: "POST", headers, body }), 400, "INVALID_PAYLOAD_FORMAT");
      expect(await registryState()).toEqual(before);
    });
  });
});

describe("GET /manifests/{hash}", () => {
  it("answers the exact stored bytes, for a hash in either case", async () => {
    await register("_", "anvil", rawManifest(), "0.1.0");
    const manifest = derivedManifest("SELECT 'a\"b' AS x FROM anvil.blocks", { anvil: "pkg:amp/_/anvil@latest" });
    const { canonical, hash } = await canonicalOf(manifest);
    expect(await storeManifest(manifest)).toBe(hash);
    for (const h of [hash, hash.toUpperCase()]) {
      const res = await api(`/manifests/${h}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(await res.text()).toBe(canonical);
    }
    expect(canonical).toContain('"anvil":"_/anvil@latest"');
  });

  it("answers 404 MANIFEST_NOT_FOUND for an unknown hash, and when the object is gone", async () => {
    await expectError(await api(`/manifests/${"0".repeat(64)}`), 404, "MANIFEST_NOT_FOUND");
    const hash = await storeManifest(rawManifest());
    await env.BUCKET.delete(`manifests/${hash}`);
    await expectError(await api(`/manifests/${hash}`), 404, "MANIFEST_NOT_FOUND");
  });

  it.each(["abc", "g".repeat(64), "a".repeat(63), "a".repeat(65)])("answers 400 INVALID_HASH for %s", async (hash) => {
    await expectError(await api(`/manifests/${hash}`), 400, "INVALID_HASH");
  });
});

describe("DELETE /manifests/{hash}", () => {
  it("answers 409 MANIFEST_LINKED while a dataset links the manifest, and changes nothing", async () => {
    const { hash } = await canonicalOf(rawManifest());
    await register("_", "d", rawManifest(), "1.0.0");
    const before = await registryState();
    await expectError(await del(`/manifests/${hash}`), 409, "MANIFEST_LINKED");
    expect(await registryState()).toEqual(before);
  });

  it("also refuses a manifest that is linked without any version tag", async () => {
    const first = (await canonicalOf(rawManifest("a"))).hash;
    await register("_", "d", rawManifest("a"));
    await register("_", "d", rawManifest("b"));
    await expectError(await del(`/manifests/${first}`), 409, "MANIFEST_LINKED");
  });

  it("deletes an unlinked manifest, row and object (204), and is idempotent", async () => {
    const hash = await storeManifest(rawManifest());
    const other = await storeManifest(rawManifest("other"));
    expect((await del(`/manifests/${hash}`)).status).toBe(204);
    expect(await env.BUCKET.head(`manifests/${hash}`)).toBeNull();
    await expectError(await api(`/manifests/${hash}`), 404, "MANIFEST_NOT_FOUND");
    const once = await registryState();
    expect((await del(`/manifests/${hash}`)).status).toBe(204);
    expect((await del(`/manifests/${"f".repeat(64)}`)).status).toBe(204);
    expect(await registryState()).toEqual(once);
    expect(await env.BUCKET.head(`manifests/${other}`)).not.toBeNull();
  });

  it("deletes a manifest once its dataset is gone", async () => {
    await register("_", "a", rawManifest(), "1.0.0");
    await register("_", "b", rawManifest(), "1.0.0");
    const { hash } = await canonicalOf(rawManifest());
    expect((await del("/datasets/_/a")).status).toBe(204);
    await expectError(await del(`/manifests/${hash}`), 409, "MANIFEST_LINKED");
    expect((await del("/datasets/_/b")).status).toBe(204);
    // Deleting the last dataset already removed the orphan.
    await expectError(await api(`/manifests/${hash}`), 404, "MANIFEST_NOT_FOUND");
  });

  it("answers 400 INVALID_HASH for a bad hash", async () => {
    await expectError(await del("/manifests/nope"), 400, "INVALID_HASH");
  });
});

describe("DELETE /manifests (prune)", () => {
  it("deletes every unlinked manifest, row and object, and keeps the linked ones", async () => {
    const orphanA = await storeManifest(rawManifest("a"));
    const orphanB = await storeManifest(rawManifest("b"));
    const { hash: linked } = await canonicalOf(rawManifest("linked"));
    await register("_", "d", rawManifest("linked"), "1.0.0");

    const res = await del("/manifests");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted_count: 2 });
    for (const hash of [orphanA, orphanB]) {
      expect(await env.BUCKET.head(`manifests/${hash}`)).toBeNull();
      await expectError(await api(`/manifests/${hash}`), 404, "MANIFEST_NOT_FOUND");
    }
    expect((await api(`/manifests/${linked}`)).status).toBe(200);
    expect((await api("/datasets/_/d/versions/1.0.0/manifest")).status).toBe(200);

    const again = await del("/manifests");
    expect(await again.json()).toEqual({ deleted_count: 0 });
  });

  it("deletes nothing on an empty registry", async () => {
    expect(await (await del("/manifests")).json()).toEqual({ deleted_count: 0 });
  });
});

describe("GET /manifests/{hash}/datasets", () => {
  it("lists the version tags pointing to the manifest, by dataset then highest version", async () => {
    const { hash } = await canonicalOf(rawManifest());
    await register("b", "x", rawManifest(), "1.0.0");
    await register("a", "y", rawManifest(), "0.9.0");
    await register("a", "y", rawManifest(), "0.10.0");
    await register("a", "z", rawManifest());
    await register("a", "y", rawManifest("other"), "2.0.0");
    const res = await api(`/manifests/${hash.toUpperCase()}/datasets`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      hash,
      datasets: [
        { namespace: "a", name: "y", version: "0.10.0" },
        { namespace: "a", name: "y", version: "0.9.0" },
        { namespace: "b", name: "x", version: "1.0.0" },
      ],
    });
  });

  it("answers an empty list for a stored manifest nobody tags, 404 for an unknown one, 400 for a bad hash", async () => {
    const hash = await storeManifest(rawManifest());
    expect(await (await api(`/manifests/${hash}/datasets`)).json()).toEqual({ hash, datasets: [] });
    await expectError(await api(`/manifests/${"1".repeat(64)}/datasets`), 404, "MANIFEST_NOT_FOUND");
    await expectError(await api("/manifests/xyz/datasets"), 400, "INVALID_HASH");
  });
});

describe("auth on the manifest routes", () => {
  const hash = "a".repeat(64);

  it("answers 401 without a token or with a wrong one", async () => {
    const routes: [string, string][] = [
      ["POST", "/manifests"],
      ["DELETE", "/manifests"],
      ["GET", `/manifests/${hash}`],
      ["DELETE", `/manifests/${hash}`],
      ["GET", `/manifests/${hash}/datasets`],
    ];
    for (const [method, path] of routes) {
      await expectError(await withoutToken(path, { method }), 401, "UNAUTHORIZED");
      for (const authorization of ["", "Bearer wrong", "Bearer test-read-token-x"]) {
        await expectError(await api(path, { method, headers: { authorization } }), 401, "UNAUTHORIZED");
      }
    }
  });

  it("answers 403 to the read token on every write, and changes nothing", async () => {
    const stored = await storeManifest(rawManifest("orphan"));
    const before = await registryState();
    await expectError(await postJson("/manifests", rawManifest("new"), READ), 403, "FORBIDDEN");
    await expectError(await api("/manifests", { method: "DELETE", headers: READ }), 403, "FORBIDDEN");
    await expectError(await api(`/manifests/${stored}`, { method: "DELETE", headers: READ }), 403, "FORBIDDEN");
    expect(await registryState()).toEqual(before);
  });

  it("lets the read token read", async () => {
    const stored = await storeManifest(rawManifest());
    expect((await api(`/manifests/${stored}`, { headers: READ })).status).toBe(200);
    expect((await api(`/manifests/${stored}/datasets`, { headers: READ })).status).toBe(200);
  });
});
