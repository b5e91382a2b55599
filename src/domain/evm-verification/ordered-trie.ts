/**
 * The root of an ordered Merkle-Patricia trie (yellow paper appendix D), as
 * blocks commit to their transactions and receipts: item i under the key
 * RLP(i). Built in one pass over the sorted keys, each node encoded and hashed
 * once; a node whose RLP is under 32 bytes is embedded in its parent instead
 * of hashed. Our own code because @ethereumjs/mpt, which the tests take as the
 * oracle, took 8 times as long for a mainnet block's receipts (README,
 * "Verification"): it keeps a database of nodes and rehashes the path of every
 * insert.
 */
import { RLP, type Input } from "@ethereumjs/rlp";
import { keccak256 } from "./keccak";

interface Entry {
  readonly nibbles: Uint8Array;
  readonly value: Uint8Array;
}

/** keccak-256 of RLP(""): the root of a trie without items. */
export const EMPTY_TRIE_ROOT = keccak256(RLP.encode(new Uint8Array(0)));

export function orderedTrieRoot(items: readonly Uint8Array[]): Uint8Array {
  if (items.length === 0) return EMPTY_TRIE_ROOT;
  const entries = items.map((value, i) => ({ nibbles: nibblesOf(RLP.encode(i)), value })).sort((a, b) => compareNibbles(a.nibbles, b.nibbles));
  // The root is hashed whatever its length.
  return keccak256(encodeNode(entries, 0, entries.length, 0));
}

/** The RLP of the node holding entries[from, to), which share their first `depth` nibbles. */
function encodeNode(entries: readonly Entry[], from: number, to: number, depth: number): Uint8Array {
  if (to - from === 1) {
    const only = entries[from]!;
    return RLP.encode([hexPrefix(only.nibbles, depth, only.nibbles.length, true), only.value]);
  }
  // Sorted: the nibbles all entries share are those the first and the last share.
  const first = entries[from]!.nibbles;
  const last = entries[to - 1]!.nibbles;
  let common = depth;
  while (common < first.length && common < last.length && first[common] === last[common]) common++;
  if (common > depth) return RLP.encode([hexPrefix(first, depth, common, false), reference(encodeNode(entries, from, to, common))]);
  const children: Input[] = [];
  let i = from;
  // A key that ends here (never for RLP-encoded indexes, which are prefix-free) is the branch's value.
  const value = entries[i]!.nibbles.length === depth ? entries[i++]!.value : new Uint8Array(0);
  for (let nibble = 0; nibble < 16; nibble++) {
    const start = i;
    while (i < to && entries[i]!.nibbles[depth] === nibble) i++;
    children.push(i === start ? new Uint8Array(0) : reference(encodeNode(entries, start, i, depth + 1)));
  }
  children.push(value);
  return RLP.encode(children);
}

/** How a parent refers to a child node: its hash, or the node itself when its RLP is under 32 bytes. */
function reference(encoded: Uint8Array): Input {
  return encoded.length < 32 ? (RLP.decode(encoded) as Input) : keccak256(encoded);
}

/** Hex-prefix encoding of nibbles[from, to): the flag nibble says leaf or extension, and odd length. */
function hexPrefix(nibbles: Uint8Array, from: number, to: number, leaf: boolean): Uint8Array {
  const length = to - from;
  const odd = length % 2 === 1;
  const out = new Uint8Array((length >> 1) + 1);
  const flag = (leaf ? 2 : 0) + (odd ? 1 : 0);
  let n = from;
  out[0] = odd ? (flag << 4) | nibbles[n++]! : flag << 4;
  for (let i = 1; n < to; i++, n += 2) out[i] = (nibbles[n]! << 4) | nibbles[n + 1]!;
  return out;
}

function nibblesOf(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    out[2 * i] = bytes[i]! >> 4;
    out[2 * i + 1] = bytes[i]! & 15;
  }
  return out;
}

function compareNibbles(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
