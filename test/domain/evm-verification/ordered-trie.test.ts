import { describe, expect, it } from "vitest";
import { MerklePatriciaTrie } from "@ethereumjs/mpt";
import { RLP } from "@ethereumjs/rlp";
import { EMPTY_TRIE_ROOT, orderedTrieRoot } from "../../../src/domain/evm-verification/ordered-trie";
import { bytesToHex } from "../../../src/domain/hex";
import { prng } from "../../support/prng";

/** @ethereumjs/mpt, a maintained trie, as the oracle: item i under RLP(i), one put at a time. */
async function oracleRoot(items: readonly Uint8Array[]): Promise<string> {
  const trie = new MerklePatriciaTrie();
  for (let i = 0; i < items.length; i++) await trie.put(RLP.encode(i), items[i]!);
  return bytesToHex(trie.root());
}

describe("orderedTrieRoot", () => {
  it("is the empty trie's root without items", async () => {
    expect(bytesToHex(EMPTY_TRIE_ROOT)).toBe("0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");
    expect(bytesToHex(orderedTrieRoot([]))).toBe(await oracleRoot([]));
  });

  // Counts around the shapes of RLP(i) keys: one byte up to 127, 0x80 for 0, two bytes from 128, three from 256.
  it.each([1, 2, 3, 15, 16, 17, 127, 128, 129, 255, 256, 257, 600])("is @ethereumjs/mpt's root for %i items of random sizes", async (count) => {
    const random = prng(count);
    const items = Array.from({ length: count }, () => {
      // Tiny values make nodes under 32 bytes, which parents embed instead of hashing.
      const size = random.chance(0.3) ? random.int(1, 3) : random.int(4, 1500);
      return Uint8Array.from({ length: size }, () => random.int(0, 255));
    });
    expect(bytesToHex(orderedTrieRoot(items))).toBe(await oracleRoot(items));
  });

  it("changes with any one item", async () => {
    const items = Array.from({ length: 40 }, (_, i) => Uint8Array.of(i, i + 1, i + 2));
    const root = bytesToHex(orderedTrieRoot(items));
    const altered = items.map((item, i) => (i === 33 ? Uint8Array.of(0, 0, 0) : item));
    expect(bytesToHex(orderedTrieRoot(altered))).not.toBe(root);
    expect(bytesToHex(orderedTrieRoot(altered))).toBe(await oracleRoot(altered));
  });
});
