/** The one place a job's provider becomes a client: placeholders resolved per consumer, kinds without a client refused. */
import { describe, expect, it } from "vitest";
import { FatalError } from "../../src/domain/errors";
import { blockSourceFor } from "../../src/extract/block-sources";
import { beaconNodeUrl } from "../support/fault-control";
import { harness } from "../support/provided-context";

const { anvilUrl, chain, harnessUrl } = harness();

describe("blockSourceFor", () => {
  it("turns an evm-rpc provider into a client of its node, with ${VAR}s resolved from the consumer's vars", async () => {
    const source = blockSourceFor({ name: "p", kind: "evm-rpc", network: "anvil", config: { url: "${NODE_URL}" } }, { NODE_URL: anvilUrl });
    expect(await source.head(false)).toBe(chain.head);
  });

  it("turns an eth-beacon provider into a client of its beacon node", async () => {
    const url = await beaconNodeUrl(harnessUrl);
    const source = blockSourceFor({ name: "b", kind: "eth-beacon", network: "dev-beacon", config: { url: "${BEACON_URL}" } }, { BEACON_URL: url });
    const head = await source.head(false);
    const raw = (await (await fetch(`${url}/eth/v2/beacon/blocks/head`)).json()) as { data: { message: { slot: string } } };
    expect(head).toBeLessThanOrEqual(Number(raw.data.message.slot));
    expect(head).toBeGreaterThanOrEqual(0);
  }, 90_000);

  it("fails fatally when a placeholder no longer resolves: retrying would not bring the var back", () => {
    const call = () => blockSourceFor({ name: "p", kind: "evm-rpc", network: "anvil", config: { url: "${GONE}" } }, {});
    expect(call).toThrow(FatalError);
    expect(call).toThrow(/GONE/);
  });

  it("refuses a provider kind without a client here", () => {
    const call = () => blockSourceFor({ name: "f", kind: "firehose", network: "mainnet", config: { url: "https://firehose.example.org" } }, {});
    expect(call).toThrow(FatalError);
  });
});
