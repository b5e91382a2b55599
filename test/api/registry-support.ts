/** Helpers for the dataset, manifest, deploy and progress API tests: manifests, registration, and a snapshot of the registry's D1 rows and R2 objects. */
import { env } from "cloudflare:test";
import { expect } from "vitest";
import { canonicalManifestJson } from "../../src/domain/manifest/canonical";
import { evmRpcManifest } from "../../src/domain/manifest/evm-rpc";
import { prepareManifest } from "../../src/domain/manifest/parse";
import { seedJob, seedLocation } from "../support/workerd/seed-rows";
import { api, postJson } from "./api-client";

/** An evm-rpc manifest generated from the project's own table definitions; `network` makes it distinct. */
export function rawManifest(network = "anvil", startBlock = 0): Record<string, unknown> {
  return JSON.parse(canonicalManifestJson(evmRpcManifest(network, { startBlock })));
}

export function derivedManifest(sql: string, dependencies: Record<string, string>): Record<string, unknown> {
  return {
    kind: "manifest",
    dependencies,
    tables: { out: { input: { sql }, schema: { arrow: { fields: [{ name: "block_num", type: "UInt64", nullable: false }] } }, network: "anvil" } },
  };
}

/**
 * Registers the shared fixtures a derived fixture names as its dependencies (`_/<name>@<version>` with
 * `<name>.json` among the fixtures), at the versions it names: registration resolves every dependency.
 */
export async function registerFixtureDependencies(fixtures: Readonly<Record<string, unknown>>, manifest: unknown): Promise<void> {
  for (const dependency of Object.values((manifest as { dependencies?: Record<string, string> }).dependencies ?? {})) {
    const [, name, version] = /^_\/(\w+)@(.+)$/.exec(dependency) ?? [];
    if (name && version) await register("_", name, fixtures[`${name}.json`], version);
  }
}

/** The canonical JSON and hash the API must store for a manifest. */
export async function canonicalOf(manifest: unknown): Promise<{ canonical: string; hash: string }> {
  const prepared = await prepareManifest(manifest);
  if (!prepared.ok) throw new Error(`${prepared.code}: ${prepared.message}`);
  return { canonical: prepared.canonical, hash: prepared.hash };
}

/** Registers a dataset and expects 201. */
export async function register(namespace: string, name: string, manifest: unknown, version?: string | null): Promise<void> {
  const res = await postJson("/datasets", { namespace, name, manifest, ...(version !== undefined ? { version } : {}) });
  expect(res.status, await res.clone().text()).toBe(201);
}

/** Every row of the registry's tables and every manifest object with its bytes. */
export async function registryState(): Promise<unknown> {
  const rows = async (table: string) => (await env.DB.prepare(`SELECT * FROM ${table} ORDER BY 1, 2, 3`).all()).results;
  const listing = await env.BUCKET.list({ prefix: "manifests/" });
  const objects: Record<string, string> = {};
  for (const object of listing.objects) objects[object.key] = (await (await env.BUCKET.get(object.key))?.text()) ?? "";
  return {
    manifest_files: await rows("manifest_files"),
    dataset_manifests: await rows("dataset_manifests"),
    tags: await rows("tags"),
    objects,
  };
}

export interface VersionsBody {
  namespace: string;
  name: string;
  versions: { version: string; manifest_hash: string; created_at: string; updated_at: string }[];
  special_tags: { latest?: string; dev?: string };
}

export async function versions(namespace: string, name: string): Promise<VersionsBody> {
  const res = await api(`/datasets/${namespace}/${name}/versions`);
  expect(res.status).toBe(200);
  return (await res.json()) as VersionsBody;
}

/** `_/<name>@1.0.0` registered, with a COMPLETED job writing the active location of `table`. */
export async function registerWithLocation(name: string, table = "blocks") {
  const manifest = rawManifest();
  const { hash: manifestHash } = await canonicalOf(manifest);
  await register("_", name, manifest, "1.0.0");
  const job = await seedJob("COMPLETED", { manifestHash });
  const location = await seedLocation({ active: true, writer: job.id, table, manifestHash });
  return { manifestHash, job, location };
}
