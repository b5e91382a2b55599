import { describe, expect, it } from "vitest";
import {
  type EndBlock,
  formatEndBlock,
  needsChainHead,
  parseEndBlock,
  resolveEndBlock,
} from "../../src/domain/end-block";

const MAX = Number.MAX_SAFE_INTEGER;

function parsed(value: unknown): EndBlock {
  const result = parseEndBlock(value);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(value)} to parse: ${result.reason}`);
  return result.endBlock;
}

function reason(value: unknown): string {
  const result = parseEndBlock(value);
  if (result.ok) throw new Error(`expected ${String(value)} to be rejected`);
  return result.reason;
}

describe("parseEndBlock: accepted forms", () => {
  it("null and absent are continuous", () => {
    expect(parsed(null)).toEqual({ kind: "continuous" });
    expect(parsed(undefined)).toEqual({ kind: "continuous" });
  });
  it('"latest" is the chain head', () => {
    expect(parsed("latest")).toEqual({ kind: "latest" });
  });
  it.each([
    ["0", 0],
    ["1", 1],
    ["15000000", 15_000_000],
    [String(MAX), MAX],
  ])('"%s" is an absolute block', (text, block) => {
    expect(parsed(text)).toEqual({ kind: "absolute", block });
  });
  it.each([
    ["-1", 1],
    ["-100", 100],
    [`-${MAX}`, MAX],
  ])('"%s" is an offset below the head', (text, offset) => {
    expect(parsed(text)).toEqual({ kind: "latestMinus", offset });
  });
  it.each([
    [0, { kind: "absolute", block: 0 }],
    [1000, { kind: "absolute", block: 1000 }],
    [MAX, { kind: "absolute", block: MAX }],
    [-100, { kind: "latestMinus", offset: 100 }],
    [-MAX, { kind: "latestMinus", offset: MAX }],
  ])("the JSON integer %s is accepted", (value, expected) => {
    expect(parsed(value)).toEqual(expected);
  });
  it("an integer written with an exponent in JSON is that integer", () => {
    expect(parsed(JSON.parse("1e3"))).toEqual({ kind: "absolute", block: 1000 });
  });
});

describe("parseEndBlock: rejected forms, each with a reason", () => {
  it.each([
    ["1.5", "decimal digits"],
    ["-", "decimal digits"],
    ["", "decimal digits"],
    ["--5", "decimal digits"],
    ["-1.5", "decimal digits"],
    [" 5", "decimal digits"],
    ["5 ", "decimal digits"],
    ["1e3", "decimal digits"],
    ["0x10", "decimal digits"],
    ["abc", "decimal digits"],
    ["１２", "decimal digits"],
    ["01", "leading zeros"],
    ["00", "leading zeros"],
    ["-01", "leading zeros"],
    ["+3", 'must not start with "+"'],
    ["+0", 'must not start with "+"'],
    ["-0", "ambiguous"],
    ["Latest", "lower case"],
    ["LATEST", "lower case"],
    [String(MAX + 1), `at most ${MAX}`],
    ["99999999999999999999", `at most ${MAX}`],
    [`-${MAX + 1}`, `at most ${MAX}`],
  ])('"%s" (%s)', (text, expected) => {
    expect(reason(text)).toContain(expected);
  });
  it.each([
    [1.5, "must be an integer"],
    [-0, "ambiguous"],
    [MAX + 1, "magnitude"],
    [-(MAX + 1), "magnitude"],
    [1e300, "magnitude"],
    [Number.NaN, "must be an integer"],
    [Number.POSITIVE_INFINITY, "must be an integer"],
  ])("the number %s (%s)", (value, expected) => {
    expect(reason(value)).toContain(expected);
  });
  it.each([
    [true, "a boolean"],
    [{}, "a object"],
    [[1], "an array"],
    [10n, "a bigint"],
  ])("a value of another type: %s", (value, expected) => {
    expect(reason(value)).toContain(expected);
  });
  it("names the input in the reason", () => {
    expect(reason("1.5")).toContain('"1.5"');
    expect(reason("-x")).toContain('"-x"');
  });
});

describe("formatEndBlock: the stored form", () => {
  it.each([
    [{ kind: "continuous" }, null],
    [{ kind: "latest" }, "latest"],
    [{ kind: "absolute", block: 0 }, "0"],
    [{ kind: "absolute", block: 15_000_000 }, "15000000"],
    [{ kind: "latestMinus", offset: 64 }, "-64"],
  ] as const)("%j is stored as %j", (endBlock, stored) => {
    expect(formatEndBlock(endBlock)).toBe(stored);
  });
  it.each([null, "latest", "0", "7", "-7", String(MAX), `-${MAX}`])("%j reads back as itself", (stored) => {
    expect(formatEndBlock(parsed(stored))).toBe(stored);
  });
  it("JSON integers are stored as strings", () => {
    expect(formatEndBlock(parsed(42))).toBe("42");
    expect(formatEndBlock(parsed(-42))).toBe("-42");
  });
});

describe("needsChainHead", () => {
  it("only for latest and -N", () => {
    expect(needsChainHead({ kind: "continuous" })).toBe(false);
    expect(needsChainHead({ kind: "absolute", block: 5 })).toBe(false);
    expect(needsChainHead({ kind: "latest" })).toBe(true);
    expect(needsChainHead({ kind: "latestMinus", offset: 5 })).toBe(true);
  });
});

describe("resolveEndBlock", () => {
  it("continuous stays continuous whatever the head", () => {
    expect(resolveEndBlock({ kind: "continuous" }, { start: 100 })).toEqual({ ok: true, end: { kind: "continuous" } });
    expect(resolveEndBlock({ kind: "continuous" }, { start: 100, latest: 5 })).toEqual({
      ok: true,
      end: { kind: "continuous" },
    });
  });
  it("an absolute block at or above the start is the end", () => {
    expect(resolveEndBlock({ kind: "absolute", block: 100 }, { start: 100 })).toEqual({
      ok: true,
      end: { kind: "block", block: 100 },
    });
    expect(resolveEndBlock({ kind: "absolute", block: 0 }, { start: 0 })).toEqual({
      ok: true,
      end: { kind: "block", block: 0 },
    });
  });
  it("an absolute block above the head is fine: the job waits for it", () => {
    expect(resolveEndBlock({ kind: "absolute", block: 500 }, { start: 0, latest: 10 })).toEqual({
      ok: true,
      end: { kind: "block", block: 500 },
    });
  });
  it("an absolute block below the start is an error", () => {
    const result = resolveEndBlock({ kind: "absolute", block: 99 }, { start: 100 });
    expect(result).toMatchObject({ ok: false, code: "END_BELOW_START" });
    expect(!result.ok && result.reason).toBe("end block 99 is below the start block 100");
  });
  it("latest is the head", () => {
    expect(resolveEndBlock({ kind: "latest" }, { start: 0, latest: 1234 })).toEqual({
      ok: true,
      end: { kind: "block", block: 1234 },
    });
    expect(resolveEndBlock({ kind: "latest" }, { start: 1234, latest: 1234 })).toEqual({
      ok: true,
      end: { kind: "block", block: 1234 },
    });
  });
  it("latest below the start is an error (the chain has not reached the dataset yet)", () => {
    expect(resolveEndBlock({ kind: "latest" }, { start: 100, latest: 50 })).toMatchObject({
      ok: false,
      code: "END_BELOW_START",
    });
  });
  it("-N is N below the head", () => {
    expect(resolveEndBlock({ kind: "latestMinus", offset: 10 }, { start: 0, latest: 1000 })).toEqual({
      ok: true,
      end: { kind: "block", block: 990 },
    });
  });
  it("-N landing exactly on the start or on block 0 is fine", () => {
    expect(resolveEndBlock({ kind: "latestMinus", offset: 10 }, { start: 990, latest: 1000 })).toEqual({
      ok: true,
      end: { kind: "block", block: 990 },
    });
    expect(resolveEndBlock({ kind: "latestMinus", offset: 1000 }, { start: 0, latest: 1000 })).toEqual({
      ok: true,
      end: { kind: "block", block: 0 },
    });
  });
  it("-N below the start is an error", () => {
    const result = resolveEndBlock({ kind: "latestMinus", offset: 11 }, { start: 990, latest: 1000 });
    expect(result).toMatchObject({ ok: false, code: "END_BELOW_START" });
    expect(!result.ok && result.reason).toContain("1000 - 11 = 989");
  });
  it("-N below block 0 is an error, never a huge end (§11.22)", () => {
    expect(resolveEndBlock({ kind: "latestMinus", offset: 1001 }, { start: 0, latest: 1000 })).toMatchObject({
      ok: false,
      code: "END_BELOW_GENESIS",
    });
    expect(resolveEndBlock({ kind: "latestMinus", offset: MAX }, { start: 0, latest: 0 })).toMatchObject({
      ok: false,
      code: "END_BELOW_GENESIS",
    });
  });
  it("latest and -N without a head report it instead of guessing", () => {
    expect(resolveEndBlock({ kind: "latest" }, { start: 0 })).toMatchObject({ ok: false, code: "CHAIN_HEAD_REQUIRED" });
    expect(resolveEndBlock({ kind: "latestMinus", offset: 1 }, { start: 0 })).toMatchObject({
      ok: false,
      code: "CHAIN_HEAD_REQUIRED",
    });
  });
});
