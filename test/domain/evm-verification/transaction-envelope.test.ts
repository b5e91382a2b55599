import { describe, expect, it } from "vitest";
import { keccak256, numberToHex, parseTransaction, type Hex, type TransactionSerializable } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { encodeTransaction } from "../../../src/domain/evm-verification/transaction-envelope";
import { UnreadableFieldError } from "../../../src/domain/evm-verification/rpc-values";
import { bytesToHex } from "../../../src/domain/hex";

// anvil's first dev key: any key does, viem signs and serializes independently of the code under test.
const account = privateKeyToAccount("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const to = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
const accessList = [{ address: "0x5fbdb2315678afecb367f032d93f642f64180aa3", storageKeys: [numberToHex(1, { size: 32 }), numberToHex(2, { size: 32 })] }] as const;
const base = { chainId: 31337, nonce: 7, gas: 50_000n, to, value: 10n ** 18n, data: "0xdeadbeef" } as const;
const fees = { maxFeePerGas: 30_000_000_000n, maxPriorityFeePerGas: 1_500_000_000n } as const;

/** A signed transaction as a JSON-RPC node shows it: quantities as hex, yParity and v. */
function rpcShape(serialized: Hex): Record<string, unknown> {
  const tx = parseTransaction(serialized);
  const q = (value: bigint | number | undefined) => (value === undefined ? undefined : numberToHex(value));
  const typeNumber = { legacy: 0, eip2930: 1, eip1559: 2, eip4844: 3, eip7702: 4 }[tx.type!];
  return {
    hash: keccak256(serialized),
    type: q(typeNumber),
    chainId: q(tx.chainId),
    nonce: q(tx.nonce ?? 0),
    gas: q(tx.gas),
    gasPrice: q(tx.gasPrice),
    maxFeePerGas: q(tx.maxFeePerGas),
    maxPriorityFeePerGas: q(tx.maxPriorityFeePerGas),
    maxFeePerBlobGas: q(tx.maxFeePerBlobGas),
    to: tx.to ?? null,
    value: q(tx.value ?? 0n),
    input: tx.data ?? "0x",
    accessList: tx.accessList,
    blobVersionedHashes: tx.blobVersionedHashes,
    authorizationList: tx.authorizationList?.map((a) => ({ chainId: q(a.chainId), address: a.address, nonce: q(a.nonce), yParity: q(a.yParity), r: a.r, s: a.s })),
    // Nodes show a typed transaction's v as its y-parity (viem parses it as 27 or 28).
    v: tx.type === "legacy" ? q(tx.v) : q(tx.yParity),
    yParity: tx.type === "legacy" ? undefined : q(tx.yParity),
    r: tx.r,
    s: tx.s,
  };
}

async function signed(tx: TransactionSerializable): Promise<Hex> {
  return account.signTransaction(tx);
}

describe("encodeTransaction", () => {
  const cases: [string, () => Promise<Hex>][] = [
    ["legacy with EIP-155 (v = 35 + 2 * chain id + parity)", () => signed({ ...base, type: "legacy", gasPrice: 20_000_000_000n })],
    ["legacy without a chain id (v = 27 or 28)", () => signed({ ...base, chainId: undefined, type: "legacy", gasPrice: 20_000_000_000n })],
    ["legacy contract creation (no to)", () => signed({ ...base, to: undefined, type: "legacy", gasPrice: 1n })],
    ["EIP-2930 with an access list", () => signed({ ...base, type: "eip2930", gasPrice: 21_000_000_000n, accessList })],
    ["EIP-1559 without an access list", () => signed({ ...base, type: "eip1559", ...fees })],
    ["EIP-1559 with an access list and a zero value", () => signed({ ...base, value: 0n, type: "eip1559", ...fees, accessList })],
    [
      "EIP-4844 (the block's form, without sidecar)",
      () =>
        signed({
          ...base,
          type: "eip4844",
          ...fees,
          maxFeePerBlobGas: 3n,
          blobVersionedHashes: [`0x01${"ab".repeat(31)}`, `0x01${"cd".repeat(31)}`],
          accessList,
        }),
    ],
    [
      "EIP-7702 with an authorization",
      async () => {
        const authorization = await account.signAuthorization({ address: accessList[0].address, chainId: 31337, nonce: 8 });
        return signed({ ...base, type: "eip7702", ...fees, authorizationList: [authorization] });
      },
    ],
  ];

  it.each(cases)("%s: the bytes viem serializes, so keccak-256 gives its hash", async (_, sign) => {
    const serialized = await sign();
    const rpc = rpcShape(serialized);
    const envelope = encodeTransaction(rpc, "transactions[0].");
    expect(bytesToHex(envelope)).toBe(serialized);
    expect(keccak256(envelope)).toBe(rpc.hash);
  });

  it("encodes r and s without the leading zeros a node may pad them with", async () => {
    const serialized = await signed({ ...base, type: "eip1559", ...fees });
    const rpc = rpcShape(serialized);
    const padded = { ...rpc, r: `0x00${String(rpc.r).slice(2)}`, s: `0x0000${String(rpc.s).slice(2)}` };
    expect(bytesToHex(encodeTransaction(padded, ""))).toBe(serialized);
  });

  it("takes v for the parity of a typed transaction that has no yParity (older nodes)", async () => {
    const rpc = rpcShape(await signed({ ...base, type: "eip1559", ...fees }));
    const { yParity, ...withoutYParity } = rpc;
    expect(yParity).toBeDefined();
    expect(keccak256(encodeTransaction(withoutYParity, ""))).toBe(rpc.hash);
  });

  it("refuses a type Ethereum does not define (an L2 deposit), naming the field", () => {
    expect(() => encodeTransaction({ type: "0x7e", nonce: "0x0" }, "transactions[4].")).toThrow(UnreadableFieldError);
    expect(() => encodeTransaction({ type: "0x7e", nonce: "0x0" }, "transactions[4].")).toThrow(/^transactions\[4\]\.type: transaction type 126 is not one of Ethereum's/);
  });

  it("names a missing or malformed field, however deep", async () => {
    const rpc = rpcShape(await signed({ ...base, type: "eip2930", gasPrice: 1n, accessList }));
    expect(() => encodeTransaction({ ...rpc, gas: undefined }, "transactions[2].")).toThrow("transactions[2].gas: missing");
    expect(() => encodeTransaction({ ...rpc, value: "0xzz" }, "transactions[2].")).toThrow(/^transactions\[2\]\.value: not a hex digit/);
    const badKey = { ...rpc, accessList: [{ address: accessList[0].address, storageKeys: ["0x01"] }] };
    expect(() => encodeTransaction(badKey, "transactions[2].")).toThrow(/^transactions\[2\]\.accessList\[0\]\.storageKeys\[0\]: expected 32 bytes/);
  });
});
