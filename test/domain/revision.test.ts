import { describe, expect, it } from "vitest";
import {
  compareVersions,
  formatDatasetReference,
  isHash,
  isName,
  isNamespace,
  isVersion,
  latestVersionTag,
  parseDatasetReference,
  parsePartialDatasetReference,
  parseRevision,
  partialReferenceMatches,
  sortVersionsDescending,
  versionDeletion,
} from "../../src/domain/revision";

const HASH_A = "a".repeat(64);
const HASH_B = "b".repeat(64);

describe("names", () => {
  it.each(["_", "edgeandnode", "0xabc123", "a_b_1", "123"])("namespace %s is valid", (ns) => expect(isNamespace(ns)).toBe(true));
  it.each(["", "Edge", "a-b", "a.b", "a/b", " a", "ä", "a b", "a".repeat(256)])("namespace %j is invalid", (ns) => expect(isNamespace(ns)).toBe(false));
  it("takes namespaces and names of up to 255 characters", () => {
    expect(isNamespace("a".repeat(255))).toBe(true);
    expect(isName("a".repeat(255))).toBe(true);
    expect(isName("a".repeat(256))).toBe(false);
  });
  it.each(["eth_rpc", "_private", "a1", "x"])("name %s is valid", (name) => expect(isName(name)).toBe(true));
  it.each(["", "1eth", "Eth", "eth-rpc", "eth.rpc", "eth rpc"])("name %j is invalid", (name) => expect(isName(name)).toBe(false));
  it("hashes are 64 hex digits in either case", () => {
    expect(isHash(HASH_A)).toBe(true);
    expect(isHash("A".repeat(64))).toBe(true);
    expect(isHash("a".repeat(63))).toBe(false);
    expect(isHash("g".repeat(64))).toBe(false);
  });
});

describe("versions", () => {
  it.each(["0.0.0", "1.2.3", "10.20.30", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-0.3.7", "1.0.0+20130313144700", "1.0.0-beta+exp.sha.5114f85", "1.0.0+001"])(
    "%s is a strict semver",
    (v) => expect(isVersion(v)).toBe(true),
  );
  it.each(["v1.2.3", "=1.2.3", " 1.2.3", "1.2.3 ", "1.2", "1", "01.2.3", "1.02.3", "1.2.3-01", "1.2.3-", "1.2.3+", "latest", "1.2.3-a..b", ""])(
    "%j is not a strict semver",
    (v) => expect(isVersion(v)).toBe(false),
  );

  it("orders by semver, not by text", () => {
    expect(sortVersionsDescending(["1.0.0", "9.0.0", "10.0.0", "2.0.0"])).toEqual(["10.0.0", "9.0.0", "2.0.0", "1.0.0"]);
  });

  it("puts a pre-release before its release and orders pre-release identifiers per semver", () => {
    const ascending = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"];
    expect(sortVersionsDescending([...ascending].reverse().sort())).toEqual([...ascending].reverse());
  });

  it("orders versions that differ only in build metadata, deterministically", () => {
    expect(compareVersions("1.0.0", "1.0.0+build")).toBeLessThan(0);
    expect(compareVersions("1.0.0+2", "1.0.0+10")).toBeLessThan(0);
    expect(compareVersions("1.0.0+a", "1.0.0+a")).toBe(0);
  });
});

describe("revisions", () => {
  it("parses latest, dev, a hash and a version, in that order", () => {
    expect(parseRevision("latest")).toEqual({ kind: "latest" });
    expect(parseRevision("dev")).toEqual({ kind: "dev" });
    expect(parseRevision(HASH_A)).toEqual({ kind: "hash", hash: HASH_A });
    expect(parseRevision("1.2.3")).toEqual({ kind: "version", version: "1.2.3" });
  });
  it("keeps the case of a hash", () => {
    expect(parseRevision("AB".repeat(32))).toEqual({ kind: "hash", hash: "AB".repeat(32) });
  });
  it.each(["Latest", "DEV", "v1.0.0", "abc", "", "1.0"])("refuses %j", (text) => expect(parseRevision(text)).toBeNull());
});

describe("dataset references", () => {
  it("parses <namespace>/<name>@<revision> and formats it back", () => {
    const ref = parseDatasetReference("_/eth_firehose@0.0.0");
    expect(ref).toEqual({ namespace: "_", name: "eth_firehose", revision: { kind: "version", version: "0.0.0" } });
    expect(ref && formatDatasetReference(ref)).toBe("_/eth_firehose@0.0.0");
  });
  it("accepts and drops the pkg:amp/ prefix", () => {
    const ref = parseDatasetReference("pkg:amp/edgeandnode/anvil@latest");
    expect(ref && formatDatasetReference(ref)).toBe("edgeandnode/anvil@latest");
  });
  it.each([
    "eth_firehose@0.0.0",
    "_/eth_firehose",
    "_/eth_firehose@",
    "_/Eth@1.0.0",
    "Ns/eth@1.0.0",
    "_/eth@v1.0.0",
    "_/eth@1.0.0@2.0.0",
    "a/b/c@1.0.0",
    "pkg:amp/_/eth",
    "pkg:other/_/eth@1.0.0",
    " _/eth@1.0.0",
  ])("refuses %j", (text) => expect(parseDatasetReference(text)).toBeNull());

  it("parses partial references [namespace/]name[@revision]", () => {
    expect(parsePartialDatasetReference("eth")).toEqual({ namespace: null, name: "eth", revision: null });
    expect(parsePartialDatasetReference("ns/eth@1.0.0")).toEqual({ namespace: "ns", name: "eth", revision: { kind: "version", version: "1.0.0" } });
    expect(parsePartialDatasetReference("eth@dev")).toEqual({ namespace: null, name: "eth", revision: { kind: "dev" } });
    expect(parsePartialDatasetReference("Eth")).toBeNull();
    expect(parsePartialDatasetReference("ns/eth@nope")).toBeNull();
  });

  it("matches a partial reference against a dependency by name and by each part given", () => {
    const dep = { namespace: "ns", name: "eth", revision: { kind: "hash" as const, hash: HASH_A } };
    const match = (text: string) => {
      const partial = parsePartialDatasetReference(text);
      return partial !== null && partialReferenceMatches(partial, dep);
    };
    expect(match("eth")).toBe(true);
    expect(match("ns/eth")).toBe(true);
    expect(match(`ns/eth@${HASH_A.toUpperCase()}`)).toBe(true);
    expect(match("other/eth")).toBe(false);
    expect(match("eth@latest")).toBe(false);
    expect(match("ethx")).toBe(false);
  });
});

describe("tag rules", () => {
  it("latest is the highest semver version, not the last registered or the text maximum", () => {
    const tags = [
      { version: "9.0.0", hash: HASH_A },
      { version: "10.0.0", hash: HASH_B },
      { version: "10.0.0-rc.1", hash: HASH_A },
    ];
    expect(latestVersionTag(tags)).toEqual({ version: "10.0.0", hash: HASH_B });
    expect(latestVersionTag([])).toBeNull();
  });

  it("a pre-release becomes latest only while no release above it exists", () => {
    expect(latestVersionTag([{ version: "1.0.0", hash: HASH_A }, { version: "1.1.0-rc.1", hash: HASH_B }])?.version).toBe("1.1.0-rc.1");
    expect(latestVersionTag([{ version: "2.0.0-rc.1", hash: HASH_A }, { version: "2.0.0", hash: HASH_B }])?.version).toBe("2.0.0");
  });

  it("protects only the version latest points to", () => {
    const tags = [
      { version: "1.0.0", hash: HASH_A },
      { version: "2.0.0", hash: HASH_A },
    ];
    expect(versionDeletion(tags, "2.0.0")).toBe("latest");
    // Shares latest's manifest but is not latest: the original refused this; we allow it.
    expect(versionDeletion(tags, "1.0.0")).toBe("deletable");
    expect(versionDeletion(tags, "3.0.0")).toBe("absent");
  });

  it("latest never moves backwards: after deleting any deletable version it is unchanged", () => {
    const tags = ["0.1.0", "1.0.0", "1.0.0-rc.1", "0.9.9", "1.0.0+b"].map((version, i) => ({ version, hash: String(i).repeat(64) }));
    const before = latestVersionTag(tags);
    for (const tag of tags) {
      if (versionDeletion(tags, tag.version) !== "deletable") continue;
      expect(latestVersionTag(tags.filter((t) => t !== tag))).toEqual(before);
    }
  });
});
