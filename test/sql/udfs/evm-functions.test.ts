/**
 * evm_decode_log against viem's decodeEventLog as the oracle, on events whose parameters are all static (one
 * decode call for topics and data together) and on those that are not (one per part), and its failure rules
 * (derived-datasets.md §3.3): a NULL topic gives a NULL field, data that does not decode NULL body fields, a
 * topic that does not decode fails the query; and evm_topic per signature.
 */
import { decodeEventLog, encodeAbiParameters, encodeEventTopics, keccak256, parseAbiItem, toHex, type AbiEvent } from "viem";
import * as AbiParameters from "ox/AbiParameters";
import { describe, expect, it } from "vitest";
import { EVM_FUNCTIONS } from "../../../src/sql/udfs/evm-functions";
import { fromSolidity } from "../../../src/sql/udfs/solidity-types";

const decodeLog = EVM_FUNCTIONS.evm_decode_log!;
const topic = EVM_FUNCTIONS.evm_topic!;
const word = (n: number) => toHex(BigInt(n), { size: 32 });

/** What the engine carries for viem's decoded value: lower-case hex, decimal strings for 256 bits. */
function engineForm(value: unknown, type: string): unknown {
  if (typeof value === "string") return value.toLowerCase();
  if (typeof value === "bigint") return type.endsWith("256") ? value.toString() : value;
  return value;
}

function oracle(event: AbiEvent, topics: `0x${string}`[], data: `0x${string}`) {
  const { args } = decodeEventLog({ abi: [event], topics: topics as [`0x${string}`, ...`0x${string}`[]], data, strict: true });
  const out: Record<string, unknown> = {};
  for (const input of [...event.inputs.filter((i) => i.indexed), ...event.inputs.filter((i) => !i.indexed)]) {
    out[input.name!] = engineForm((args as Record<string, unknown>)[input.name!], input.type);
  }
  return out;
}

describe("evm_decode_log", () => {
  const CASES: { signature: string; values: unknown[] }[] = [
    { signature: "Transfer(address indexed from, address indexed to, uint256 value)", values: ["0x00000000000000000000000000000000000000a1", "0xB0000000000000000000000000000000000000B2", 10n ** 30n + 7n] },
    {
      signature: "Swap(address indexed sender, address indexed recipient, int256 amount0, int256 amount1, uint160 sqrtPriceX96, uint128 liquidity, int24 tick)",
      values: ["0x00000000000000000000000000000000000000c1", "0x00000000000000000000000000000000000000c2", -5n, 2n ** 200n, 2n ** 150n, 12345n, -887272],
    },
    { signature: "Named(uint8 indexed kind, bool ok, bytes32 id, uint64 n)", values: [7, true, keccak256("0x01"), 2n ** 63n] },
    { signature: "Memo(address indexed who, string text, bytes blob)", values: ["0x00000000000000000000000000000000000000d1", "hello", "0xdeadbeef"] },
    { signature: "Tagged(string indexed tag, uint256 n)", values: ["a tag", 5n] },
  ];
  for (const { signature, values } of CASES) {
    it(`decodes ${signature.split("(")[0]} as viem does`, () => {
      const event = parseAbiItem(`event ${signature}`) as AbiEvent;
      const indexed = event.inputs.filter((i) => i.indexed);
      const body = event.inputs.filter((i) => !i.indexed);
      const named = Object.fromEntries(event.inputs.map((input, i) => [input.name!, values[i]]));
      const topics = encodeEventTopics({ abi: [event], args: Object.fromEntries(indexed.map((i) => [i.name!, named[i.name!]])) as never }) as `0x${string}`[];
      const data = encodeAbiParameters(body, body.map((i) => named[i.name!]));
      const expected = oracle(event, topics, data);
      if (indexed.some((i) => i.type === "string")) expected.tag = topics[1];
      const t = [topics[1] ?? null, topics[2] ?? null, topics[3] ?? null].map((x) => x?.toLowerCase() ?? null);
      expect(decodeLog.apply(t[0]!, t[1]!, t[2]!, data.toLowerCase(), signature)).toEqual(expected);
      expect(topic.apply(signature)).toBe(topics[0]);
    });
  }

  const TRANSFER = "Transfer(address indexed from, address indexed to, uint256 value)";
  const from = word(0xa1);
  const to = word(0xb2);

  it("gives NULL fields for a NULL topic and for data that does not decode, keeping the rest", () => {
    expect(decodeLog.apply(from, null, null, word(5), TRANSFER)).toEqual({ from: "0x00000000000000000000000000000000000000a1", to: null, value: "5" });
    // An ERC-721 Transfer (tokenId in topic3, no data) read with the ERC-20 signature.
    expect(decodeLog.apply(from, to, word(9), "0x", TRANSFER)).toEqual({ from: "0x00000000000000000000000000000000000000a1", to: "0x00000000000000000000000000000000000000b2", value: null });
    expect(decodeLog.apply(from, to, null, "0x1234", TRANSFER)).toMatchObject({ value: null });
    expect(decodeLog.apply(from, to, null, null, TRANSFER)).toMatchObject({ value: null });
  });

  it("fails on a topic that does not decode, naming it", () => {
    expect(() => decodeLog.apply(from, "0x01", null, word(1), TRANSFER)).toThrow(/failed to decode topic2/);
  });

  it("decodes every one-word type from its own word exactly as ox's generic decode of topics and data together", () => {
    // The expected values are ox's decode through the same conversion to engine values (solidity-types.ts).
    // Random words, not canonical encodings: high bits set in an int8 or an address's padding, negative signed values
    // over the whole word, digits a uint48 cannot hold; each is decoded from its own word and must equal ox's decode.
    const signature = "Words(address indexed a, int8 indexed b, bytes4 indexed c, uint256 d, int256 e, uint48 f, int48 g, uint56 h, int200 i, bytes32 j, bytes1 k)";
    const event = parseAbiItem(`event ${signature}`) as AbiEvent;
    const params = [...event.inputs.filter((i) => i.indexed), ...event.inputs.filter((i) => !i.indexed)];
    let state = 0x2545f491;
    const randomWord = () => {
      let hex = "0x";
      for (let i = 0; i < 8; i++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        hex += (state >>> 0).toString(16).padStart(8, "0");
      }
      return hex as `0x${string}`;
    };
    for (let row = 0; row < 200; row++) {
      const words = params.map(() => (row % 4 === 0 ? word(row) : randomWord()));
      const data = `0x${words.slice(3).map((w) => w.slice(2)).join("")}` as const;
      const decoded = AbiParameters.decode(params, `0x${words.map((w) => w.slice(2)).join("")}`, { checksumAddress: false }) as unknown[];
      const expected = Object.fromEntries(params.map((p, i) => [p.name!, fromSolidity(p, decoded[i])]));
      expect(decodeLog.apply(words[0]!, words[1]!, words[2]!, data, signature)).toEqual(expected);
      // Trailing bytes after the body's words are ignored, as ox ignores them; upper-case digits decode the same.
      expect(decodeLog.apply(words[0]!, words[1]!, words[2]!, `${data}${"ab".repeat(40)}`, signature)).toEqual(expected);
      expect(decodeLog.apply(words[0]!.toUpperCase().replace("0X", "0x"), words[1]!, words[2]!, data.toUpperCase().replace("0X", "0x"), signature)).toEqual(expected);
    }
    // Not hex, or a body a word short: the generic path's NULL body, and its error for a topic.
    const words = params.map((_, i) => word(i + 1));
    const data = `0x${words.slice(3).map((w) => w.slice(2)).join("")}`;
    const body = { d: null, e: null, f: null, g: null, h: null, i: null, j: null, k: null };
    expect(decodeLog.apply(words[0]!, words[1]!, words[2]!, `${data.slice(0, -2)}zz`, signature)).toMatchObject(body);
    expect(decodeLog.apply(words[0]!, words[1]!, words[2]!, data.slice(0, -64), signature)).toMatchObject(body);
    expect(() => decodeLog.apply(`${words[0]!.slice(0, -2)}zz`, words[1]!, words[2]!, data, signature)).toThrow(/failed to decode topic1/);
  });

  it("gives each row its own struct, also for the same arguments again", () => {
    const first = decodeLog.apply(from, to, null, word(1), TRANSFER);
    expect(decodeLog.apply(from, to, null, word(2), TRANSFER)).toMatchObject({ value: "2" });
    expect(decodeLog.apply(from, to, null, word(1), TRANSFER)).toEqual(first);
  });
});
