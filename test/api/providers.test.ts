import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../src/api/errors";
import { fetchWorker } from "../support/workerd/fetch-worker";
import { ADMIN, expectError, READ } from "./api-client";

interface CallOptions {
  body?: unknown;
  rawBody?: string;
  /** The Authorization header; the admin's by default, null for none. */
  auth?: Record<string, string> | null;
  contentType?: string;
}

/** Bodies are sent exactly as given (`rawBody`), so malformed JSON and odd content types can be tried too. */
async function call(method: string, path: string, options: CallOptions = {}): Promise<Response> {
  const { auth = ADMIN, contentType = "application/json" } = options;
  const headers: Record<string, string> = { ...auth };
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined) headers["content-type"] = contentType;
  return fetchWorker(path, { method, headers, body });
}

const create = (body: unknown, options: CallOptions = {}) => call("POST", "/providers", { ...options, body });

/** Every row of the providers table, to show that a rejected request changed nothing. */
async function providerRows(): Promise<unknown[]> {
  return (await env.DB.prepare("SELECT * FROM providers ORDER BY name").all()).results;
}

const rpc = { name: "rpc_eth_mainnet", kind: "evm-rpc", network: "mainnet", url: "https://rpc.example.com", rpc_batch_size: 100 };

describe("POST /providers and GET /providers/{name}", () => {
  it("creates a provider with 201 and an empty body, then shows it with its configuration flattened in", async () => {
    const res = await create(rpc);
    expect(res.status).toBe(201);
    expect(await res.text()).toBe("");
    const got = await call("GET", "/providers/rpc_eth_mainnet");
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual(rpc);
  });

  it("stores the configuration as given, without defaults, with its creation time", async () => {
    await create({ ...rpc, extra: { nested: [1, "x", false] } });
    const rows = (await providerRows()) as { name: string; kind: string; network: string; config: string; created_at: string }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ name: rpc.name, kind: "evm-rpc", network: "mainnet" });
    expect(JSON.parse(rows[0]?.config ?? "")).toEqual({ url: rpc.url, rpc_batch_size: 100, extra: { nested: [1, "x", false] } });
    expect(rows[0]?.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("answers 409 PROVIDER_CONFLICT for an existing name and keeps the first one", async () => {
    expect((await create(rpc)).status).toBe(201);
    const before = await providerRows();
    await expectError(await create({ ...rpc, url: "https://other.example.com" }), 409, "PROVIDER_CONFLICT");
    expect(await providerRows()).toEqual(before);
  });

  it("lets exactly one of two concurrent creations of a name win", async () => {
    const [a, b] = await Promise.all([create({ ...rpc, url: "https://a.example.com" }), create({ ...rpc, url: "https://b.example.com" })]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    expect(await providerRows()).toHaveLength(1);
  });

  it("answers 404 PROVIDER_NOT_FOUND for an unknown name", async () => {
    await expectError(await call("GET", "/providers/nope"), 404, "PROVIDER_NOT_FOUND");
  });

  it("takes any name, URL-decoded in the path", async () => {
    for (const name of ["a/b c", "prövider", "x%y", "dots.and-dashes"]) {
      expect((await create({ ...rpc, name })).status, name).toBe(201);
      const res = await call("GET", `/providers/${encodeURIComponent(name)}`);
      expect(res.status, name).toBe(200);
      expect(((await res.json()) as { name: string }).name).toBe(name);
    }
  });

  it("answers 400 INVALID_PROVIDER_NAME for broken percent-encoding in the path", async () => {
    await create({ ...rpc, name: "%E0%A4%A" });
    for (const path of ["/providers/%E0%A4%A", "/providers/%", "/providers/a%ZZ"]) {
      await expectError(await call("GET", path), 400, "INVALID_PROVIDER_NAME");
      await expectError(await call("DELETE", path), 400, "INVALID_PROVIDER_NAME");
    }
    expect((await call("GET", `/providers/${encodeURIComponent("%E0%A4%A")}`)).status).toBe(200);
  });

  it("answers 400 INVALID_PROVIDER_NAME for a name over 256 characters in the path", async () => {
    const long = "n".repeat(257);
    await expectError(await call("GET", `/providers/${long}`), 400, "INVALID_PROVIDER_NAME");
    await expectError(await call("DELETE", `/providers/${long}`), 400, "INVALID_PROVIDER_NAME");
    expect((await call("GET", `/providers/${"n".repeat(256)}`)).status).toBe(404);
  });
});

describe("GET /providers", () => {
  it("lists nothing when there are no providers", async () => {
    const res = await call("GET", "/providers");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ providers: [] });
  });

  it("lists every provider sorted by name in byte order", async () => {
    for (const name of ["b", "a", "B", "_x", "ä"]) expect((await create({ ...rpc, name })).status).toBe(201);
    const res = await call("GET", "/providers", { auth: READ });
    expect(res.status).toBe(200);
    const { providers } = (await res.json()) as { providers: { name: string }[] };
    expect(providers.map((p) => p.name)).toEqual(["B", "_x", "a", "b", "ä"]);
    expect(providers[0]).toEqual({ ...rpc, name: "B" });
  });
});

describe("DELETE /providers/{name}", () => {
  it("deletes with 204 and is idempotent", async () => {
    await create(rpc);
    const res = await call("DELETE", "/providers/rpc_eth_mainnet");
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    await expectError(await call("GET", "/providers/rpc_eth_mainnet"), 404, "PROVIDER_NOT_FOUND");
    expect((await call("DELETE", "/providers/rpc_eth_mainnet")).status).toBe(204);
    expect((await call("DELETE", "/providers/never-existed")).status).toBe(204);
  });

  it("deletes only the named provider and frees the name", async () => {
    await create(rpc);
    await create({ ...rpc, name: "other" });
    await call("DELETE", "/providers/rpc_eth_mainnet");
    expect(((await providerRows()) as { name: string }[]).map((row) => row.name)).toEqual(["other"]);
    expect((await create(rpc)).status).toBe(201);
  });
});

describe("rejected creations change nothing", () => {
  const cases: [string, CallOptions, number, ErrorCode][] = [
    ["kind manifest", { body: { ...rpc, kind: "manifest" } }, 400, "INVALID_REQUEST_BODY"],
    ["unknown kind", { body: { ...rpc, kind: "solana" } }, 400, "INVALID_REQUEST_BODY"],
    ["whitespace name", { body: { ...rpc, name: "   " } }, 400, "INVALID_REQUEST_BODY"],
    ["whitespace network", { body: { ...rpc, network: "\t" } }, 400, "INVALID_REQUEST_BODY"],
    ["missing network", { body: { name: "x", kind: "evm-rpc", url: rpc.url } }, 400, "INVALID_REQUEST_BODY"],
    ["name over 256 characters", { body: { ...rpc, name: "n".repeat(257) } }, 400, "INVALID_REQUEST_BODY"],
    ["missing url", { body: { name: "x", kind: "evm-rpc", network: "mainnet" } }, 400, "INVALID_REQUEST_BODY"],
    ["WebSocket url", { body: { ...rpc, url: "wss://rpc.example.com" } }, 400, "INVALID_REQUEST_BODY"],
    ["IPC url", { body: { ...rpc, url: "ipc:///tmp/geth.ipc" } }, 400, "INVALID_REQUEST_BODY"],
    ["concurrent_request_limit 0", { body: { ...rpc, concurrent_request_limit: 0 } }, 400, "INVALID_REQUEST_BODY"],
    ["concurrent_request_limit 65536", { body: { ...rpc, concurrent_request_limit: 65536 } }, 400, "INVALID_REQUEST_BODY"],
    ["rpc_batch_size -1", { body: { ...rpc, rpc_batch_size: -1 } }, 400, "INVALID_REQUEST_BODY"],
    ["rate_limit_per_minute 0", { body: { ...rpc, rate_limit_per_minute: 0 } }, 400, "INVALID_REQUEST_BODY"],
    ["fetch_receipts_per_tx as a string", { body: { ...rpc, fetch_receipts_per_tx: "yes" } }, 400, "INVALID_REQUEST_BODY"],
    ["malformed placeholder", { body: { ...rpc, url: "${RPC_URL" } }, 400, "INVALID_REQUEST_BODY"],
    ["placeholder of the admin token", { body: { ...rpc, url: "https://x.example.com/${AMP_ADMIN_TOKEN}" } }, 400, "INVALID_REQUEST_BODY"],
    ["null in the configuration", { body: { ...rpc, extra: null } }, 400, "DATA_CONVERSION_ERROR"],
    ["null nested in the configuration", { body: { ...rpc, headers: { a: [null] } } }, 400, "DATA_CONVERSION_ERROR"],
    ["null url", { body: { ...rpc, url: null } }, 400, "DATA_CONVERSION_ERROR"],
    ["array body", { body: [rpc] }, 400, "INVALID_REQUEST_BODY"],
    ["malformed JSON", { rawBody: '{"name": "x",' }, 400, "INVALID_REQUEST_BODY"],
    ["empty body", { rawBody: "" }, 400, "INVALID_REQUEST_BODY"],
    ["wrong content type", { rawBody: JSON.stringify(rpc), contentType: "text/plain" }, 400, "INVALID_REQUEST_BODY"],
    // JSON.parse reads 1e400 as Infinity, which no JSON column can store; it is not a null.
    ["number too large for JSON", { rawBody: JSON.stringify(rpc).replace("}", ', "extra": 1e400}') }, 400, "INVALID_REQUEST_BODY"],
    ["number too large for JSON as the url", { rawBody: JSON.stringify(rpc).replace('"https://rpc.example.com"', "1e400") }, 400, "INVALID_REQUEST_BODY"],
    ["deeply nested configuration", { rawBody: JSON.stringify(rpc).replace("}", `, "deep": ${"[".repeat(50_000)}${"]".repeat(50_000)}}`) }, 400, "INVALID_REQUEST_BODY"],
    ["configuration over 64 KiB", { body: { ...rpc, blob: "x".repeat(70_000) } }, 400, "INVALID_REQUEST_BODY"],
    ["body over 2 MiB", { body: { ...rpc, blob: "x".repeat(2 * 1024 * 1024) } }, 400, "INVALID_REQUEST_BODY"],
  ];

  for (const [label, options, status, code] of cases) {
    it(`${label}: ${status} ${code}`, async () => {
      await create({ ...rpc, name: "existing" });
      const before = await providerRows();
      await expectError(await call("POST", "/providers", options), status, code);
      expect(await providerRows()).toEqual(before);
    });
  }

  it("explains what is wrong", async () => {
    const { error_message: message } = await expectError(await create({ ...rpc, url: "wss://rpc.example.com", rpc_batch_size: 1.5 }), 400, "INVALID_REQUEST_BODY");
    expect(message).toContain("url");
    expect(message).toContain("WebSocket");
    expect(message).toContain("rpc_batch_size");
  });

  it("handles a __proto__ key as an ordinary field", async () => {
    const res = await call("POST", "/providers", { rawBody: JSON.stringify(rpc).replace("}", ', "__proto__": {"polluted": true}}') });
    expect(res.status).toBe(201);
    const got = (await (await call("GET", "/providers/rpc_eth_mainnet")).json()) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(got.url).toBe(rpc.url);
  });
});

describe("auth", () => {
  it("answers 401 without a token on every provider route", async () => {
    await create(rpc);
    const before = await providerRows();
    for (const [method, path] of [
      ["GET", "/providers"],
      ["POST", "/providers"],
      ["GET", "/providers/rpc_eth_mainnet"],
      ["DELETE", "/providers/rpc_eth_mainnet"],
    ] as const) {
      const res = await call(method, path, { auth: null, body: method === "POST" ? { ...rpc, name: "new" } : undefined });
      await expectError(res, 401, "UNAUTHORIZED");
      const wrong = await call(method, path, { auth: { authorization: "Bearer wrong" }, body: method === "POST" ? { ...rpc, name: "new" } : undefined });
      await expectError(wrong, 401, "UNAUTHORIZED");
    }
    expect(await providerRows()).toEqual(before);
  });

  it("answers 403 to the read token on POST and DELETE, and lets it read", async () => {
    await create(rpc);
    const before = await providerRows();
    await expectError(await create({ ...rpc, name: "new" }, { auth: READ }), 403, "FORBIDDEN");
    await expectError(await call("DELETE", "/providers/rpc_eth_mainnet", { auth: READ }), 403, "FORBIDDEN");
    expect(await providerRows()).toEqual(before);
    expect((await call("GET", "/providers", { auth: READ })).status).toBe(200);
    expect((await call("GET", "/providers/rpc_eth_mainnet", { auth: READ })).status).toBe(200);
  });
});

describe("secrets are never shown", () => {
  const INFURA_KEY = "9aa3d95b3bc440fa88ea12eaa4456161";
  const ALCHEMY_KEY = "AbCdEfGhIjKlMnOpQrStUvWx12";
  const secrets = ["fh-token-value", "hdr-key-value", "hunter2", "user-name", "pass-word", INFURA_KEY, ALCHEMY_KEY, "QuerySecret9", "frag-secret", "nested-cred", "SECRETKEY123", "QKEY987"];

  const providers = [
    { name: "firehose_token", kind: "firehose", network: "mainnet", url: "https://fh.example.com:443", token: "fh-token-value" },
    {
      name: "rpc_secrets",
      kind: "evm-rpc",
      network: "mainnet",
      url: `https://user-name:pass-word@mainnet.infura.io/v3/${INFURA_KEY}?apikey=QuerySecret9#frag-secret`,
      headers: { "X-Api-Key": "hdr-key-value", Accept: "application/json" },
      client: { password: "hunter2", auth: { credential: "nested-cred", retries: 3 } },
      fallback_urls: [`https://eth-mainnet.g.alchemy.com/v2/${ALCHEMY_KEY}`],
    },
    { name: "rpc_placeholders", kind: "evm-rpc", network: "base", url: "https://base.example.com/v3/${BASE_KEY}", api_key: "${BASE_KEY}" },
    { name: "rpc_short_key", kind: "evm-rpc", network: "sepolia", url: "https://user:pw@rpc.example.org/v3/SECRETKEY123?apikey=QKEY987" },
  ];

  const expected = [
    { name: "firehose_token", kind: "firehose", network: "mainnet", url: "https://fh.example.com:443", token: "***" },
    { name: "rpc_placeholders", kind: "evm-rpc", network: "base", url: "https://base.example.com/v3/${BASE_KEY}", api_key: "${BASE_KEY}" },
    {
      name: "rpc_secrets",
      kind: "evm-rpc",
      network: "mainnet",
      url: "https://***:***@mainnet.infura.io/v3/***?apikey=***#***",
      headers: { "X-Api-Key": "***", Accept: "application/json" },
      client: { password: "***", auth: { credential: "***", retries: "***" } },
      fallback_urls: ["https://eth-mainnet.g.alchemy.com/v2/***"],
    },
    { name: "rpc_short_key", kind: "evm-rpc", network: "sepolia", url: "https://***:***@rpc.example.org/v3/***?apikey=***" },
  ];

  async function createAll() {
    for (const provider of providers) expect((await create(provider)).status, provider.name).toBe(201);
  }

  function expectNoSecret(text: string) {
    for (const secret of secrets) expect(text, secret).not.toContain(secret);
  }

  it("GET /providers/{name} redacts every form of secret, for either token", async () => {
    await createAll();
    for (const auth of [ADMIN, READ]) {
      for (const want of expected) {
        const res = await call("GET", `/providers/${want.name}`, { auth });
        const text = await res.text();
        expectNoSecret(text);
        expect(JSON.parse(text)).toEqual(want);
      }
    }
  });

  it("GET /providers redacts them in the list", async () => {
    await createAll();
    const text = await (await call("GET", "/providers")).text();
    expectNoSecret(text);
    expect(JSON.parse(text)).toEqual({ providers: expected });
  });

  it("keeps the secrets themselves stored for the jobs that use them", async () => {
    await createAll();
    const row = (await env.DB.prepare("SELECT config FROM providers WHERE name = ?").bind("firehose_token").first()) as { config: string };
    expect(JSON.parse(row.config).token).toBe("fh-token-value");
  });

  it("does not echo a secret of a rejected body in the error", async () => {
    const text = await (await create({ ...providers[1], url: `wss://user-name:pass-word@mainnet.infura.io/ws/v3/${INFURA_KEY}` })).text();
    expectNoSecret(text);
  });
});

describe("shared provider fixtures", () => {
  const fixtures = Object.entries(env.TEST_SHARED?.providers ?? {});

  it.skipIf(fixtures.length === 0)("are all accepted and shown as given, placeholders included", async () => {
    for (const [file, body] of fixtures) {
      expect((await create(body)).status, file).toBe(201);
      const { name } = body as { name: string };
      const res = await call("GET", `/providers/${encodeURIComponent(name)}`);
      expect(await res.json(), file).toEqual(body);
    }
    const list = (await (await call("GET", "/providers")).json()) as { providers: unknown[] };
    expect(list.providers).toHaveLength(fixtures.length);
  });
});
