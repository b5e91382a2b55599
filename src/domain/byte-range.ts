/**
 * HTTP `Range: bytes=...` requests on an object of known size (RFC 9110
 * §14.1.2, §14.2), for the file content route. Only a single range is served
 * as a 206; anything the server may ignore (another unit, several ranges,
 * a malformed header) means the whole object, as the RFC allows.
 */

/** An inclusive byte range within an object. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export type RangeRequest =
  /** Serve the whole object (no Range header, or one the server ignores). */
  | { readonly kind: "whole" }
  /** Serve these bytes as a 206. */
  | { readonly kind: "partial"; readonly range: ByteRange }
  /** A well-formed single range that does not overlap the object: 416. */
  | { readonly kind: "unsatisfiable" };

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/i;

export function parseRangeHeader(header: string | null | undefined, size: number): RangeRequest {
  if (header === null || header === undefined) return { kind: "whole" };
  const match = SINGLE_RANGE.exec(header.trim());
  if (!match) return { kind: "whole" };
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return { kind: "whole" };
  if (first === "") {
    // A suffix: the last N bytes. "-0" asks for nothing and cannot be satisfied.
    const length = Number(last);
    if (length === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", range: { start: Math.max(0, size - length), end: size - 1 } };
  }
  const start = Number(first);
  // "a-b" with b < a is not a valid range, which the server ignores.
  if (last !== "" && Number(last) < start) return { kind: "whole" };
  if (start >= size) return { kind: "unsatisfiable" };
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: "partial", range: { start, end } };
}

/**
 * Whether an `If-None-Match` header matches the object's entity tag, by the
 * weak comparison RFC 9110 §13.1.2 prescribes (a `W/` prefix is ignored).
 */
export function noneMatchHits(header: string | null | undefined, etag: string): boolean {
  if (header === null || header === undefined) return false;
  if (header.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return header.split(",").some((tag) => opaque(tag) === opaque(etag));
}
