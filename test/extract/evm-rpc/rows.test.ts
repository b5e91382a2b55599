/**
 * Row rules on node data altered in ways anvil never produces: pre-Byzantium
 * receipts, pre-EIP-155 signatures, network-specific transaction types,
 * headers without optional fields, and data that must be refused. Each case
 * starts from a real block and its receipts, fetched from anvil.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { emptyColumns, type EvmRpcColumns } from "../../../src/extract/evm-rpc/columns";
import { appendBlockRows, BlockInvalidError } from "../../../src/extract/evm-rpc/rows";
import { harness } from "../../support/provided-context";
import { quantity, rawRpc, type Json } from "./helpers";

const { anvilUrl, chain } = harness();

let pristine: Record<string, { block: Json; receipts: Json[] }>;

beforeAll(async () => {
  pristine = {};
  for (const [kind, n] of Object.entries({ ...chain.blocks, empty: chain.blocks.empty[0]! })) {
    pristine[kind] = {
      block: await rawRpc(anvilUrl, "eth_getBlockByNumber", [quantity(n), true]),
      receipts: await rawRpc(anvilUrl, "eth_getBlockReceipts", [quantity(n)]),
    };
  }
});

/** A deep copy of a seeded block, to alter. */
function sample(kind: keyof SeededBlocks) {
  const { block, receipts } = structuredClone(pristine[kind]!);
  return { block, receipts, number: Number(block.number) };
}
type SeededBlocks = typeof chain.blocks;

function convert(block: Json, receipts: Json[], number = Number(block.number)): EvmRpcColumns {
  const columns = emptyColumns();
  appendBlockRows(columns, number, block, receipts);
  return columns;
}

function invalid(block: Json, receipts: Json[], number = Number(block.number)): BlockInvalidError {
  const columns = emptyColumns();
  let caught: unknown;
  try {
    appendBlockRows(columns, number, block, receipts);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(BlockInvalidError);
  // A refused block leaves nothing behind.
  expect(columns).toEqual(emptyColumns());
  return caught as BlockInvalidError;
}

describe("failed transactions", () => {
  it("pre-Byzantium receipts: a zero state root is a failure, any other root a success", () => {
    const { block, receipts } = sample("revertedMiddle");
    for (const receipt of receipts) {
      receipt.root = receipt.status === "0x1" ? `0x${"ab".repeat(32)}` : `0x${"00".repeat(32)}`;
      delete receipt.status;
    }
    const columns = convert(block, receipts);
    expect(columns.transactions.tx_index).toEqual([0, 1]);
    expect(columns.logs.tx_index).toEqual([2]);
  });

  it("a receipt with neither status nor root is refused", () => {
    const { block, receipts } = sample("valueTransfers");
    delete receipts[1]!.status;
    expect(invalid(block, receipts).message).toMatch(/neither status nor root/);
  });

  it("all transactions failed: a block row, no transactions, no logs", () => {
    const { block, receipts } = sample("logs");
    for (const receipt of receipts) receipt.status = "0x0";
    const columns = convert(block, receipts);
    expect(columns.blocks._block_num).toHaveLength(1);
    expect(columns.transactions._block_num).toHaveLength(0);
    expect(columns.logs._block_num).toHaveLength(0);
  });
});

describe("signatures", () => {
  it.each([
    ["0x1b", 0],
    ["0x1c", 1],
    ["0xf4f5", 0],
    ["0xf4f6", 1],
    ["0x0", 0],
    ["0x1", 1],
  ])("legacy v = %s gives a parity of %i", (v, parity) => {
    const { block, receipts } = sample("valueTransfers");
    block.transactions[0].v = v;
    expect(convert(block, receipts).transactions.v[0]).toEqual(parity ? Uint8Array.of(1) : new Uint8Array(0));
  });

  it("typed transactions use yParity, or v when yParity is missing", () => {
    const { block, receipts } = sample("valueTransfers");
    const typed = block.transactions[2];
    typed.yParity = "0x1";
    typed.v = "0x0";
    expect(convert(block, receipts).transactions.v[2]).toEqual(Uint8Array.of(1));
    delete typed.yParity;
    expect(convert(block, receipts).transactions.v[2]).toEqual(new Uint8Array(0));
  });

  it("short r and s are left-padded to 32 bytes", () => {
    const { block, receipts } = sample("valueTransfers");
    block.transactions[0].r = "0x1";
    block.transactions[0].s = "0xabcd";
    const { r, s } = convert(block, receipts).transactions;
    expect(r[0]).toEqual(Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 1 : 0)));
    expect(s[0]!.slice(29)).toEqual(Uint8Array.of(0, 0xab, 0xcd));
    expect(s[0]).toHaveLength(32);
  });

  it.each([["0x2"], ["0x1a"]])("a v of %s is not a parity", (v) => {
    const { block, receipts } = sample("valueTransfers");
    block.transactions[0].v = v;
    expect(invalid(block, receipts).message).toMatch(/not a signature parity/);
  });
});

describe("transaction types", () => {
  it("a type this network defines (an L2 deposit, 0x7e): fields as given, no signature", () => {
    const { block, receipts } = sample("valueTransfers");
    const tx = block.transactions[3];
    tx.type = "0x7e";
    for (const field of ["v", "r", "s", "yParity", "gasPrice", "chainId"]) delete tx[field];
    const t = convert(block, receipts).transactions;
    expect(t.type[3]).toBe(0x7e);
    expect(t.gas_price[3]).toBeNull();
    expect(t.max_fee_per_gas[3]).toBe(0n);
    expect(t.max_priority_fee_per_gas[3]).toBeNull();
    expect(t.max_fee_per_blob_gas[3]).toBeNull();
    expect(t.v[3]).toEqual(new Uint8Array(0));
    expect(t.r[3]).toEqual(new Uint8Array(32));
    expect(t.s[3]).toEqual(new Uint8Array(32));
  });

  it("an unknown type keeps the fee fields it has", () => {
    const { block, receipts } = sample("valueTransfers");
    const tx = block.transactions[2];
    tx.type = "0x64";
    tx.gasPrice = "0x5";
    tx.maxFeePerBlobGas = "0x9";
    const t = convert(block, receipts).transactions;
    expect(t.gas_price[2]).toBe(5n);
    expect(t.max_fee_per_gas[2]).toBe(30_000_000_000n);
    expect(t.max_priority_fee_per_gas[2]).toBe(1_500_000_000n);
    expect(t.max_fee_per_blob_gas[2]).toBe(9n);
  });

  it("a blob transaction (type 3) carries max_fee_per_blob_gas", () => {
    const { block, receipts } = sample("valueTransfers");
    block.transactions[2].type = "0x3";
    block.transactions[2].maxFeePerBlobGas = "0x3b9aca00";
    const t = convert(block, receipts).transactions;
    expect(t.max_fee_per_blob_gas).toEqual([null, null, 1_000_000_000n, null]);
    expect(t.gas_price[2]).toBeNull();
  });

  it("a missing type is a legacy transaction", () => {
    const { block, receipts } = sample("valueTransfers");
    delete block.transactions[0].type;
    const t = convert(block, receipts).transactions;
    expect(t.type[0]).toBe(0);
    expect(t.gas_price[0]).toBe(20_000_000_000n);
  });
});

describe("headers", () => {
  it("without mixHash and nonce: zero hash and 0; without post-London fields: nulls", () => {
    const { block, receipts } = sample("empty");
    for (const field of ["mixHash", "nonce", "baseFeePerGas", "withdrawalsRoot", "blobGasUsed", "excessBlobGas", "parentBeaconBlockRoot"]) {
      delete block[field];
    }
    const b = convert(block, receipts).blocks;
    expect(b.mix_hash).toEqual([new Uint8Array(32)]);
    expect(b.nonce).toEqual([0n]);
    for (const column of [b.base_fee_per_gas, b.withdrawals_root, b.blob_gas_used, b.excess_blob_gas, b.parent_beacon_root]) {
      expect(column).toEqual([null]);
    }
  });

  it("a proof-of-work nonce and difficulty are kept (mainnet block 15,000,000)", () => {
    const { block, receipts } = sample("empty");
    block.nonce = "0xa0ba23490d99d85c";
    block.difficulty = "0x3124462a736f88";
    const b = convert(block, receipts).blocks;
    expect(b.nonce).toEqual([11581608188404422748n]);
    expect(b.difficulty).toEqual([13832157637341064n]);
  });

  it("total_difficulty is the node's totalDifficulty when it sends one, null when it does not", () => {
    const { block, receipts } = sample("empty");
    block.totalDifficulty = "0xc70d815d562d3cfa955";
    expect(convert(block, receipts).blocks.total_difficulty).toEqual([58_750_003_716_598_352_816_469n]);
    delete block.totalDifficulty;
    expect(convert(block, receipts).blocks.total_difficulty).toEqual([null]);
    block.totalDifficulty = null;
    expect(convert(block, receipts).blocks.total_difficulty).toEqual([null]);
  });
});

describe("validation", () => {
  it("the block number must be the one asked for", () => {
    const { block, receipts, number } = sample("logs");
    expect(invalid(block, receipts, number + 1).message).toMatch(/returned block/);
  });

  it("transaction and receipt counts must match", () => {
    const { block, receipts } = sample("logs");
    expect(invalid(block, receipts.slice(1)).message).toMatch(/6 transactions but 5 receipts/);
  });

  it("each receipt must be its transaction's", () => {
    const { block, receipts } = sample("logs");
    [receipts[0], receipts[1]] = [receipts[1]!, receipts[0]!];
    expect(invalid(block, receipts).message).toMatch(/receipt 0 is for/);
  });

  it("receipts and logs must come from this block", () => {
    const other = `0x${"12".repeat(32)}`;
    const first = sample("logs");
    first.receipts[2]!.blockHash = other;
    expect(invalid(first.block, first.receipts).message).toMatch(/is from block/);
    const second = sample("logs");
    second.receipts[2]!.logs[0].blockHash = other;
    expect(invalid(second.block, second.receipts).message).toMatch(/log blockHash/);
    const third = sample("logs");
    third.receipts[2]!.logs[0].blockNumber = "0x1";
    expect(invalid(third.block, third.receipts).message).toMatch(/log blockNumber/);
  });

  it("each receipt's transactionIndex must be its transaction's position", () => {
    const { block, receipts } = sample("logs");
    receipts[1]!.transactionIndex = "0x4";
    expect(invalid(block, receipts).message).toMatch(/has transactionIndex 0x4, not 1/);
  });

  it("each log must be of its receipt's transaction (the logs table takes tx_hash from the log)", () => {
    const { block, receipts } = sample("logs");
    receipts[2]!.logs[0].transactionHash = receipts[3]!.transactionHash;
    expect(invalid(block, receipts).message).toMatch(/a log of 0x[0-9a-f]{64} names transaction/);
  });

  it("hash comparisons ignore hex case", () => {
    const { block, receipts } = sample("logs");
    for (const receipt of receipts) receipt.transactionHash = receipt.transactionHash.toUpperCase().replace("0X", "0x");
    expect(convert(block, receipts).transactions.tx_hash).toHaveLength(6);
  });

  it.each([
    ["a value above Decimal128", (b: Json) => (b.transactions[0].value = `0x8${"0".repeat(31)}`), /overflows Decimal128/],
    ["a nonce above UInt64", (b: Json) => (b.transactions[0].nonce = `0x1${"0".repeat(16)}`), /overflows UInt64/],
    ["a hash of the wrong size", (b: Json) => (b.transactions[0].hash = "0x1234"), /receipt 0 is for|hash/],
    ["an address that is not hex", (b: Json) => (b.transactions[1].from = `0x${"zz".repeat(20)}`), /from: not a hex digit/],
    ["a missing field", (b: Json) => delete b.transactions[2].gas, /gas: expected a 0x-prefixed hex string/],
    ["odd-length input", (b: Json) => (b.transactions[0].input = "0x123"), /input: odd number/],
    ["a timestamp past year 2262 in ns", (b: Json) => (b.timestamp = "0x3b9aca000"), /timestamp out of range/],
    ["transactions as hashes", (b: Json) => (b.transactions = b.transactions.map((tx: Json) => tx.hash)), /transaction is not an object/],
  ])("%s is refused", (_, alter, message) => {
    const { block, receipts } = sample("valueTransfers");
    alter(block);
    expect(invalid(block, receipts).message).toMatch(message);
  });

  it("a log with a transactionIndex above UInt32 is refused", () => {
    const { block, receipts } = sample("logs");
    receipts[0]!.logs = [{ ...receipts[1]!.logs[0], transactionIndex: "0x100000000" }];
    receipts[0]!.logs[0].transactionHash = receipts[0]!.transactionHash;
    expect(invalid(block, receipts).message).toMatch(/overflows UInt32/);
  });

  it("a refused block leaves the rows of earlier blocks as they were", () => {
    const columns = emptyColumns();
    const good = sample("logs");
    appendBlockRows(columns, good.number, good.block, good.receipts);
    const snapshot = structuredClone(columns);
    const bad = sample("revertedMiddle");
    bad.block.transactions[2].from = "0x00";
    expect(() => appendBlockRows(columns, bad.number, bad.block, bad.receipts)).toThrow(BlockInvalidError);
    expect(columns).toEqual(snapshot);
  });
});
