import { describe, expect, it } from "vitest";
import { RLP } from "@ethereumjs/rlp";
import { encodeHeader } from "../../../src/domain/evm-verification/block-header";
import { UnreadableFieldError } from "../../../src/domain/evm-verification/rpc-values";

const h32 = (byte: string) => `0x${byte.repeat(32)}`;
/** A Prague header's fields, as a node sends them. */
const prague = {
  parentHash: h32("01"),
  sha3Uncles: h32("02"),
  miner: `0x${"03".repeat(20)}`,
  stateRoot: h32("04"),
  transactionsRoot: h32("05"),
  receiptsRoot: h32("06"),
  logsBloom: `0x${"00".repeat(256)}`,
  difficulty: "0x0",
  number: "0x10",
  gasLimit: "0x1c9c380",
  gasUsed: "0x5208",
  timestamp: "0x6b11336a",
  extraData: "0x",
  mixHash: h32("07"),
  nonce: "0x0000000000000001",
  baseFeePerGas: "0x3b9aca00",
  withdrawalsRoot: h32("08"),
  blobGasUsed: "0x0",
  excessBlobGas: "0x20000",
  parentBeaconBlockRoot: h32("09"),
  requestsHash: h32("0a"),
};
const without = (...keys: string[]) => Object.fromEntries(Object.entries(prague).filter(([key]) => !keys.includes(key)));
const fieldCount = (rlp: Uint8Array) => (RLP.decode(rlp) as Uint8Array[]).length;

describe("encodeHeader", () => {
  it.each([
    ["prague", [], 21],
    ["cancun", ["requestsHash"], 20],
    ["shanghai", ["requestsHash", "blobGasUsed", "excessBlobGas", "parentBeaconBlockRoot"], 17],
    ["london", ["requestsHash", "blobGasUsed", "excessBlobGas", "parentBeaconBlockRoot", "withdrawalsRoot"], 16],
    ["pre-london", ["requestsHash", "blobGasUsed", "excessBlobGas", "parentBeaconBlockRoot", "withdrawalsRoot", "baseFeePerGas"], 15],
  ] as const)("takes the %s layout from the fields present (%j left out): %i fields", (layout, left, count) => {
    const header = encodeHeader(without(...left));
    expect(header.layout).toBe(layout);
    expect(fieldCount(header.rlp)).toBe(count);
  });

  it("keeps the nonce's 8 bytes and encodes zero quantities as empty strings", () => {
    const fields = RLP.decode(encodeHeader(prague).rlp) as Uint8Array[];
    expect(fields[14]).toEqual(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1));
    expect(fields[7]).toEqual(new Uint8Array(0)); // difficulty 0
    expect(fields[17]).toEqual(new Uint8Array(0)); // blobGasUsed 0
  });

  it("refuses a later fork's field without an earlier one: no fork has that layout", () => {
    expect(() => encodeHeader(without("baseFeePerGas"))).toThrow(UnreadableFieldError);
    expect(() => encodeHeader(without("baseFeePerGas"))).toThrow("withdrawalsRoot: present without baseFeePerGas: no fork's header has that layout");
    expect(() => encodeHeader(without("withdrawalsRoot", "requestsHash"))).toThrow(/^blobGasUsed: present without withdrawalsRoot/);
  });

  it("names a field that is missing or of the wrong size", () => {
    expect(() => encodeHeader(without("mixHash"))).toThrow("mixHash: missing");
    expect(() => encodeHeader({ ...prague, nonce: "0x1" })).toThrow(/^nonce: expected 8 bytes/);
  });
});
