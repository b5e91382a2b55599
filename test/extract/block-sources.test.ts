/** The one place a job's provider becomes a client: placeholders resolved per consumer, kinds without a client refused. */
import { describe, expect, it } from "vitest";
import { FatalError } from "../../src/domain/errors";
import { parseProviderBody } from "../../src/domain/provider";
import { blockSourceFor } from "../../src/extract/block-sources";
import { beaconNodeUrl, FaultScenario } from "../support/fault-control";
import { harness } from "../support/provided-context";

const { anvilUrl, chain, harnessUrl } = harness();

describe("blockSourceFor", () => {
  it("turns an evm-rpc provider into a client of its node, with ${VAR}s resolved from the consumer's vars", async () => {
    const source = blockSourceFor({ name: "p", kind: "evm-rpc", network: "anvil", config: { url: "${NODE_URL}" } }, { NODE_URL: anvilUrl });
    expect(await source.head(false)).toBe(chain.head);
  });

  // A provider registered as a user does: the job gets the config as stored, and no default may fix the
  // batch size or the requests in flight, or the client sends one call per request (1.25 a block: the
  // flood that exhausted wrangler dev's file descriptors through its inspector proxy).
  it("gives a provider registered with name, kind, network and url only the adaptive client: batched calls", async () => {
    const scenario = new FaultScenario(harnessUrl);
    const registered = parseProviderBody({ name: "p", kind: "evm-rpc", network: "anvil", url: "${NODE_URL}" });
    if (!registered.ok) throw new Error(registered.problem.message);
    const source = blockSourceFor({ ...registered.provider }, { NODE_URL: scenario.rpcUrl });
    let blocks = 0;
    for await (const chunk of source.blocks(0, chain.head)) blocks += chunk.blocks.length;
    expect(blocks).toBe(chain.head + 1);
    const { requests } = await scenario.log();
    const calls = requests.reduce((sum, request) => sum + request.methods.length, 0);
    expect(calls).toBeGreaterThan(chain.head);
    expect(requests.length).toBeLessThan(calls / 4);
    expect(source.hints()).toMatchObject({ tuning: { batchSize: expect.any(Number), inFlight: expect.any(Number) } });
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

  it("hands deploy's verify to the evm-rpc client: anvil's genesis (receiptsRoot zero) fails it", async () => {
    const provider = { name: "p", kind: "evm-rpc", network: "anvil", config: { url: anvilUrl } } as const;
    const verified = blockSourceFor(provider, {}, { hints: null, requestBudget: null, verify: true });
    await expect(drainBlocks(verified, 0, 2)).rejects.toMatchObject({ reason: "verification_failed", message: expect.stringMatching(/^block 0: verification failed/) });
    expect(await drainBlocks(blockSourceFor(provider, {}, { hints: null, requestBudget: null, verify: false }), 0, 2)).toBe(3);
  });

  it("fails an eth-beacon job asked to verify, rather than not verifying: slots have nothing it checks", () => {
    const call = () =>
      blockSourceFor({ name: "b", kind: "eth-beacon", network: "dev-beacon", config: { url: "http://127.0.0.1:1" } }, {}, { hints: null, requestBudget: null, verify: true });
    expect(call).toThrow(FatalError);
    expect(call).toThrow("eth-beacon slots cannot be verified: deploy's verify checks evm-rpc blocks only");
  });

  it("refuses a provider kind without a client here", () => {
    const call = () => blockSourceFor({ name: "f", kind: "firehose", network: "mainnet", config: { url: "https://firehose.example.org" } }, {});
    expect(call).toThrow(FatalError);
  });
});

async function drainBlocks(source: ReturnType<typeof blockSourceFor>, start: number, end: number): Promise<number> {
  let blocks = 0;
  for await (const chunk of source.blocks(start, end)) blocks += chunk.blocks.length;
  return blocks;
}
