import { type DatasetKindDefinition, rawChain, manifestTables } from "./kind-definition";

export const ETH_BEACON_KIND: DatasetKindDefinition = {
  cannotRun: "eth-beacon datasets cannot be extracted yet: amp-edge has no beacon node client",
  providerKind: "eth-beacon",
  chain: rawChain,
  tables: manifestTables,
};
