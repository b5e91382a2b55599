/** The kinds of raw dataset a provider can serve. Derived (`manifest`) datasets read other datasets, never a provider. */
export const PROVIDER_KINDS = ["evm-rpc", "firehose", "eth-beacon"] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** A JSON value without null: provider configuration was TOML in the original, which has no null. */
export type ConfigValue = string | number | boolean | ConfigValue[] | { [key: string]: ConfigValue };
export type ProviderConfig = { [key: string]: ConfigValue };

/** A provider as registered: kind-specific fields exactly as given, `${VAR}` placeholders unresolved. */
export interface Provider {
  name: string;
  kind: ProviderKind;
  network: string;
  config: ProviderConfig;
}
