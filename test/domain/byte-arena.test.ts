/**
 * ByteArena and the hex decoders writing into it: the values are the same
 * bytes as freshly allocated ones, zero-padded where a quantity is short,
 * and no value shares a byte with another.
 */
import { describe, expect, it } from "vitest";
import { ByteArena, hexToBytes, hexToFixedBytes, quantityToBytes } from "../../src/domain/hex";

/** [start, end) of a view inside its ArrayBuffer. */
const span = (view: Uint8Array) => ({ buffer: view.buffer, start: view.byteOffset, end: view.byteOffset + view.byteLength });

describe("ByteArena", () => {
  it("decodes into views with the same bytes as fresh arrays", () => {
    const arena = new ByteArena(256);
    const hash = `0x${"ab".repeat(32)}`;
    expect(hexToFixedBytes(hash, 32, arena.allocate)).toEqual(hexToFixedBytes(hash, 32));
    expect(hexToBytes("0x00ff10Ab", arena.allocate)).toEqual(Uint8Array.of(0x00, 0xff, 0x10, 0xab));
    expect(hexToBytes("0x", arena.allocate)).toEqual(new Uint8Array(0));
    expect(quantityToBytes("0x1a2", 4, arena.allocate)).toEqual(Uint8Array.of(0, 0, 0x01, 0xa2));
  });

  it("hands out zero-filled views that never overlap, moving to a new buffer when one is full", () => {
    const arena = new ByteArena(100);
    const views = Array.from({ length: 12 }, (_, i) => arena.allocate(10 + (i % 3)));
    for (const view of views) expect(view.every((byte) => byte === 0)).toBe(true);
    views.forEach((view, i) => view.fill(i + 1));
    views.forEach((view, i) => expect(view.every((byte) => byte === i + 1), `view ${i}`).toBe(true));
    const spans = views.map(span);
    for (let i = 0; i < spans.length; i++) {
      for (let j = i + 1; j < spans.length; j++) {
        const [a, b] = [spans[i]!, spans[j]!];
        expect(a.buffer !== b.buffer || a.end <= b.start || b.end <= a.start, `views ${i} and ${j}`).toBe(true);
      }
    }
    expect(new Set(spans.map((s) => s.buffer)).size).toBeGreaterThan(1);
    // A short quantity decoded after other values still has zeros in front.
    expect(quantityToBytes("0xff", 8, arena.allocate)).toEqual(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0xff));
  });

  it("gives a value above a quarter of a buffer an array of its own", () => {
    const arena = new ByteArena(64);
    const small = arena.allocate(16);
    const large = arena.allocate(17);
    expect(small.buffer.byteLength).toBe(64);
    expect(large.byteOffset).toBe(0);
    expect(large.buffer.byteLength).toBe(17);
  });
});
