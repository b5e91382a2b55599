/**
 * Functions a dataset qualifies: `<dataset>.eth_call` of an evm-rpc dataset,
 * through one of the registered evm-rpc providers of its network whose
 * `${VAR}`s resolve (the first by name: one per query, so calls are limited
 * together).
 */
import { resolveProvider, type VariableSource } from "../domain/provider";
import type { Db } from "../store/db";
import { listProvidersFor } from "../store/providers";
import type { SqlCatalog } from "./catalog";
import { SqlInputError } from "./sql-errors";
import { ethCallFunction } from "./udfs/eth-call";
import type { SqlFunction } from "./udfs/evm-functions";

export function qualifiedFunctions(db: Db, catalog: SqlCatalog, variables: VariableSource) {
  return async (schema: string, name: string): Promise<SqlFunction | null> => {
    if (name !== "eth_call") return null;
    const dataset = await catalog.dataset(schema);
    const manifest = dataset.manifest;
    if (manifest.kind !== "evm-rpc") throw new SqlInputError("FUNCTION_NOT_FOUND", `${schema}.eth_call: ${dataset.reference} is not an evm-rpc dataset`);
    for (const provider of await listProvidersFor(db, "evm-rpc", manifest.network)) {
      const resolved = resolveProvider(provider, variables);
      if (resolved.ok && resolved.provider.kind === "evm-rpc") return ethCallFunction(resolved.provider.config);
    }
    throw new SqlInputError("FUNCTION_NOT_FOUND", `${schema}.eth_call: no evm-rpc provider for network '${manifest.network}'`);
  };
}
