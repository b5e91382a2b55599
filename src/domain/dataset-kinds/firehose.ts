import { type DatasetKindDefinition, rawChain, manifestTables, noDependencies } from "./kind-definition";

/**
 * Firehose serves blocks over native gRPC: HTTP/2 with trailers. A Worker's
 * fetch() speaks HTTP/1.1 semantics to its caller and exposes neither HTTP/2
 * framing nor response trailers, so it cannot hold a Firehose stream; only a
 * server that also speaks Connect or gRPC-Web over HTTP/1.1 could be read,
 * and no provider is known to (README, "Dataset kinds").
 */
export const FIREHOSE_KIND: DatasetKindDefinition = {
  cannotRun:
    "firehose datasets cannot be extracted from a Worker: Firehose is native gRPC (HTTP/2 with trailers), which a Worker's fetch() cannot speak",
  providerKind: "firehose",
  chain: rawChain,
  dependencies: noDependencies,
  tables: manifestTables,
};
