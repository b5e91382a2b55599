import { describe, expect, it } from "vitest";
import { type Provider, resolveProvider, selectProvider } from "../../../src/domain/provider";

function provider(name: string, kind: Provider["kind"], network: string, config: Provider["config"]): Provider {
  return { name, kind, network, config };
}

const env = { RPC_URL: "https://rpc.example.com", TOKEN: "t", WS_URL: "wss://ws.example.com", DB: {} };

describe("resolveProvider", () => {
  it("substitutes placeholders and fills in the evm-rpc defaults, leaving batch size and requests in flight to the client", () => {
    const resolved = resolveProvider(provider("a", "evm-rpc", "mainnet", { url: "${RPC_URL}", extra: "x" }), env);
    expect(resolved).toEqual({
      ok: true,
      provider: {
        name: "a",
        kind: "evm-rpc",
        network: "mainnet",
        config: { url: "https://rpc.example.com", fetch_receipts_per_tx: false, extra: "x" },
      },
    });
  });

  it("keeps given values over defaults", () => {
    const resolved = resolveProvider(
      provider("a", "evm-rpc", "mainnet", { url: "http://x", concurrent_request_limit: 4, rpc_batch_size: 50, rate_limit_per_minute: 60, fetch_receipts_per_tx: true }),
      env,
    );
    expect(resolved.ok && resolved.provider.config).toMatchObject({ concurrent_request_limit: 4, rpc_batch_size: 50, rate_limit_per_minute: 60, fetch_receipts_per_tx: true });
  });

  it("fails on a missing variable, naming it and the provider", () => {
    expect(resolveProvider(provider("a", "evm-rpc", "mainnet", { url: "${NOPE}" }), env)).toEqual({
      ok: false,
      message: "provider a: variable NOPE is not set",
    });
  });

  it("checks the resolved URL", () => {
    const resolved = resolveProvider(provider("a", "evm-rpc", "mainnet", { url: "${WS_URL}" }), env);
    expect(resolved.ok).toBe(false);
    expect(!resolved.ok && resolved.message).toMatch(/provider a: url: .*WebSocket/);
  });

  it("does not read bindings as variables", () => {
    expect(resolveProvider(provider("a", "evm-rpc", "mainnet", { url: "${DB}" }), env).ok).toBe(false);
  });

  it("resolves firehose and eth-beacon providers", () => {
    const fh = resolveProvider(provider("f", "firehose", "mainnet", { url: "${RPC_URL}", token: "${TOKEN}" }), env);
    expect(fh.ok && fh.provider).toEqual({ name: "f", kind: "firehose", network: "mainnet", config: { url: "https://rpc.example.com", token: "t" } });
    const beacon = resolveProvider(provider("b", "eth-beacon", "mainnet-beacon", { url: "${RPC_URL}" }), env);
    expect(beacon.ok && beacon.provider.config).toEqual({ url: "https://rpc.example.com", concurrent_request_limit: 1024 });
  });
});

describe("selectProvider", () => {
  const providers = [
    provider("base_rpc", "evm-rpc", "base", { url: "https://base.example.com" }),
    provider("fh_main", "firehose", "mainnet", { url: "https://fh.example.com" }),
    provider("main_a", "evm-rpc", "mainnet", { url: "https://a.example.com" }),
    provider("main_b", "evm-rpc", "mainnet", { url: "https://b.example.com" }),
    provider("main_unset", "evm-rpc", "mainnet", { url: "${UNSET_URL}" }),
  ];

  it("picks among the providers of the dataset's kind and network only", () => {
    const picked = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const choice = selectProvider(providers, { kind: "evm-rpc", network: "mainnet" }, env, () => i / 20);
      expect(choice.ok).toBe(true);
      if (choice.ok) picked.add(choice.provider.name);
    }
    expect([...picked].sort()).toEqual(["main_a", "main_b"]);
  });

  it("uses the random order to spread load", () => {
    const first = selectProvider(providers, { kind: "evm-rpc", network: "mainnet" }, env, () => 0);
    const last = selectProvider(providers, { kind: "evm-rpc", network: "mainnet" }, env, () => 0.999);
    expect(first.ok && last.ok && first.provider.name !== last.provider.name).toBe(true);
  });

  it("skips candidates whose variables are missing", () => {
    const only = [providers[4] as Provider, providers[2] as Provider];
    for (const r of [0, 0.5, 0.999]) {
      const choice = selectProvider(only, { kind: "evm-rpc", network: "mainnet" }, env, () => r);
      expect(choice.ok && choice.provider.name).toBe("main_a");
    }
  });

  it("fails with every candidate's reason when none resolves", () => {
    const choice = selectProvider([providers[4] as Provider], { kind: "evm-rpc", network: "mainnet" }, env);
    expect(choice).toEqual({ ok: false, message: "no usable evm-rpc provider for network mainnet: provider main_unset: variable UNSET_URL is not set" });
  });

  it("fails when no provider matches, when the network is missing and for derived datasets", () => {
    expect(selectProvider(providers, { kind: "eth-beacon", network: "mainnet" }, env)).toEqual({
      ok: false,
      message: "no eth-beacon provider is registered for network mainnet",
    });
    expect(selectProvider(providers, { kind: "evm-rpc", network: undefined }, env).ok).toBe(false);
    expect(selectProvider(providers, { kind: "manifest", network: "mainnet" }, env)).toEqual({
      ok: false,
      message: "datasets of kind manifest are not extracted from a provider",
    });
  });
});
