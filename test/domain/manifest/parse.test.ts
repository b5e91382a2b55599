import { describe, expect, it } from "vitest";
import { canonicalDataType, canonicalManifestJson, compareKeys, jsonString, manifestHash } from "../../../src/domain/manifest/canonical";
import { evmRpcManifest } from "../../../src/domain/manifest/evm-rpc";
import { type ManifestErrorCode, parseManifest, prepareManifest } from "../../../src/domain/manifest/parse";

const field = (name: string, type: unknown = "UInt64", nullable = false) => ({ name, type, nullable });
const table = (fields: unknown[] = [field("block_num")], network = "mainnet") => ({ schema: { arrow: { fields } }, network });

function raw(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { kind: "evm-rpc", network: "mainnet", tables: { blocks: table() }, ...overrides };
}

function derived(sql: string, dependencies: Record<string, string> = { eth: "_/eth@1.0.0" }, overrides: Record<string, unknown> = {}) {
  return {
    kind: "manifest",
    dependencies,
    tables: { out: { input: { sql }, schema: { arrow: { fields: [field("block_num")] } }, network: "mainnet" } },
    ...overrides,
  };
}

function failureCode(value: unknown): ManifestErrorCode | "OK" {
  const result = parseManifest(value);
  return result.ok ? "OK" : result.code;
}

async function canonical(value: unknown): Promise<string> {
  const prepared = await prepareManifest(value);
  if (!prepared.ok) throw new Error(`${prepared.code}: ${prepared.message}`);
  return prepared.canonical;
}

describe("envelope and kind (reference §1.2(2) steps 2a, 2b)", () => {
  it.each([
    ["null", null],
    ["an array", [raw()]],
    ["a string", "evm-rpc"],
    ["a number", 42],
    ["an object without kind", { network: "mainnet", tables: {} }],
    ["a numeric kind", { kind: 1 }],
    ["a null kind", { kind: null }],
    ["an object kind", { kind: { name: "evm-rpc" } }],
    ["a numeric envelope network", { kind: "evm-rpc", network: 5 }],
  ])("%s is INVALID_MANIFEST", (_, value) => expect(failureCode(value)).toBe("INVALID_MANIFEST"));

  it.each(["sql", "EVM-RPC", "evm_rpc", "", "substreams", "manifest "])("kind %j is UNSUPPORTED_DATASET_KIND", (kind) =>
    expect(failureCode({ kind })).toBe("UNSUPPORTED_DATASET_KIND"),
  );

  it("checks the kind before the kind's own fields", () => {
    expect(failureCode({ kind: "unknown", tables: 5 })).toBe("UNSUPPORTED_DATASET_KIND");
  });
});

describe("raw manifests (reference §2.2)", () => {
  it.each(["evm-rpc", "firehose", "eth-beacon"])("%s accepts the common shape", (kind) => expect(failureCode(raw({ kind }))).toBe("OK"));

  it.each([
    ["no network", { network: undefined }],
    ["a null network", { network: null }],
    ["no tables", { tables: undefined }],
    ["tables as an array", { tables: [table()] }],
    ["a negative start_block", { start_block: -1 }],
    ["a fractional start_block", { start_block: 1.5 }],
    ["a string start_block", { start_block: "100" }],
    ["a null start_block", { start_block: null }],
    ["a start_block above 2^53-1", { start_block: 2 ** 53 }],
    ["a string finalized_blocks_only", { finalized_blocks_only: "true" }],
    ["a table without network", { tables: { blocks: { schema: { arrow: { fields: [] } } } } }],
    ["a table without schema", { tables: { blocks: { network: "mainnet" } } }],
    ["a field without nullable", { tables: { blocks: table([{ name: "a", type: "UInt64" }]) } }],
    ["a field with a numeric name", { tables: { blocks: table([field(1 as unknown as string)]) } }],
    ["an unknown unit type", { tables: { blocks: table([field("a", "UInt128")]) } }],
    ["a lowercase type", { tables: { blocks: table([field("a", "uint64")]) } }],
    ["a nested List type", { tables: { blocks: table([field("a", { List: { name: "item", data_type: "Utf8", nullable: true } })]) } }],
    ["FixedSizeBinary with a string width", { tables: { blocks: table([field("a", { FixedSizeBinary: "32" })]) } }],
    ["FixedSizeBinary with a negative width", { tables: { blocks: table([field("a", { FixedSizeBinary: -1 })]) } }],
    ["a type object with two variants", { tables: { blocks: table([field("a", { FixedSizeBinary: 32, Decimal128: [38, 0] })]) } }],
    ["Decimal128 above precision 38", { tables: { blocks: table([field("a", { Decimal128: [39, 0] })]) } }],
    ["Decimal128 with scale above precision", { tables: { blocks: table([field("a", { Decimal128: [10, 11] })]) } }],
    ["Decimal128 with one number", { tables: { blocks: table([field("a", { Decimal128: [38] })]) } }],
    ["Timestamp with an unknown unit", { tables: { blocks: table([field("a", { Timestamp: ["Minute", null] })]) } }],
    ["Timestamp without a timezone slot", { tables: { blocks: table([field("a", { Timestamp: ["Second"] })]) } }],
    ["Time32 in nanoseconds", { tables: { blocks: table([field("a", { Time32: "Nanosecond" })]) } }],
    ["a mismatched kind literal", { kind: "firehose", tables: { blocks: 1 } }],
  ])("%s is INVALID_MANIFEST", (_, overrides) => expect(failureCode(raw(overrides))).toBe("INVALID_MANIFEST"));

  it("reports where the manifest is wrong", () => {
    const result = parseManifest(raw({ tables: { blocks: table([field("a", "Nope")]) } }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain("tables.blocks.schema.arrow.fields.0.type");
  });

  it("accepts every supported data type and writes it in arrow-rs serde form", async () => {
    const types = [
      "Null",
      "Boolean",
      "Int8",
      "UInt64",
      "Float64",
      "Utf8",
      "Binary",
      "Utf8View",
      { FixedSizeBinary: 20 },
      { Decimal128: [38, 0] },
      { Decimal256: [76, -2] },
      { Timestamp: ["Nanosecond", "+00:00"] },
      { Timestamp: ["Millisecond", null] },
      { Time32: "Second" },
      { Time64: "Nanosecond" },
      { Duration: "Microsecond" },
    ];
    const text = await canonical(raw({ tables: { t: table(types.map((t, i) => field(`c${i}`, t))) } }));
    expect(text).toContain('{"name":"c9","type":{"Decimal128":[38,0]},"nullable":false}');
    expect(text).toContain('{"name":"c10","type":{"Decimal256":[76,-2]},"nullable":false}');
    expect(text).toContain('"type":{"Timestamp":["Nanosecond","+00:00"]}');
    expect(text).toContain('"type":{"Timestamp":["Millisecond",null]}');
    expect(text).toContain('"type":{"Time32":"Second"}');
    expect(canonicalDataType({ FixedSizeBinary: 32 })).toBe('{"FixedSizeBinary":32}');
  });

  it("fills defaults, drops unknown keys and orders keys as the struct declares them", async () => {
    const text = await canonical({
      tables: { b: table([{ nullable: true, type: "Utf8", name: "x", extra: 1 }], "n"), a: table([], "n") },
      name: "ignored",
      version: "1.0.0",
      network: "n",
      kind: "firehose",
    });
    expect(text).toBe(
      '{"kind":"firehose","network":"n","start_block":0,"finalized_blocks_only":false,"tables":{"a":{"schema":{"arrow":{"fields":[]}},"network":"n"},"b":{"schema":{"arrow":{"fields":[{"name":"x","type":"Utf8","nullable":true}]}},"network":"n"}}}',
    );
  });

  it("gives the same hash whatever the input key order and whitespace", async () => {
    const a = await prepareManifest(JSON.parse('{"kind":"evm-rpc","network":"n","tables":{"x":{"network":"n","schema":{"arrow":{"fields":[]}}}}}'));
    const b = await prepareManifest(
      JSON.parse('{ "tables": { "x": { "schema": { "arrow": { "fields": [ ] } }, "network": "n" } },\n "start_block": 0, "network": "n", "kind": "evm-rpc" }'),
    );
    expect(a.ok && b.ok && a.hash === b.hash).toBe(true);
  });

  it("keeps the largest safe start_block exactly", async () => {
    expect(await canonical(raw({ start_block: Number.MAX_SAFE_INTEGER }))).toContain('"start_block":9007199254740991,');
  });

  it("keeps a __proto__ table name as an ordinary key", async () => {
    const value = JSON.parse('{"kind":"evm-rpc","network":"n","tables":{"__proto__":{"schema":{"arrow":{"fields":[]}},"network":"n"}}}');
    expect(await canonical(value)).toContain('"tables":{"__proto__":{');
  });
});

describe("serde_json string escaping and map order", () => {
  it.each([
    ['a"b', '"a\\"b"'],
    ["a\\b", '"a\\\\b"'],
    ["a/b", '"a/b"'],
    ["line\nbreak\ttab\rcr", '"line\\nbreak\\ttab\\rcr"'],
    ["\b\f", '"\\b\\f"'],
    ["\u0000\u0001\u001f", '"\\u0000\\u0001\\u001f"'],
    ["\u007f", '"\u007f"'],
    ["héllo ✓ 😀", '"héllo ✓ 😀"'],
    ["\u2028\u2029", '"\u2028\u2029"'],
    ["\u001b[0m", '"\\u001b[0m"'],
  ])("escapes %j like serde_json", (input, output) => {
    expect(jsonString(input)).toBe(output);
    expect(JSON.parse(jsonString(input))).toBe(input);
  });

  it("sorts keys by UTF-8 bytes (code points), not UTF-16 units", () => {
    // U+FF5E sorts before U+1F600 in UTF-8, after it in UTF-16 units.
    expect(["\u{1F600}", "\uFF5E", "b", "B", "_", "a"].sort(compareKeys)).toEqual(["B", "_", "a", "b", "\uFF5E", "\u{1F600}"]);
  });

  it("escapes strings inside the manifest", async () => {
    const text = await canonical(raw({ network: 'main"net\n', tables: { "t/1": table([field("é\u0007")], "x") } }));
    expect(text).toContain('"network":"main\\"net\\n"');
    expect(text).toContain('"t/1":{');
    expect(text).toContain('"name":"é\\u0007"');
    expect(JSON.parse(text).network).toBe('main"net\n');
  });

  it("refuses an unpaired surrogate, which serde_json cannot read", async () => {
    const prepared = await prepareManifest(JSON.parse('{"kind":"evm-rpc","network":"\\ud800","tables":{}}'));
    expect(prepared.ok ? "OK" : prepared.code).toBe("INVALID_MANIFEST");
    expect((await prepareManifest(JSON.parse('{"kind":"evm-rpc","network":"\\ud83d\\ude00","tables":{}}'))).ok).toBe(true);
  });
});

describe("derived manifests (reference §2.3)", () => {
  it("matches the reference canonical form of the derived fixture", async () => {
    const text = await canonical({
      network: "mainnet",
      kind: "manifest",
      dependencies: { eth_firehose: "_/eth_firehose@0.0.0" },
      tables: {
        erc20_transfers: {
          input: { sql: "SELECT block_num, miner, hash, parent_hash FROM eth_firehose.blocks" },
          schema: {
            arrow: {
              fields: [
                field("_block_num"),
                field("block_num"),
                field("miner", { FixedSizeBinary: 20 }),
                field("hash", { FixedSizeBinary: 32 }),
                field("parent_hash", { FixedSizeBinary: 32 }),
              ],
            },
          },
          network: "mainnet",
        },
      },
      functions: {},
    });
    expect(text).toBe(
      '{"kind":"manifest","dependencies":{"eth_firehose":"_/eth_firehose@0.0.0"},"tables":{"erc20_transfers":{"input":{"sql":"SELECT block_num, miner, hash, parent_hash FROM eth_firehose.blocks"},"schema":{"arrow":{"fields":[{"name":"_block_num","type":"UInt64","nullable":false},{"name":"block_num","type":"UInt64","nullable":false},{"name":"miner","type":{"FixedSizeBinary":20},"nullable":false},{"name":"hash","type":{"FixedSizeBinary":32},"nullable":false},{"name":"parent_hash","type":{"FixedSizeBinary":32},"nullable":false}]}},"network":"mainnet"}},"functions":{}}',
    );
    expect(text.length).toBe(564);
    expect(await manifestHash(text)).toBe("0a29482f867463294c0b56f6a30b092cda387f183edbe812e4897a307587f39f");
  });

  it("fills empty maps and writes functions in camelCase with their source", async () => {
    expect(await canonical({ kind: "manifest" })).toBe('{"kind":"manifest","dependencies":{},"tables":{},"functions":{}}');
    const text = await canonical({
      kind: "manifest",
      functions: { hello: { outputType: "Utf8", inputTypes: [], source: { filename: "f.js", source: "function hello() { return 'hi' }" } } },
    });
    expect(text).toBe(
      '{"kind":"manifest","dependencies":{},"tables":{},"functions":{"hello":{"inputTypes":[],"outputType":"Utf8","source":{"source":"function hello() { return \'hi\' }","filename":"f.js"}}}}',
    );
  });

  it("drops the pkg:amp/ prefix of dependencies", async () => {
    const text = await canonical(derived("SELECT * FROM eth.blocks", { eth: "pkg:amp/_/eth@1.0.0" }));
    expect(text).toContain('"dependencies":{"eth":"_/eth@1.0.0"}');
  });

  it.each([
    ["a malformed dependency", derived("SELECT 1", { eth: "eth@1.0.0" })],
    ["a dependency with a v-prefixed version", derived("SELECT 1", { eth: "_/eth@v1.0.0" })],
    ["a numeric dependency", derived("SELECT 1", { eth: 1 } as unknown as Record<string, string>)],
    ["null dependencies", derived("SELECT 1", {}, { dependencies: null })],
    ["a table without input", derived("SELECT 1", {}, { tables: { t: { schema: { arrow: { fields: [] } }, network: "n" } } })],
    ["a table with a numeric sql", derived("SELECT 1", {}, { tables: { t: { input: { sql: 1 }, schema: { arrow: { fields: [] } }, network: "n" } } })],
    ["an uppercase table name", derived("SELECT 1", {}, { tables: { Out: { input: { sql: "SELECT 1" }, schema: { arrow: { fields: [] } }, network: "n" } } })],
    ["a table name with a dash", derived("SELECT 1", {}, { tables: { "a-b": { input: { sql: "SELECT 1" }, schema: { arrow: { fields: [] } }, network: "n" } } })],
    ["a table name of 256 characters", derived("SELECT 1", {}, { tables: { ["t".repeat(256)]: { input: { sql: "SELECT 1" }, schema: { arrow: { fields: [] } }, network: "n" } } })],
    ["a function in snake_case", derived("SELECT 1", {}, { functions: { f: { input_types: [], output_type: "Utf8", source: { source: "", filename: "" } } } })],
    ["a function with a bad output type", derived("SELECT 1", {}, { functions: { f: { inputTypes: [], outputType: "Text", source: { source: "", filename: "" } } } })],
  ])("%s is INVALID_MANIFEST", (_, value) => expect(failureCode(value)).toBe("INVALID_MANIFEST"));
});

describe("SQL dependency validation", () => {
  const ok = (sql: string, deps?: Record<string, string>) => expect(failureCode(derived(sql, deps))).toBe("OK");
  const bad = (sql: string, deps?: Record<string, string>) => expect(failureCode(derived(sql, deps))).toBe("DEPENDENCY_VALIDATION_ERROR");

  it("accepts qualified references to declared dependency aliases and to self", () => {
    ok("SELECT block_num FROM eth.blocks");
    ok("SELECT b.block_num FROM eth.blocks b JOIN eth.logs l ON b.hash = l.block_hash");
    ok("SELECT * FROM base.blocks UNION ALL SELECT * FROM eth.blocks", { eth: "_/eth@1.0.0", base: "_/base@latest" });
    ok("SELECT * FROM self.sibling JOIN eth.blocks b ON true");
    ok("WITH x AS (SELECT * FROM eth.blocks) SELECT * FROM x");
    ok("SELECT * FROM (SELECT * FROM eth.blocks) s WHERE s.num IN (SELECT block_num FROM eth.logs)");
    ok("SELECT 1");
    ok("SELECT * FROM other_table_of_this_dataset");
    ok("SELECT block_num FROM eth.blocks;");
    ok("SELECT * FROM ETH.blocks");
    ok("SELECT * FROM catalog.eth.blocks");
    // DataFusion's hex literals, which the PostgreSQL dialect lacks; strings and comments holding them stay as they are.
    ok("SELECT * FROM eth.logs WHERE address = 0xDEADbeef AND topic0 = X'ab01' AND data <> x'' -- 0x1 'x\nAND tx_hash = '0x12''0x'");
    ok("SELECT \"0x\" FROM eth.logs /* X'1 */ WHERE address=0x1");
    bad("SELECT * FROM other.logs WHERE address = 0x12");
  });

  it("compares with the alias key, not the dataset name (HEAD; fc27f54c compared names)", () => {
    ok("SELECT * FROM whatever.blocks", { whatever: "_/eth_firehose@0.0.0" });
    bad("SELECT * FROM eth_firehose.blocks", { whatever: "_/eth_firehose@0.0.0" });
  });

  it("refuses dataset references as qualifiers: the alias pins what a table reads", () => {
    const deps = { eth: "edgeandnode/eth@1.0.0" };
    ok('SELECT * FROM "eth".blocks', deps);
    bad('SELECT * FROM "edgeandnode/eth@1.0.0".blocks', deps);
    bad('SELECT * FROM "edgeandnode/eth".blocks', deps);
    bad('SELECT * FROM "eth@1.0.0".blocks', deps);
    bad('SELECT * FROM "other/eth@1.0.0".blocks', deps);
    bad('SELECT * FROM "edgeandnode/eth@2.0.0".blocks', deps);
    bad('SELECT * FROM "not a reference".blocks', deps);
  });

  it("refuses undeclared datasets anywhere in the query", () => {
    bad("SELECT * FROM other.blocks");
    bad("SELECT * FROM eth.blocks b JOIN other.logs l ON b.hash = l.block_hash");
    bad("SELECT * FROM eth.blocks WHERE EXISTS (SELECT 1 FROM other.t)");
    bad("WITH x AS (SELECT * FROM other.blocks) SELECT * FROM x");
    bad("SELECT * FROM eth.blocks UNION SELECT * FROM other.blocks");
    bad("SELECT * FROM eth.blocks", {});
  });

  it("names the missing aliases", () => {
    const result = parseManifest(derived("SELECT * FROM zeta.t JOIN alpha.u ON true"));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain("Dependency alias not found: 'alpha', 'zeta' referenced in table but not provided in dependencies");
  });

  it("needs exactly one statement that parses and is a query", () => {
    bad("SELECT 1; SELECT 2");
    bad("");
    bad("   ");
    bad("SELEC block_num FROM eth.blocks");
    bad("SELECT FROM WHERE");
    bad("INSERT INTO eth.blocks VALUES (1)");
    bad("DROP TABLE eth.blocks");
  });

  it("handles long expression chains, and refuses SQL nested beyond the parser's reach without throwing", () => {
    ok(`SELECT ${Array(20_000).fill("block_num").join(" + ")} FROM eth.blocks`);
    bad(`SELECT ${Array(20_000).fill("block_num").join(" + ")} FROM other.blocks`);
    bad(`SELECT ${"(".repeat(5_000)}1${")".repeat(5_000)}`);
  });

  it("validates the SQL of every table", () => {
    const value = derived("SELECT * FROM eth.blocks");
    const tables = { ...value.tables, second: { ...value.tables.out, input: { sql: "SELECT * FROM nope.t" } } };
    expect(failureCode({ ...value, tables })).toBe("DEPENDENCY_VALIDATION_ERROR");
  });
});

describe("generated evm-rpc manifest", () => {
  it("has blocks, logs and transactions without _block_num, for the given network", async () => {
    const manifest = evmRpcManifest("anvil");
    expect(Object.keys(manifest.tables).sort()).toEqual(["blocks", "logs", "transactions"]);
    for (const t of Object.values(manifest.tables)) {
      expect(t.network).toBe("anvil");
      expect(t.schema.arrow.fields.map((f) => f.name)).not.toContain("_block_num");
    }
    const text = canonicalManifestJson(manifest);
    expect(text.length).toBe(3716); // anvil_rpc.json's 3643 plus blocks.total_difficulty
    expect(await manifestHash(text)).toBe("3d1c0c2d3d7c276e18bd92a09728ecd76ad8be05ebb30656c448859f3e5c22b9");
  });

  it("is a valid manifest whose canonical form is stable through a round trip", async () => {
    const text = canonicalManifestJson(evmRpcManifest("mainnet", { startBlock: 15_000_000, finalizedBlocksOnly: true }));
    expect(await canonical(JSON.parse(text))).toBe(text);
  });
});
