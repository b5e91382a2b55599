/**
 * `npm run manifest:generate -- <network> [--start-block N] [--finalized]`:
 * prints the evm-rpc manifest for a network in canonical JSON, with the
 * tables this project extracts, as `ampctl manifest generate` does. Pipe it
 * into `POST /manifests` or the `manifest` field of `POST /datasets`.
 */
import { parseArgs } from "node:util";
import { canonicalManifestJson } from "../src/domain/manifest/canonical";
import { evmRpcManifest } from "../src/domain/manifest/evm-rpc";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { "start-block": { type: "string" }, finalized: { type: "boolean", default: false } },
});

const network = positionals[0];
const startBlock = values["start-block"] === undefined ? 0 : Number(values["start-block"]);
if (!network || positionals.length > 1 || !Number.isSafeInteger(startBlock) || startBlock < 0) {
  console.error("usage: npm run manifest:generate -- <network> [--start-block N] [--finalized]");
  process.exit(2);
}
console.log(canonicalManifestJson(evmRpcManifest(network, { startBlock, finalizedBlocksOnly: values.finalized })));
