import { describe, expect, it } from "vitest";
import { BLOCK_NUM_FIELD, manifestTables } from "../../../src/domain/dataset-kinds/kind-definition";
import { datasetKind, kindTables, runnableKinds } from "../../../src/domain/dataset-kinds/registry";
import { evmRpcManifest } from "../../../src/domain/manifest/evm-rpc";
import type { Manifest, RawManifest } from "../../../src/domain/manifest/kinds";

const raw = (kind: RawManifest["kind"], tables: RawManifest["tables"]): Manifest => ({
  kind,
  network: "mainnet",
  start_block: 7,
  finalized_blocks_only: true,
  tables,
});

const beaconTables: RawManifest["tables"] = {
  blocks: {
    network: "mainnet-beacon",
    schema: { arrow: { fields: [{ name: "block_num", type: "UInt64", nullable: false }, { name: "graffiti", type: { FixedSizeBinary: 32 }, nullable: true }] } },
  },
};

describe("the dataset-kind registry", () => {
  it("has an answer for every kind, and says which kinds run here", () => {
    for (const kind of ["evm-rpc", "eth-beacon", "firehose", "manifest"] as const) {
      const definition = datasetKind(kind);
      expect(definition.cannotRun === null || definition.cannotRun.length > 20, kind).toBe(true);
    }
    expect(runnableKinds()).toContain("evm-rpc");
    expect(runnableKinds()).not.toContain("firehose");
  });

  it("evm-rpc: the tables of the code whatever the manifest lists, 23 blocks columns, _block_num first", () => {
    const manifest: Manifest = { ...evmRpcManifest("anvil"), tables: {} };
    const tables = kindTables(manifest);
    expect(tables.map((table) => table.name)).toEqual(["blocks", "logs", "transactions"]);
    for (const table of tables) expect(table.fields[0]).toEqual(BLOCK_NUM_FIELD);
    const blocks = tables[0]!.fields.map((field) => field.name);
    expect(blocks).toHaveLength(23); // reference §5.1: _block_num and 22 more
    expect(blocks.slice(blocks.indexOf("difficulty"), blocks.indexOf("difficulty") + 3)).toEqual(["difficulty", "total_difficulty", "gas_limit"]);
    expect(datasetKind("evm-rpc").providerKind).toBe("evm-rpc");
    expect(datasetKind("evm-rpc").chain(evmRpcManifest("anvil", { startBlock: 5, finalizedBlocksOnly: true }), {})).toEqual({
      network: "anvil",
      startBlock: 5,
      finalizedOnly: true,
    });
  });

  it("eth-beacon: one table from code whatever the manifest lists, 12 columns, nullable but for the slot", () => {
    expect(datasetKind("eth-beacon").cannotRun).toBeNull();
    expect(runnableKinds()).toContain("eth-beacon");
    expect(datasetKind("eth-beacon").providerKind).toBe("eth-beacon");
    const tables = kindTables(raw("eth-beacon", beaconTables));
    expect(tables).toEqual(kindTables(raw("eth-beacon", {})));
    expect(tables.map((table) => table.name)).toEqual(["blocks"]);
    const fields = tables[0]!.fields;
    expect(fields.map((field) => [field.name, field.type, field.nullable])).toEqual([
      ["_block_num", "UInt64", false],
      ["block_num", "UInt64", false],
      ["version", "Utf8", true],
      ["signature", { FixedSizeBinary: 96 }, true],
      ["proposer_index", "UInt64", true],
      ["parent_root", { FixedSizeBinary: 32 }, true],
      ["state_root", { FixedSizeBinary: 32 }, true],
      ["randao_reveal", { FixedSizeBinary: 96 }, true],
      ["eth1_data_deposit_root", { FixedSizeBinary: 32 }, true],
      ["eth1_data_deposit_count", "UInt64", true],
      ["eth1_data_block_hash", { FixedSizeBinary: 32 }, true],
      ["graffiti", { FixedSizeBinary: 32 }, true],
    ]);
    expect(datasetKind("eth-beacon").chain(raw("eth-beacon", beaconTables), {})).toEqual({ network: "mainnet", startBlock: 7, finalizedOnly: true });
  });

  it("firehose cannot run and says why in terms of the protocol", () => {
    expect(datasetKind("firehose").cannotRun).toMatch(/HTTP\/2 with trailers/);
    expect(datasetKind("firehose").providerKind).toBe("firehose");
  });

  it("a manifest's own tables get _block_num first, once, sorted by name", () => {
    const withBlockNum: RawManifest["tables"] = {
      z: { network: "n", schema: { arrow: { fields: [{ name: "_block_num", type: "UInt64", nullable: false }, { name: "x", type: "Utf8", nullable: true }] } } },
      ...beaconTables,
    };
    const tables = manifestTables(raw("firehose", withBlockNum));
    expect(tables.map((table) => table.name)).toEqual(["blocks", "z"]);
    expect(tables[1]!.fields.map((field) => field.name)).toEqual(["_block_num", "x"]);
    expect(tables[0]!.fields.map((field) => field.name)).toEqual(["_block_num", "block_num", "graffiti"]);
  });

  it("a raw kind follows its manifest's network and start", () => {
    expect(datasetKind("firehose").chain(raw("firehose", beaconTables), {})).toEqual({ network: "mainnet", startBlock: 7, finalizedOnly: true });
    expect(datasetKind("evm-rpc").dependencies(raw("evm-rpc", {}))).toEqual({});
  });

  it("a derived dataset runs here, reads its dependencies, and starts where all of them have data", () => {
    const derived: Manifest = {
      kind: "manifest",
      dependencies: { eth: { namespace: "_", name: "eth", revision: { kind: "version", version: "1.0.0" } } },
      tables: { transfers: { input: { sql: "SELECT 1 FROM eth.logs" }, schema: { arrow: { fields: [] } }, network: "anvil" } },
      functions: {},
    };
    const kind = datasetKind("manifest");
    expect(kind.cannotRun).toBeNull();
    expect(kind.providerKind).toBeNull();
    expect(runnableKinds()).toContain("manifest");
    expect(kind.dependencies(derived)).toEqual(derived.dependencies);
    const chain = (startBlock: number) => ({ network: "anvil", startBlock, finalizedOnly: false });
    expect(kind.chain(derived, { a: chain(5), b: chain(12) })).toEqual(chain(12));
    expect(kind.chain({ ...derived, tables: {} }, { a: chain(3) })).toEqual(chain(3));
  });
});
