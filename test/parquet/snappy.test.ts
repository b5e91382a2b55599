import { snappyUncompress } from "hyparquet";
import { describe, expect, it } from "vitest";
import { snappyCompress, snappyMaxCompressedLength } from "../../src/parquet/snappy";
import { createRandom } from "../support/evm-rows";

/** Our compressor against hyparquet's decompressor (an independent implementation). */
function roundTrip(input: Uint8Array): Uint8Array {
  const compressed = snappyCompress(input).slice();
  expect(compressed.length).toBeLessThanOrEqual(snappyMaxCompressedLength(input.length));
  const output = new Uint8Array(input.length);
  snappyUncompress(compressed, output);
  expect(Buffer.from(output).equals(Buffer.from(input))).toBe(true);
  return compressed;
}

const random = createRandom(7);

describe("snappy compression", () => {
  it.each([0, 1, 4, 15, 16, 17, 18, 59, 60, 61, 255, 256, 257, 4095, 65535, 65536, 65537, 200_000])(
    "round-trips %i bytes of random, zero and patterned data",
    (length) => {
      roundTrip(random.bytes(length));
      roundTrip(new Uint8Array(length));
      roundTrip(Uint8Array.from({ length }, (_, i) => (i % 97 < 40 ? 0 : (i * 31) & 0xff)));
    },
  );

  it("compresses repeats: long runs, distant copies (2-byte offsets) and short ones (1-byte offsets)", () => {
    const word = random.bytes(40);
    const far = new Uint8Array(60_000);
    far.set(word, 10);
    far.set(word, 50_000);
    const near = Uint8Array.from({ length: 10_000 }, (_, i) => [1, 2, 3, 4, 5, 6, 7][i % 7] as number);
    expect(roundTrip(new Uint8Array(1 << 20)).length).toBeLessThan(50_000);
    expect(roundTrip(far).length).toBeLessThan(4_000);
    expect(roundTrip(near).length).toBeLessThan(1_000);
  });

  it("round-trips column-like data: length-prefixed hashes and little-endian integers", () => {
    const prefixed = new Uint8Array(36 * 5000);
    for (let i = 0; i < 5000; i++) {
      prefixed.set([32, 0, 0, 0], 36 * i);
      prefixed.set(random.bytes(32), 36 * i + 4);
    }
    roundTrip(prefixed);
    const integers = new BigInt64Array(50_000);
    for (let i = 0; i < integers.length; i++) integers[i] = BigInt(random.below(1_000_000));
    expect(roundTrip(new Uint8Array(integers.buffer)).length).toBeLessThan(integers.byteLength);
  });
});
