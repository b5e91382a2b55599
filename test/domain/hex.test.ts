import { describe, expect, it } from "vitest";
import {
  bytesToHex,
  HexError,
  hexToBigInt,
  hexToBytes,
  hexToFixedBytes,
  hexToSafeInteger,
  quantityToBytes,
  quantityToMinimalBytes,
  toQuantity,
} from "../../src/domain/hex";

describe("hexToBytes", () => {
  it("decodes lower and upper case, and 0x as empty", () => {
    expect(hexToBytes("0x")).toEqual(new Uint8Array(0));
    expect(hexToBytes("0x00ff10Ab")).toEqual(Uint8Array.of(0x00, 0xff, 0x10, 0xab));
    expect(hexToBytes("0XdeadBEEF")).toEqual(Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
  });

  it.each([
    ["", "no prefix"],
    ["abcd", "no prefix"],
    ["0x123", "odd length"],
    ["0xzz", "not hex"],
    ["0x0g", "not hex"],
    ["0x é", "non-ascii"],
    ["0x\u0100\u0100", "wide chars"],
  ])("rejects %j (%s)", (value) => {
    expect(() => hexToBytes(value)).toThrow(HexError);
  });

  it.each([null, undefined, 12, {}, ["0x00"]])("rejects the non-string %j", (value) => {
    expect(() => hexToBytes(value)).toThrow(HexError);
  });

  it("round-trips every byte value", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(hexToBytes(bytesToHex(all))).toEqual(all);
    expect(bytesToHex(all).slice(0, 8)).toBe("0x000102");
    expect(bytesToHex(Uint8Array.of(0xab, 0xcd))).toBe("0xabcd");
    expect(bytesToHex(new Uint8Array(0))).toBe("0x");
  });
});

describe("hexToFixedBytes", () => {
  it("requires exactly the size", () => {
    const address = "0x" + "11".repeat(20);
    expect(hexToFixedBytes(address, 20)).toEqual(new Uint8Array(20).fill(0x11));
    expect(() => hexToFixedBytes(address, 32)).toThrow(/expected 32 bytes/);
    expect(() => hexToFixedBytes("0x" + "11".repeat(21), 20)).toThrow(HexError);
    expect(() => hexToFixedBytes("0x", 20)).toThrow(HexError);
  });
});

describe("quantityToBytes", () => {
  it("left-pads to the size, big-endian", () => {
    expect(quantityToBytes("0x1", 4)).toEqual(Uint8Array.of(0, 0, 0, 1));
    expect(quantityToBytes("0xabc", 4)).toEqual(Uint8Array.of(0, 0, 0x0a, 0xbc));
    expect(quantityToBytes("0x0", 2)).toEqual(Uint8Array.of(0, 0));
    expect(quantityToBytes("0x00ff", 2)).toEqual(Uint8Array.of(0, 0xff));
    expect(quantityToBytes("0x" + "f".repeat(64), 32)).toEqual(new Uint8Array(32).fill(0xff));
  });

  it("rejects values wider than the size, empty and non-hex ones", () => {
    expect(() => quantityToBytes("0x1" + "0".repeat(64), 32)).toThrow(/wider than 32/);
    expect(() => quantityToBytes("0x", 32)).toThrow(HexError);
    expect(() => quantityToBytes("0xq", 32)).toThrow(HexError);
    expect(() => quantityToBytes(7, 32)).toThrow(HexError);
  });
});

describe("quantities as numbers", () => {
  it("hexToBigInt reads any width", () => {
    expect(hexToBigInt("0x0")).toBe(0n);
    expect(hexToBigInt("0xff")).toBe(255n);
    expect(hexToBigInt("0x" + "f".repeat(32))).toBe((1n << 128n) - 1n);
    expect(() => hexToBigInt("0x")).toThrow(HexError);
    expect(() => hexToBigInt("0x1z")).toThrow(HexError);
    expect(() => hexToBigInt("12")).toThrow(HexError);
  });

  it("hexToSafeInteger refuses what a JS number cannot hold exactly", () => {
    expect(hexToSafeInteger("0x1f")).toBe(31);
    expect(hexToSafeInteger("0x1fffffffffffff")).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => hexToSafeInteger("0x20000000000000")).toThrow(HexError);
    expect(() => hexToSafeInteger("0x")).toThrow(HexError);
    expect(() => hexToSafeInteger("0xg")).toThrow(HexError);
  });

  it("toQuantity writes the shortest form", () => {
    expect(toQuantity(0)).toBe("0x0");
    expect(toQuantity(255)).toBe("0xff");
    expect(toQuantity(2n ** 70n)).toBe("0x400000000000000000");
    expect(() => toQuantity(-1)).toThrow(HexError);
  });
});

describe("quantityToMinimalBytes", () => {
  it("gives the shortest big-endian bytes, zero as none (RLP's integers)", () => {
    expect(quantityToMinimalBytes("0x0")).toEqual(new Uint8Array(0));
    expect(quantityToMinimalBytes("0x1")).toEqual(Uint8Array.of(1));
    expect(quantityToMinimalBytes("0x1a2b")).toEqual(Uint8Array.of(0x1a, 0x2b));
    expect(quantityToMinimalBytes("0x12345")).toEqual(Uint8Array.of(0x01, 0x23, 0x45));
  });

  it("drops leading zero digits a node pads with", () => {
    expect(quantityToMinimalBytes("0x000a")).toEqual(Uint8Array.of(0x0a));
    expect(quantityToMinimalBytes("0x0000")).toEqual(new Uint8Array(0));
  });

  it.each(["0x", "12", "0xz1", 5, null])("refuses %j", (value) => {
    expect(() => quantityToMinimalBytes(value)).toThrow(HexError);
  });
});
