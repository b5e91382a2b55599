/**
 * The block source of each provider kind: the one place that turns a job's
 * provider into a client. Adding a kind adds its client's folder beside this
 * file and one case here.
 */
import { FatalError } from "../domain/errors";
import { type ProviderConfig, resolveProvider, type VariableSource } from "../domain/provider";
import type { JobProvider } from "../domain/step-protocol";
import type { BlockSource, SourceOptions } from "./block-source";
import { EthBeaconClient } from "./eth-beacon/beacon-client";
import { EvmRpcClient, evmRpcSourceOptions } from "./evm-rpc/client";

/** The job's provider, its `${VAR}` placeholders resolved against this consumer's vars, as a client. */
export function blockSourceFor(
  provider: JobProvider,
  variables: VariableSource,
  options: SourceOptions = { hints: null, requestBudget: null, verify: false },
): BlockSource {
  // The runner copied the config from a registration, where it was checked as a ProviderConfig.
  const resolved = resolveProvider({ ...provider, config: provider.config as ProviderConfig }, variables);
  // Its vars are gone or changed since the job chose it: retrying will not bring them back.
  if (!resolved.ok) throw new FatalError("invalid_provider", resolved.message);
  switch (resolved.provider.kind) {
    case "evm-rpc":
      return new EvmRpcClient(resolved.provider.config, evmRpcSourceOptions(options));
    case "eth-beacon":
      // Slots have no block hash over their contents here to check: asked to verify, the job fails rather than pretend.
      if (options.verify) throw new FatalError("verification_failed", "eth-beacon slots cannot be verified: deploy's verify checks evm-rpc blocks only");
      return new EthBeaconClient(resolved.provider.config, options.connections === undefined ? {} : { connections: options.connections });
    case "firehose":
      throw new FatalError("invalid_provider", `${resolved.provider.kind} providers have no block source here`);
  }
}
