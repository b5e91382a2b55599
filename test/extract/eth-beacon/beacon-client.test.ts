/**
 * The eth-beacon client against a real beacon node (Lodestar 1.5.1 in dev
 * mode, started by the harness on 127.0.0.1), through the fault proxy: rows
 * of filled and skipped slots against the node's own JSON, head and
 * finalized, and what is retried and what is not.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ClassifiedError, FatalError, RetryableError } from "../../../src/domain/errors";
import type { TableColumns } from "../../../src/extract/block-source";
import { EthBeaconClient, type EthBeaconClientOptions } from "../../../src/extract/eth-beacon/beacon-client";
import { SKIPPED_SLOT_HASH } from "../../../src/extract/eth-beacon/slot-rows";
import { type BeaconChain, beaconChain, finalizedSlot, hexOf, rawHead } from "../../support/beacon-chain";
import { BeaconScenario } from "../../support/fault-control";
import { harness } from "../../support/provided-context";

const { harnessUrl } = harness();
const FAST_RETRY = { retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 } } satisfies EthBeaconClientOptions;

let chain: BeaconChain;
beforeAll(async () => {
  chain = await beaconChain(harnessUrl, 20);
}, 150_000);

function client(scenario: BeaconScenario, options: EthBeaconClientOptions = FAST_RETRY, url = scenario.url) {
  return new EthBeaconClient({ url }, options);
}

async function rowsOf(source: EthBeaconClient, start: number, end: number) {
  const refs = [];
  const rows: TableColumns = {};
  for await (const chunk of source.blocks(start, end)) {
    refs.push(...chunk.blocks);
    for (const [name, values] of Object.entries(chunk.tables.blocks!)) (rows[name] ??= []).push(...values);
  }
  return { refs, rows };
}

async function expectRejection(promise: Promise<unknown>): Promise<ClassifiedError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ClassifiedError);
  return error as ClassifiedError;
}

describe("eth-beacon client against Lodestar", () => {
  it("one row per slot: filled slots as the node serves them, skipped slots as nulls, 12 columns", async () => {
    const scenario = new BeaconScenario(harnessUrl);
    const { refs, rows } = await rowsOf(client(scenario, { ...FAST_RETRY, chunkSlots: 7 }), 0, chain.head);
    expect(Object.keys(rows)).toEqual([
      "_block_num",
      "block_num",
      "version",
      "signature",
      "proposer_index",
      "parent_root",
      "state_root",
      "randao_reveal",
      "eth1_data_deposit_root",
      "eth1_data_deposit_count",
      "eth1_data_block_hash",
      "graffiti",
    ]);
    expect(rows._block_num).toEqual(chain.slots.map((slot) => BigInt(slot.slot)));
    expect(rows.block_num).toEqual(rows._block_num);
    const skipped = chain.slots.filter((slot) => slot.block === null).map((slot) => slot.slot);
    expect(skipped.length).toBeGreaterThan(0);
    expect(skipped.length).toBeLessThan(chain.slots.length);
    for (const { slot, block } of chain.slots) {
      const at = (name: string) => rows[name]![slot];
      expect(refs[slot]).toEqual({ number: slot, hash: block ? block.data.message.state_root : SKIPPED_SLOT_HASH, parentHash: null });
      if (block === null) {
        for (const name of Object.keys(rows).slice(2)) expect(at(name), `slot ${slot} ${name}`).toBeNull();
        continue;
      }
      const { message, signature } = block.data;
      expect(at("version")).toBe(block.version);
      expect(hexOf(at("signature"))).toBe(signature);
      expect(at("proposer_index")).toBe(BigInt(message.proposer_index));
      expect(hexOf(at("parent_root"))).toBe(message.parent_root);
      expect(hexOf(at("state_root"))).toBe(message.state_root);
      expect(hexOf(at("randao_reveal"))).toBe(message.body.randao_reveal);
      expect(hexOf(at("eth1_data_deposit_root"))).toBe(message.body.eth1_data.deposit_root);
      expect(at("eth1_data_deposit_count")).toBe(BigInt(message.body.eth1_data.deposit_count));
      expect(hexOf(at("eth1_data_block_hash"))).toBe(message.body.eth1_data.block_hash);
      expect(hexOf(at("graffiti"))).toBe(message.body.graffiti);
    }
    // A chunk's requests go out together; the head is read once per chunk.
    const paths = (await scenario.log()).requests.map((request) => request.methods[0]);
    expect(paths.filter((path) => path === "/eth/v2/beacon/blocks/head")).toHaveLength(Math.ceil((chain.head + 1) / 7));
  });

  it("joins the provider url without a double slash, whatever its trailing slashes", async () => {
    const scenario = new BeaconScenario(harnessUrl);
    const slot = chain.slots.find((entry) => entry.block !== null && entry.slot > 0)!.slot;
    const hashes = await client(scenario, FAST_RETRY, `${scenario.url}//`).blockHashes([slot]);
    expect(hashes.get(slot)).toBe(chain.slots[slot]!.block!.data.message.state_root);
    expect((await scenario.log()).requests.map((request) => request.methods[0])).toEqual([
      "/eth/v2/beacon/blocks/head",
      `/eth/v2/beacon/blocks/${slot}`,
    ]);
  });

  it("head and finalized are the slots of the node's head and finalized blocks", async () => {
    const scenario = new BeaconScenario(harnessUrl);
    const source = client(scenario);
    const before = await rawHead(chain.url);
    const head = await source.head(false);
    expect(head).toBeGreaterThanOrEqual(before);
    expect(head).toBeLessThanOrEqual(await rawHead(chain.url));
    const finalized = await finalizedSlot(chain.url);
    const seen = await source.head(true);
    expect(seen).toBeGreaterThanOrEqual(finalized);
    expect(seen).toBeLessThanOrEqual(await rawHead(chain.url, "finalized"));
    expect(seen).toBeLessThan(await rawHead(chain.url));
  }, 180_000);

  it("block hashes: the state root of a filled slot, zeros for a skipped one, nothing for a slot above the head", async () => {
    const scenario = new BeaconScenario(harnessUrl);
    const filled = chain.slots.find((entry) => entry.block !== null && entry.slot > 0)!;
    const skipped = chain.slots.find((entry) => entry.block === null)!;
    const future = (await rawHead(chain.url)) + 1000;
    const hashes = await client(scenario).blockHashes([filled.slot, skipped.slot, future]);
    expect(Object.fromEntries(hashes)).toEqual({ [filled.slot]: filled.block!.data.message.state_root, [skipped.slot]: SKIPPED_SLOT_HASH });
  });

  it("a slot above the head is not available: retryable, with no retries of its 404 inside the client", async () => {
    const scenario = new BeaconScenario(harnessUrl);
    const future = (await rawHead(chain.url)) + 1000;
    const error = await expectRejection(rowsOf(client(scenario), future, future + 1));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.reason).toBe("block_not_available");
    expect(error.message).toMatch(new RegExp(`slot ${future + 1} is not available`));
    expect((await scenario.log()).requests).toHaveLength(3);
  });
});

describe("eth-beacon retries", () => {
  async function statuses(scenario: BeaconScenario): Promise<number[]> {
    return (await scenario.log()).requests.map((request) => request.status);
  }

  it("HTTP 429 with Retry-After: waits as long as asked, then succeeds", async () => {
    const scenario = new BeaconScenario(harnessUrl);
    await scenario.inject({ kind: "status", status: 429, retryAfter: "1", times: 1 });
    const started = Date.now();
    expect(await client(scenario).head(false)).toBeGreaterThanOrEqual(chain.head);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(await statuses(scenario)).toEqual([429, 200]);
  });

  it.each([
    ["HTTP 500", { kind: "status", status: 500, times: 2 } as const],
    ["HTTP 503", { kind: "status", status: 503, times: 2 } as const],
    ["a dropped connection", { kind: "disconnect", times: 2 } as const],
    ["a body that is not JSON", { kind: "garbage", times: 2 } as const],
  ])("%s is retried, and the rows are the same", async (_, fault) => {
    const baseline = await rowsOf(client(new BeaconScenario(harnessUrl)), 0, 12);
    const scenario = new BeaconScenario(harnessUrl);
    await scenario.inject(fault);
    expect(await rowsOf(client(scenario), 0, 12)).toEqual(baseline);
    expect((await scenario.log()).requests.length).toBe(14 + 2);
  });

  it("a request slower than requestTimeoutMs is cut and retried", async () => {
    const scenario = new BeaconScenario(harnessUrl);
    await scenario.inject({ kind: "delay", ms: 1500, times: 1 });
    expect(await client(scenario, { ...FAST_RETRY, requestTimeoutMs: 300 }).head(false)).toBeGreaterThanOrEqual(chain.head);
    expect((await scenario.log()).requests).toHaveLength(2);
  });

  it("retries are bounded: a node that keeps failing gives a retryable error after maxAttempts", async () => {
    const scenario = new BeaconScenario(harnessUrl);
    await scenario.inject({ kind: "status", status: 500, times: 10 });
    const error = await expectRejection(client(scenario).head(false));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.message).toMatch(/HTTP 500 .*gave up after 4 attempts/);
    expect(await statuses(scenario)).toEqual([500, 500, 500, 500]);
  });

  it("a Retry-After longer than the client waits goes to the caller at once", async () => {
    const scenario = new BeaconScenario(harnessUrl);
    await scenario.inject({ kind: "status", status: 429, retryAfter: "120", times: 1 });
    const error = await expectRejection(client(scenario).head(false));
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).retryAfterMs).toBe(120_000);
    expect(await statuses(scenario)).toEqual([429]);
  });

  it("HTTP 400 (a block id the node refuses) is fatal, not retried", async () => {
    const scenario = new BeaconScenario(harnessUrl);
    await scenario.inject({ kind: "status", status: 400, times: 1 });
    const error = await expectRejection(client(scenario).head(false));
    expect(error).toBeInstanceOf(FatalError);
    expect(error.reason).toBe("http_rejected");
    expect(await statuses(scenario)).toEqual([400]);
  });

  it("a bad provider url or limit is a fatal configuration error", () => {
    expect(() => new EthBeaconClient({ url: "ws://127.0.0.1:1" })).toThrow(FatalError);
    expect(() => new EthBeaconClient({ url: "http://127.0.0.1:1", concurrent_request_limit: 0 })).toThrow(/concurrent_request_limit/);
    expect(() => new EthBeaconClient({ url: "http://127.0.0.1:1", rate_limit_per_minute: 0 })).toThrow(/rate_limit_per_minute/);
  });
});
