import { describe, expect, it } from "vitest";
import {
  fillPlaceholders,
  isPlaceholderOnly,
  lookupIn,
  parseTemplate,
  substitutePlaceholders,
} from "../../../src/domain/provider/placeholders";

const lookup = lookupIn({ RPC_URL: "https://rpc.example.com", KEY: "k3y", EMPTY: "", NOT_A_STRING: 5, "odd name": "x" });

describe("parseTemplate", () => {
  it("splits literal text and placeholders", () => {
    expect(parseTemplate("a${B}c${D}")).toEqual({ ok: true, value: [{ literal: "a" }, { variable: "B" }, { literal: "c" }, { variable: "D" }] });
    expect(parseTemplate("plain $ and { }")).toEqual({ ok: true, value: [{ literal: "plain $ and { }" }] });
    expect(parseTemplate("")).toEqual({ ok: true, value: [] });
  });

  it("takes everything up to the next } as the name, as the original", () => {
    expect(parseTemplate("${odd name}")).toEqual({ ok: true, value: [{ variable: "odd name" }] });
    expect(parseTemplate("${A${B}")).toEqual({ ok: true, value: [{ variable: "A${B" }] });
  });

  it("reports unclosed and empty placeholders with their position", () => {
    expect(parseTemplate("ab${C")).toEqual({ ok: false, error: { kind: "syntax", position: 2, message: "unclosed placeholder: missing '}'" } });
    expect(parseTemplate("x${}")).toEqual({ ok: false, error: { kind: "syntax", position: 1, message: "empty placeholder '${}'" } });
  });

  it("refuses the API's own AMP_ variables", () => {
    expect(parseTemplate("${AMP_ADMIN_TOKEN}")).toEqual({ ok: false, error: { kind: "reserved", variable: "AMP_ADMIN_TOKEN" } });
  });
});

describe("isPlaceholderOnly", () => {
  it("is true only for strings made of placeholders", () => {
    expect(isPlaceholderOnly("${A}")).toBe(true);
    expect(isPlaceholderOnly("${A}${B}")).toBe(true);
    for (const value of ["", "x${A}", "${A}x", "${A", "${}", "plain"]) expect(isPlaceholderOnly(value), value).toBe(false);
  });
});

describe("fillPlaceholders", () => {
  it("replaces each placeholder with the filler", () => {
    expect(fillPlaceholders("https://${HOST}/v3/${KEY}", "p")).toEqual({ ok: true, value: "https://p/v3/p" });
  });
});

describe("substitutePlaceholders", () => {
  it("substitutes through objects and arrays, leaving keys, numbers and booleans alone", () => {
    const config = { url: "${RPC_URL}/v1", list: ["${KEY}", 3, true], nested: { "${KEY}": "k=${KEY}${EMPTY}" } };
    expect(substitutePlaceholders(config, lookup)).toEqual({
      ok: true,
      value: { url: "https://rpc.example.com/v1", list: ["k3y", 3, true], nested: { "${KEY}": "k=k3y" } },
    });
  });

  it("does not scan substituted values again", () => {
    const nested = lookupIn({ A: "${B}", B: "b" });
    expect(substitutePlaceholders("${A}", nested)).toEqual({ ok: true, value: "${B}" });
  });

  it("fails on a missing variable and on a variable that is not a string", () => {
    expect(substitutePlaceholders({ a: ["${NOPE}"] }, lookup)).toEqual({ ok: false, error: { kind: "missing", variable: "NOPE" } });
    expect(substitutePlaceholders("${NOT_A_STRING}", lookup)).toEqual({ ok: false, error: { kind: "missing", variable: "NOT_A_STRING" } });
  });

  it("does not read inherited properties of the env record", () => {
    expect(substitutePlaceholders("${toString}", lookup)).toEqual({ ok: false, error: { kind: "missing", variable: "toString" } });
  });

  it("fails on syntax errors and reserved variables", () => {
    expect(substitutePlaceholders("${", lookup)).toMatchObject({ ok: false, error: { kind: "syntax" } });
    expect(substitutePlaceholders("${AMP_READ_TOKEN}", lookupIn({ AMP_READ_TOKEN: "t" }))).toMatchObject({
      ok: false,
      error: { kind: "reserved" },
    });
  });
});
