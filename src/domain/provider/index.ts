export { checkProviderConfig, MAX_PROVIDER_NAME_LENGTH, parseProviderBody, providerEnvelopeSchema } from "./body";
export type { ProviderCheck, ProviderEnvelope, ProviderProblem } from "./body";
export { DEFAULT_CONCURRENT_REQUEST_LIMIT } from "./kinds";
export type { EthBeaconConfig, EvmRpcConfig, FirehoseConfig } from "./kinds";
export { isProviderKind, resolveProvider, selectProvider } from "./match";
export type { ProviderRequirement, Resolution, ResolvedProvider, VariableSource } from "./match";
export { REDACTED, redactConfig, redactProvider } from "./redact";
export { PROVIDER_KINDS } from "./types";
export type { ConfigValue, Provider, ProviderConfig, ProviderKind } from "./types";
