/**
 * A beacon block answer that does not have the shape of getBlockV2 is an
 * invalid response (retryable), never a row with a made-up value. The base
 * answer is a real one, from the shared Lodestar node.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { RetryableError } from "../../../src/domain/errors";
import { appendSlotRow, emptyBlocksColumns, parseBeaconBlock, SKIPPED_SLOT_HASH } from "../../../src/extract/eth-beacon/slot-rows";
import { beaconChain } from "../../support/beacon-chain";
import { harness } from "../../support/provided-context";

const { harnessUrl } = harness();

let slot: number;
let answer: Record<string, any>;
beforeAll(async () => {
  const chain = await beaconChain(harnessUrl, 4);
  const filled = chain.slots.find((entry) => entry.block !== null && entry.slot > 0)!;
  slot = filled.slot;
  answer = filled.block!;
}, 150_000);

/** The answer with the field at `path` replaced (undefined deletes it). */
function changed(path: string, value: unknown): Record<string, any> {
  const copy = structuredClone(answer);
  const keys = path.split(".");
  let target = copy;
  for (const key of keys.slice(0, -1)) target = target[key];
  if (value === undefined) delete target[keys.at(-1)!];
  else target[keys.at(-1)!] = value;
  return copy;
}

describe("a beacon block answer as a row", () => {
  it("reads a real answer", () => {
    const block = parseBeaconBlock(answer, slot, "node");
    expect(block.slot).toBe(slot);
    expect(block.stateRoot).toBe(answer.data.message.state_root);
    const columns = emptyBlocksColumns();
    expect(appendSlotRow(columns, slot, block)).toEqual({ number: slot, hash: block.stateRoot, parentHash: null });
    expect(appendSlotRow(columns, slot + 1, null)).toEqual({ number: slot + 1, hash: SKIPPED_SLOT_HASH, parentHash: null });
    expect(columns._block_num).toEqual([BigInt(slot), BigInt(slot + 1)]);
    expect(columns.proposer_index).toEqual([BigInt(answer.data.message.proposer_index), null]);
  });

  it.each([
    ["version", undefined, /version is not a string/],
    ["data.message.slot", "0x10", /slot is not a decimal u64/],
    ["data.message.slot", "18446744073709551616", /slot is not a decimal u64/],
    ["data.message.proposer_index", 7, /proposer_index is not a decimal u64/],
    ["data.message.state_root", "0x1234", /state_root is not 0x and 32 bytes of hex/],
    ["data.message.parent_root", `0x${"zz".repeat(32)}`, /parent_root is not 0x and 32 bytes/],
    ["data.signature", `0x${"00".repeat(95)}`, /signature is not 0x and 96 bytes/],
    ["data.message.body.graffiti", undefined, /graffiti is not 0x and 32 bytes/],
    ["data.message.body.eth1_data", null, /deposit_root is not 0x and 32 bytes/],
    ["data.message.body.eth1_data.deposit_count", "-1", /deposit_count is not a decimal u64/],
  ])("%s = %j is an invalid response", (path, value, message) => {
    const call = () => parseBeaconBlock(changed(path, value), slot, "node");
    expect(call).toThrow(RetryableError);
    expect(call).toThrow(message);
  });

  it("a block of another slot than the one asked for is an invalid response", () => {
    expect(() => parseBeaconBlock(answer, slot + 1, "node")).toThrow(new RegExp(`slot ${slot + 1} from node: data.message.slot is ${slot}`));
  });
});
