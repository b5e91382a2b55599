import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { canonicalManifestJson } from "../../../src/domain/manifest/canonical";
import { evmRpcManifest } from "../../../src/domain/manifest/evm-rpc";
import { prepareManifest } from "../../../src/domain/manifest/parse";
import { SHARED_DIR } from "../../support/shared-fixtures";

const FIXTURES = path.join(SHARED_DIR, "fixtures/manifests");
const present = existsSync(FIXTURES);

interface ExpectedHash {
  kind: string;
  canonical_length: number;
  sha256: string;
}

const expected: Record<string, ExpectedHash> = present
  ? JSON.parse(readFileSync(path.join(FIXTURES, "hashes.json"), "utf8"))
  : {};
const fixtureFiles = present ? readdirSync(FIXTURES).filter((f) => f.endsWith(".json") && f !== "hashes.json").sort() : [];

describe.skipIf(!present)("shared manifest fixtures (reference §2.4 vectors)", () => {
  it("has a vector for every fixture", () => {
    expect(fixtureFiles.length).toBeGreaterThanOrEqual(10);
    expect(Object.keys(expected).sort()).toEqual(fixtureFiles);
  });

  it.each(fixtureFiles)("%s canonicalizes to the expected length and sha256", async (file) => {
    const prepared = await prepareManifest(JSON.parse(readFileSync(path.join(FIXTURES, file), "utf8")));
    if (!prepared.ok) throw new Error(`${prepared.code}: ${prepared.message}`);
    const vector = expected[file];
    expect(prepared.kind).toBe(vector?.kind);
    expect(new TextEncoder().encode(prepared.canonical).length).toBe(vector?.canonical_length);
    expect(prepared.hash).toBe(vector?.sha256);
  });

  // anvil_rpc.json predates blocks.total_difficulty (fixtures/README.md); eth_rpc.json lists the 23 columns.
  it("the generated mainnet evm-rpc manifest equals eth_rpc.json and hashes to its vector", async () => {
    const generated = canonicalManifestJson(evmRpcManifest("mainnet", { startBlock: 15_000_000, finalizedBlocksOnly: false }));
    const fixture = JSON.parse(readFileSync(path.join(FIXTURES, "eth_rpc.json"), "utf8"));
    expect(JSON.parse(generated)).toEqual(fixture);
    const prepared = await prepareManifest(JSON.parse(generated));
    if (!prepared.ok) throw new Error(prepared.message);
    expect(prepared.hash).toBe(expected["eth_rpc.json"]?.sha256);
  });
});
