import { describe, expect, it } from "vitest";
import { looksLikeApiKey, REDACTED, redactConfig, redactProvider, redactUrl } from "../../../src/domain/provider/redact";

describe("secret fields", () => {
  it("redacts token and any field whose name says key, secret, password, token, credential or auth", () => {
    const config = {
      token: "t0k",
      api_key: "abc",
      apiKey: "abc",
      "X-API-KEY": "abc",
      client_secret: "s",
      Password: "p",
      passwd: "p",
      access_token: "a",
      credentials: "c",
      Authorization: "Bearer xyz",
      bearer: "b",
      jwt_secret: "j",
    };
    const redacted = redactConfig(config);
    for (const key of Object.keys(config)) expect(redacted[key], key).toBe(REDACTED);
  });

  it("redacts every string and number inside a secret field, keeping its shape and booleans", () => {
    expect(redactConfig({ auth: { user: "u", pass: "p", pin: 1234, enabled: true, list: ["a", 2] } })).toEqual({
      auth: { user: REDACTED, pass: REDACTED, pin: REDACTED, enabled: true, list: [REDACTED, REDACTED] },
    });
  });

  it("finds secret fields at any depth", () => {
    expect(redactConfig({ headers: { "x-api-key": "k", accept: "json" }, list: [{ token: "t" }] })).toEqual({
      headers: { "x-api-key": REDACTED, accept: "json" },
      list: [{ token: REDACTED }],
    });
  });

  it("keeps placeholder-only values and empty strings", () => {
    expect(redactConfig({ token: "${FIREHOSE_TOKEN}", key: "${A}${B}", secret: "", password: "x${A}" })).toEqual({
      token: "${FIREHOSE_TOKEN}",
      key: "${A}${B}",
      secret: "",
      password: REDACTED,
    });
  });

  it("leaves ordinary fields alone", () => {
    const config = { url: "https://rpc.example.com", concurrent_request_limit: 10, rpc_batch_size: 0, fetch_receipts_per_tx: true, note: "hello" };
    expect(redactConfig(config)).toEqual(config);
  });
});

describe("URLs", () => {
  it("redacts userinfo", () => {
    expect(redactUrl("https://user:pass@rpc.example.com/path")).toBe("https://***:***@rpc.example.com/path");
    expect(redactUrl("https://apikey@rpc.example.com")).toBe("https://***@rpc.example.com");
    expect(redactUrl("https://:secret@rpc.example.com")).toBe("https://:***@rpc.example.com");
    expect(redactUrl("https://${USER}:${PASS}@rpc.example.com")).toBe("https://${USER}:${PASS}@rpc.example.com");
    expect(redactUrl("https://a@b:c@host")).toBe("https://***:***@host");
  });

  it("redacts API-key path segments of the usual providers", () => {
    expect(redactUrl("https://mainnet.infura.io/v3/9aa3d95b3bc440fa88ea12eaa4456161")).toBe("https://mainnet.infura.io/v3/***");
    expect(redactUrl("https://eth-mainnet.g.alchemy.com/v2/AbCdEfGhIjKlMnOpQrStUvWx")).toBe("https://eth-mainnet.g.alchemy.com/v2/***");
    expect(redactUrl("https://solemn-thrumming-bird.quiknode.pro/0123456789abcdef0123456789abcdef01234567/")).toBe(
      "https://solemn-thrumming-bird.quiknode.pro/***/",
    );
    expect(redactUrl("https://rpc.ankr.com/eth/" + "a1".repeat(32))).toBe("https://rpc.ankr.com/eth/***");
    expect(redactUrl("https://eth.getblock.io/1b2c3d4e-0000-4a5b-9c8d-0123456789ab/mainnet/")).toBe("https://eth.getblock.io/***/mainnet/");
  });

  it("keeps ordinary path segments and placeholders", () => {
    expect(redactUrl("https://rpc.example.com/eth/mainnet/archive")).toBe("https://rpc.example.com/eth/mainnet/archive");
    expect(redactUrl("https://mainnet.infura.io/v3/${INFURA_KEY}")).toBe("https://mainnet.infura.io/v3/${INFURA_KEY}");
    expect(redactUrl("http://localhost:8545")).toBe("http://localhost:8545");
  });

  it("redacts every query value and the fragment", () => {
    expect(redactUrl("https://lb.drpc.org/ogrpc?network=ethereum&dkey=Secret123")).toBe("https://lb.drpc.org/ogrpc?network=***&dkey=***");
    expect(redactUrl("https://x.example.com/?apikey=${KEY}&flag&empty=")).toBe("https://x.example.com/?apikey=${KEY}&***&empty=");
    expect(redactUrl("https://x.example.com/#secret")).toBe("https://x.example.com/#***");
  });

  it("applies to URLs anywhere in any string, whatever the scheme", () => {
    expect(redactConfig({ url: "wss://u:p@host/x?k=v", fallbacks: ["see https://h/v3/9aa3d95b3bc440fa88ea12eaa4456161 first"] })).toEqual({
      url: "wss://***:***@host/x?k=***",
      fallbacks: ["see https://h/v3/*** first"],
    });
  });
});

describe("looksLikeApiKey", () => {
  it("takes 8 or more characters with a digit", () => {
    expect(looksLikeApiKey("SECRETKEY123")).toBe(true);
    expect(looksLikeApiKey("9aa3d95b")).toBe(true);
    expect(looksLikeApiKey("9aa3d95b3bc440f")).toBe(true);
    expect(looksLikeApiKey("9aa3d95b3bc440fa.json")).toBe(true);
    expect(looksLikeApiKey("k3y.w1th~dots")).toBe(true);
    expect(looksLikeApiKey("9aa3d95")).toBe(false); // 7 characters
    expect(looksLikeApiKey("v3")).toBe(false);
    expect(looksLikeApiKey("mainnet")).toBe(false);
  });

  it("takes any segment of 20 or more characters, digits or not", () => {
    expect(looksLikeApiKey("abcdefghijklmnopqrst")).toBe(true);
    expect(looksLikeApiKey("solemn-thrumming-bird")).toBe(true);
    expect(looksLikeApiKey("abcdefghijklmnopqrs")).toBe(false); // 19 lower-case letters
    expect(looksLikeApiKey("eth-mainnet-archive")).toBe(false); // 19, a route name
  });

  it("still takes 16 or more key characters mixing upper and lower case", () => {
    expect(looksLikeApiKey("AbCdEfGhIjKlMnOp")).toBe(true);
    expect(looksLikeApiKey("AbCdEfGhIjKlMnO")).toBe(false); // 15
    expect(looksLikeApiKey("abcdefghijklmnop")).toBe(false); // one case: a word
  });

  it("keeps a placeholder, however long", () => {
    expect(looksLikeApiKey("${INFURA_PROJECT_KEY_2024}")).toBe(false);
  });
});

describe("the issue's example", () => {
  it("shows no part of a short key in the path or query", () => {
    expect(redactUrl("https://user:pw@rpc.example.org/v3/SECRETKEY123?apikey=QKEY987")).toBe("https://***:***@rpc.example.org/v3/***?apikey=***");
    expect(redactUrl("https://rpc.example.org/SECRETKEY123/eth")).toBe("https://rpc.example.org/***/eth");
    expect(redactUrl("https://rpc.example.org/v1/mainnet/aaaabbbbccccddddeeeeffff")).toBe("https://rpc.example.org/v1/mainnet/***");
  });
});

describe("the README example", () => {
  it("redacts as documented", () => {
    const stored = { url: "https://user:pw@mainnet.infura.io/v3/9aa3d95b3bc440fa88ea12eaa4456161?apikey=abc", token: "s3cret", api_key: "${KEY}" };
    expect(redactConfig(stored)).toEqual({ url: "https://***:***@mainnet.infura.io/v3/***?apikey=***", token: "***", api_key: "${KEY}" });
  });
});

describe("redactProvider", () => {
  it("redacts the configuration and leaves name, kind and network alone", () => {
    const provider = { name: "token_rpc", kind: "firehose" as const, network: "mainnet", config: { url: "https://x", token: "abc" } };
    expect(redactProvider(provider)).toEqual({ ...provider, config: { url: "https://x", token: REDACTED } });
    expect(provider.config.token).toBe("abc");
  });
});
