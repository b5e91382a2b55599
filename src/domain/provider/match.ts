/**
 * Choosing the provider a raw dataset is extracted from (reference-behaviour
 * §5.8): candidates are the providers of the dataset's kind and network, in
 * random order to spread load, and the first whose `${VAR}` placeholders all
 * resolve is used, with its fields checked again now that they are concrete.
 */

import { type EthBeaconConfig, type EvmRpcConfig, type FirehoseConfig, kindSchemas } from "./kinds";
import { describePlaceholderError, lookupIn, substitutePlaceholders } from "./placeholders";
import { PROVIDER_KINDS, type Provider, type ProviderConfig, type ProviderKind } from "./types";

interface Resolved<K extends ProviderKind, C> {
  name: string;
  kind: K;
  network: string;
  config: C;
}

/** A provider ready to use: placeholders substituted, defaults filled in. Holds secrets: never show it. */
export type ResolvedProvider =
  | Resolved<"evm-rpc", EvmRpcConfig>
  | Resolved<"firehose", FirehoseConfig>
  | Resolved<"eth-beacon", EthBeaconConfig>;

export type Resolution = { ok: true; provider: ResolvedProvider } | { ok: false; message: string };

/** Environment the placeholders resolve against: a Worker's `env`; only its string entries count. */
export type VariableSource = Readonly<Record<string, unknown>>;

function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues.map((issue) => `${issue.path.map(String).join(".")}: ${issue.message}`).join("; ");
}

/** Substitutes the provider's placeholders from `env` and checks the result. */
export function resolveProvider(provider: Provider, env: VariableSource): Resolution {
  const substituted = substitutePlaceholders(provider.config, lookupIn(env));
  if (!substituted.ok) return { ok: false, message: `provider ${provider.name}: ${describePlaceholderError(substituted.error)}` };
  // Substitution maps an object to an object.
  const config = substituted.value as ProviderConfig;
  const { name, network } = provider;
  const fail = (issues: Parameters<typeof describeIssues>[0]): Resolution => ({
    ok: false,
    message: `provider ${name}: ${describeIssues(issues)}`,
  });
  const schemas = kindSchemas("resolved");
  switch (provider.kind) {
    case "evm-rpc": {
      const parsed = schemas["evm-rpc"].safeParse(config);
      return parsed.success ? { ok: true, provider: { name, network, kind: "evm-rpc", config: parsed.data } } : fail(parsed.error.issues);
    }
    case "firehose": {
      const parsed = schemas.firehose.safeParse(config);
      return parsed.success ? { ok: true, provider: { name, network, kind: "firehose", config: parsed.data } } : fail(parsed.error.issues);
    }
    case "eth-beacon": {
      const parsed = schemas["eth-beacon"].safeParse(config);
      return parsed.success ? { ok: true, provider: { name, network, kind: "eth-beacon", config: parsed.data } } : fail(parsed.error.issues);
    }
  }
}

export function isProviderKind(kind: string): kind is ProviderKind {
  return (PROVIDER_KINDS as readonly string[]).includes(kind);
}

/** What a raw dataset needs from a provider: its manifest's kind and network. */
export interface ProviderRequirement {
  kind: string;
  network: string | undefined;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * Picks a provider for a raw dataset among `providers`. Fails, with every
 * candidate's reason, when none matches or none resolves: the job cannot run.
 */
export function selectProvider(
  providers: readonly Provider[],
  requirement: ProviderRequirement,
  env: VariableSource,
  random: () => number = Math.random,
): Resolution {
  const { kind, network } = requirement;
  if (!isProviderKind(kind)) return { ok: false, message: `datasets of kind ${kind} are not extracted from a provider` };
  if (!network) return { ok: false, message: `the ${kind} dataset has no network, so no provider can be matched` };
  const candidates = providers.filter((provider) => provider.kind === kind && provider.network === network);
  if (candidates.length === 0) return { ok: false, message: `no ${kind} provider is registered for network ${network}` };
  const reasons: string[] = [];
  for (const candidate of shuffled(candidates, random)) {
    const resolved = resolveProvider(candidate, env);
    if (resolved.ok) return resolved;
    reasons.push(resolved.message);
  }
  return { ok: false, message: `no usable ${kind} provider for network ${network}: ${reasons.sort().join("; ")}` };
}
