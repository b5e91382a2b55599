/**
 * A node of the test's own, for changing the chain: a branch replaced under
 * the client gives new hashes from the fork point on, linked to the old
 * blocks below it.
 */
import { afterEach, expect, it } from "vitest";
import { EvmRpcClient } from "../../../src/extract/evm-rpc/client";
import { startFreshNode } from "../../support/fault-control";
import { harness } from "../../support/provided-context";
import { extractRange, rawRpc } from "./helpers";

const { harnessUrl } = harness();
const stops: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

it("a replaced branch: new hashes from the fork point on, blockHashes sees the new branch", async () => {
  const node = await startFreshNode(harnessUrl, { seed: true });
  stops.push(node.stop);
  const head = node.chain!.head;
  expect(await new EvmRpcClient({ url: node.url }).head(false)).toBe(head);
  const fork = head - 4;

  const snapshot = await rawRpc(node.url, "evm_snapshot", []);
  await rawRpc(node.url, "anvil_mine", ["0x3"]);
  const before = await extractRange({ url: node.url }, 0, head + 3);

  await rawRpc(node.url, "evm_revert", [snapshot]);
  await rawRpc(node.url, "anvil_setBlockTimestampInterval", [7]);
  await rawRpc(node.url, "anvil_mine", ["0x3"]);
  const after = await extractRange({ url: node.url, rpc_batch_size: 3 }, 0, head + 3);

  expect(after.blocks.slice(0, head + 1)).toEqual(before.blocks.slice(0, head + 1));
  for (let n = head + 1; n <= head + 3; n++) expect(after.blocks[n]!.hash).not.toBe(before.blocks[n]!.hash);
  expect(after.blocks[head + 1]!.parentHash).toBe(before.blocks[head]!.hash);
  expect(after.tables.transactions).toEqual(before.tables.transactions);

  const client = new EvmRpcClient({ url: node.url });
  const hashes = await client.blockHashes([fork, head + 2, head + 3, head + 10]);
  expect([...hashes.keys()]).toEqual([fork, head + 2, head + 3]);
  expect(hashes.get(head + 2)).toBe(after.blocks[head + 2]!.hash);
  expect(hashes.get(fork)).toBe(before.blocks[fork]!.hash);
});

it("an unseeded fresh node has only its genesis block", async () => {
  const node = await startFreshNode(harnessUrl, { seed: false });
  stops.push(node.stop);
  expect(node.chain).toBeNull();
  expect(await new EvmRpcClient({ url: node.url }).head(false)).toBe(0);
});
