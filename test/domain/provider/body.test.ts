import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_CONFIG_BYTES, MAX_CONFIG_DEPTH, MAX_PROVIDER_NAME_LENGTH, parseProviderBody } from "../../../src/domain/provider/body";
import type { ProviderCheck } from "../../../src/domain/provider";
import { SHARED_DIR } from "../../support/shared-fixtures";

const evm = { name: "rpc", kind: "evm-rpc", network: "mainnet", url: "https://rpc.example.com" };

function problem(check: ProviderCheck) {
  if (check.ok) throw new Error(`expected a problem, got ${JSON.stringify(check.provider)}`);
  return check.problem;
}

function expectInvalid(body: unknown, messagePart: string | RegExp) {
  const found = problem(parseProviderBody(body));
  expect(found.kind).toBe("invalid_body");
  expect(found.message).toMatch(messagePart);
}

describe("provider envelope", () => {
  it("splits name, kind and network from the configuration, keeping unknown fields as given", () => {
    const check = parseProviderBody({ ...evm, extra: { nested: [1, "two", true] } });
    expect(check).toEqual({
      ok: true,
      provider: {
        name: "rpc",
        kind: "evm-rpc",
        network: "mainnet",
        config: { url: "https://rpc.example.com", extra: { nested: [1, "two", true] } },
      },
    });
  });

  it("stores the configuration raw, without filling in defaults", () => {
    const check = parseProviderBody(evm);
    expect(check.ok && check.provider.config).toEqual({ url: "https://rpc.example.com" });
  });

  it("refuses a body that is not an object", () => {
    for (const body of [null, [], "provider", 42]) expectInvalid(body, /must be a JSON object/);
  });

  it("refuses missing, empty and whitespace-only name and network", () => {
    expectInvalid({ kind: "evm-rpc", network: "mainnet", url: evm.url }, /name: is required/);
    expectInvalid({ ...evm, name: "" }, /name: must not be empty/);
    expectInvalid({ ...evm, name: " \t\n" }, /name: must not be empty/);
    expectInvalid({ ...evm, network: "  " }, /network: must not be empty/);
    expectInvalid({ ...evm, network: 1 }, /network: must be a string/);
  });

  it("keeps surrounding spaces of a name that is not blank", () => {
    const check = parseProviderBody({ ...evm, name: " a " });
    expect(check.ok && check.provider.name).toBe(" a ");
  });

  it("refuses the names . and .., which no URL can address", () => {
    expectInvalid({ ...evm, name: "." }, /name: must not be '.' or '..'/);
    expectInvalid({ ...evm, name: ".." }, /name: must not be '.' or '..'/);
    expect(parseProviderBody({ ...evm, name: "..." }).ok).toBe(true);
  });

  it("limits the name length", () => {
    expect(parseProviderBody({ ...evm, name: "n".repeat(MAX_PROVIDER_NAME_LENGTH) }).ok).toBe(true);
    expectInvalid({ ...evm, name: "n".repeat(MAX_PROVIDER_NAME_LENGTH + 1) }, /at most 256/);
  });

  it("accepts the three raw kinds and refuses others, manifest included", () => {
    expect(parseProviderBody({ name: "f", kind: "firehose", network: "mainnet", url: "https://fh.example.com:443" }).ok).toBe(true);
    expect(parseProviderBody({ name: "b", kind: "eth-beacon", network: "mainnet-beacon", url: "https://beacon.example.com" }).ok).toBe(true);
    for (const kind of ["manifest", "EVM-RPC", "", 3]) expectInvalid({ ...evm, kind }, /kind: must be one of evm-rpc, firehose, eth-beacon/);
  });
});

describe("null values", () => {
  it("answer null_value wherever they are", () => {
    for (const body of [{ ...evm, extra: null }, { ...evm, url: null }, { ...evm, extra: { deep: [1, null] } }]) {
      expect(problem(parseProviderBody(body)).kind).toBe("null_value");
    }
  });

  it("name the field", () => {
    expect(problem(parseProviderBody({ ...evm, headers: { list: [1, null] } })).message).toContain("headers.list[1]");
  });

  it("in the envelope are a wrong body, not a conversion error", () => {
    expectInvalid({ ...evm, name: null }, /name/);
  });
});

describe("configuration limits", () => {
  it("refuses nesting deeper than the limit, however deep", () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expectInvalid({ ...evm, deep }, /nested deeper than 32/);
    let ok: unknown = "leaf";
    for (let i = 0; i < MAX_CONFIG_DEPTH - 1; i++) ok = { a: ok };
    expect(parseProviderBody({ ...evm, ok }).ok).toBe(true);
  });

  it("refuses a configuration over the size limit", () => {
    expectInvalid({ ...evm, blob: "x".repeat(MAX_CONFIG_BYTES) }, /exceeds 65536 bytes/);
  });

  it("refuses numbers JSON cannot store", () => {
    expectInvalid({ ...evm, extra: JSON.parse("1e400") }, /extra is not a finite number/);
  });
});

describe("evm-rpc fields", () => {
  it("accepts http and https URLs", () => {
    for (const url of ["http://localhost:8545", "https://mainnet.infura.io/v3/abc", "HTTPS://Example.com/path?x=1"]) {
      expect(parseProviderBody({ ...evm, url }).ok, url).toBe(true);
    }
  });

  it("requires url", () => {
    expectInvalid({ name: "r", kind: "evm-rpc", network: "mainnet" }, /url: is required/);
  });

  it("refuses WebSocket and IPC URLs with a reason", () => {
    expectInvalid({ ...evm, url: "wss://mainnet.example.com" }, /WebSocket endpoints are not supported/);
    expectInvalid({ ...evm, url: "ws://localhost:8546" }, /WebSocket/);
    expectInvalid({ ...evm, url: "ipc:///tmp/geth.ipc" }, /ipc:\/\/ socket .* cannot be reached from a Worker/);
  });

  it("refuses other schemes, relative and malformed URLs, and surrounding whitespace", () => {
    expectInvalid({ ...evm, url: "ftp://example.com" }, /must be http:\/\/ or https:\/\/, not ftp:/);
    expectInvalid({ ...evm, url: "example.com:8545" }, /url:/);
    expectInvalid({ ...evm, url: "/rpc" }, /not a valid absolute URL/);
    expectInvalid({ ...evm, url: "http://" }, /not a valid absolute URL/);
    expectInvalid({ ...evm, url: " https://example.com" }, /whitespace/);
    expectInvalid({ ...evm, url: 8545 }, /url: must be a string/);
  });

  it("accepts a whole-value placeholder and checks the rest of a partial one", () => {
    expect(parseProviderBody({ ...evm, url: "${RPC_ETH_MAINNET_URL}" }).ok).toBe(true);
    expect(parseProviderBody({ ...evm, url: "https://mainnet.infura.io/v3/${INFURA_KEY}" }).ok).toBe(true);
    expect(parseProviderBody({ ...evm, url: "https://${RPC_HOST}:8545" }).ok).toBe(true);
    expectInvalid({ ...evm, url: "wss://mainnet.infura.io/ws/v3/${INFURA_KEY}" }, /WebSocket/);
  });

  it("checks concurrent_request_limit as an integer from 1 to 65535", () => {
    for (const value of [1, 1024, 65535]) expect(parseProviderBody({ ...evm, concurrent_request_limit: value }).ok).toBe(true);
    for (const value of [0, -1, 65536, 1.5, "10", true]) {
      expectInvalid({ ...evm, concurrent_request_limit: value }, /concurrent_request_limit: must be an integer from 1 to 65535/);
    }
  });

  it("checks rpc_batch_size as an integer >= 0", () => {
    for (const value of [0, 1, 100]) expect(parseProviderBody({ ...evm, rpc_batch_size: value }).ok).toBe(true);
    for (const value of [-1, 2.5, "100", 2 ** 60]) expectInvalid({ ...evm, rpc_batch_size: value }, /rpc_batch_size: must be an integer >= 0/);
  });

  it("checks rate_limit_per_minute as a positive 32-bit integer", () => {
    for (const value of [1, 600, 4_294_967_295]) expect(parseProviderBody({ ...evm, rate_limit_per_minute: value }).ok).toBe(true);
    for (const value of [0, -5, 4_294_967_296, 0.5, "60"]) {
      expectInvalid({ ...evm, rate_limit_per_minute: value }, /rate_limit_per_minute: must be an integer from 1 to 4294967295/);
    }
  });

  it("checks fetch_receipts_per_tx as a boolean", () => {
    for (const value of [true, false]) expect(parseProviderBody({ ...evm, fetch_receipts_per_tx: value }).ok).toBe(true);
    for (const value of ["true", 1]) expectInvalid({ ...evm, fetch_receipts_per_tx: value }, /fetch_receipts_per_tx: must be true or false/);
  });

  it("reports every wrong field at once", () => {
    const found = problem(parseProviderBody({ ...evm, url: "ws://x", rpc_batch_size: -1 }));
    expect(found.message).toMatch(/url: .*; rpc_batch_size: /);
  });
});

describe("firehose and eth-beacon fields", () => {
  const firehose = { name: "fh", kind: "firehose", network: "mainnet" };
  const beacon = { name: "bc", kind: "eth-beacon", network: "mainnet-beacon" };

  it("firehose needs a non-empty url string and takes an optional string token", () => {
    expect(parseProviderBody({ ...firehose, url: "https://mainnet.eth.streamingfast.io:443", token: "secret" }).ok).toBe(true);
    expectInvalid(firehose, /url: is required/);
    expectInvalid({ ...firehose, url: "" }, /url: must not be empty/);
    expectInvalid({ ...firehose, url: "https://x", token: 5 }, /token: must be a string/);
  });

  it("eth-beacon needs an http(s) url and checks its limits", () => {
    expect(parseProviderBody({ ...beacon, url: "https://beacon.example.com", concurrent_request_limit: 8, rate_limit_per_minute: 60 }).ok).toBe(true);
    expectInvalid({ ...beacon, url: "wss://beacon.example.com" }, /WebSocket/);
    expectInvalid({ ...beacon, url: "https://b", concurrent_request_limit: 0 }, /concurrent_request_limit/);
    expectInvalid({ ...beacon, url: "https://b", rate_limit_per_minute: 0 }, /rate_limit_per_minute/);
  });
});

describe("placeholders at creation", () => {
  it("are stored raw", () => {
    const check = parseProviderBody({ ...evm, url: "${RPC_URL}", headers: { "x-api-key": "${API_KEY}" } });
    expect(check.ok && check.provider.config).toEqual({ url: "${RPC_URL}", headers: { "x-api-key": "${API_KEY}" } });
  });

  it("refuse malformed ones anywhere in the configuration", () => {
    expectInvalid({ ...evm, url: "${RPC_URL" }, /url: unclosed placeholder/);
    expectInvalid({ ...evm, extra: ["ok", "${}"] }, /extra\[1\]: empty placeholder/);
  });

  it("refuse the API's own variables", () => {
    expectInvalid({ ...evm, url: "https://evil.example.com/${AMP_ADMIN_TOKEN}" }, /AMP_ADMIN_TOKEN.*may not read/);
  });
});

describe("the shared provider fixtures", () => {
  const dir = path.join(SHARED_DIR, "fixtures/providers");

  it.skipIf(!existsSync(dir))("are all accepted, with their configuration kept as given", () => {
    const files = readdirSync(dir).filter((file) => file.endsWith(".json"));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const body = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as Record<string, unknown>;
      const check = parseProviderBody(body);
      expect(check.ok, file).toBe(true);
      const { name, kind, network, ...rest } = body;
      expect(check.ok && check.provider).toEqual({ name, kind, network, config: rest });
    }
  });
});
