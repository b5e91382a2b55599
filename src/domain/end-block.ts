/**
 * A deploy's `end_block`: what the caller may send, its stored form, and its
 * resolution against the dataset's start block and the chain head
 * (reference §4.6, §11.22; DESIGN "Where we differ" 6).
 *
 * Accepted forms:
 * - `null` or absent: continuous, the job follows the chain head forever;
 * - `"latest"`: the chain head when the job starts;
 * - `"N"`: block N, inclusive;
 * - `"-N"` (N ≥ 1): N blocks below the chain head when the job starts;
 * - a JSON integer: N ≥ 0 means block N, a negative -N means `"-N"`, as the
 *   spec's DeployRequest description shows (`-100` means latest - 100).
 *
 * Rejected, each with a reason: other strings (`"Latest"`, `" 5"`, `"1.5"`,
 * `"-"`, `"1e3"`, `"0x10"`), a leading `+` (it reads like "head plus N"),
 * leading zeros (`"01"`; the stored form must read back the same), minus
 * zero (`"-0"`, `-0`: neither block 0 nor the head is clearly meant), numbers
 * with a fraction, and magnitudes above 2^53 - 1, beyond which a number can no
 * longer name one block exactly.
 */
import { isBlockNumber } from "./block-range";

export type EndBlock =
  | { readonly kind: "continuous" }
  | { readonly kind: "latest" }
  | { readonly kind: "absolute"; readonly block: number }
  | { readonly kind: "latestMinus"; readonly offset: number };

export type EndBlockParse = { readonly ok: true; readonly endBlock: EndBlock } | { readonly ok: false; readonly reason: string };

const DIGITS = /^(0|[1-9][0-9]*)$/;

const reject = (reason: string): EndBlockParse => ({ ok: false, reason });

function parseMagnitude(digits: string, what: string): number | string {
  if (!/^[0-9]+$/.test(digits)) return `${what} must be decimal digits`;
  if (!DIGITS.test(digits)) return `${what} must not have leading zeros`;
  const value = Number(digits);
  if (!isBlockNumber(value)) return `${what} must be at most ${Number.MAX_SAFE_INTEGER}`;
  return value;
}

function parseString(text: string): EndBlockParse {
  if (text === "latest") return { ok: true, endBlock: { kind: "latest" } };
  if (text.toLowerCase() === "latest") return reject(`end_block "${text}" must be written "latest" in lower case`);
  if (text.startsWith("+")) return reject(`end_block "${text}" must not start with "+": use "N" for block N or "-N" for N blocks below the chain head`);
  if (text.startsWith("-")) {
    const offset = parseMagnitude(text.slice(1), `the offset in end_block "${text}"`);
    if (typeof offset === "string") return reject(offset);
    if (offset === 0) return reject(`end_block "-0" is ambiguous: use "latest" for the chain head or "0" for block 0`);
    return { ok: true, endBlock: { kind: "latestMinus", offset } };
  }
  const block = parseMagnitude(text, `end_block "${text}"`);
  if (typeof block === "string") return reject(`${block}, or be "latest", "-N" or null`);
  return { ok: true, endBlock: { kind: "absolute", block } };
}

function parseNumber(value: number): EndBlockParse {
  if (!Number.isInteger(value)) return reject(`end_block ${value} must be an integer`);
  if (Object.is(value, -0)) return reject(`end_block -0 is ambiguous: use "latest" for the chain head or 0 for block 0`);
  if (Math.abs(value) > Number.MAX_SAFE_INTEGER) return reject(`end_block ${value} must be at most ${Number.MAX_SAFE_INTEGER} in magnitude`);
  return value < 0
    ? { ok: true, endBlock: { kind: "latestMinus", offset: -value } }
    : { ok: true, endBlock: { kind: "absolute", block: value } };
}

/** Parses a deploy request's `end_block` (any JSON value; `undefined` when absent). */
export function parseEndBlock(value: unknown): EndBlockParse {
  if (value === null || value === undefined) return { ok: true, endBlock: { kind: "continuous" } };
  if (typeof value === "string") return parseString(value);
  if (typeof value === "number") return parseNumber(value);
  return reject(`end_block must be null, "latest", "N", "-N" or an integer, not ${Array.isArray(value) ? "an array" : `a ${typeof value}`}`);
}

/** The stored form in a job descriptor (reference §4.1): null or a string. */
export function formatEndBlock(endBlock: EndBlock): string | null {
  switch (endBlock.kind) {
    case "continuous":
      return null;
    case "latest":
      return "latest";
    case "absolute":
      return String(endBlock.block);
    case "latestMinus":
      return `-${endBlock.offset}`;
  }
}

/** Whether resolving this end block needs the chain head. */
export function needsChainHead(endBlock: EndBlock): boolean {
  return endBlock.kind === "latest" || endBlock.kind === "latestMinus";
}

export type ResolvedEndBlock = { readonly kind: "continuous" } | { readonly kind: "block"; readonly block: number };

export type EndBlockErrorCode =
  /** The end resolves below the dataset's start block. */
  | "END_BELOW_START"
  /** `-N` with N above the chain head: there is no such block (§11.22). */
  | "END_BELOW_GENESIS"
  /** `latest` or `-N` resolved without a chain head (a caller bug). */
  | "CHAIN_HEAD_REQUIRED";

export type EndBlockResolution =
  | { readonly ok: true; readonly end: ResolvedEndBlock }
  | { readonly ok: false; readonly code: EndBlockErrorCode; readonly reason: string };

export interface ResolveContext {
  /** The dataset's first block (manifest `start_block`, default 0). */
  readonly start: number;
  /** The chain head (finalized head for `finalized_blocks_only`); needed only when `needsChainHead`. */
  readonly latest?: number;
}

/**
 * Resolves an end block once, when the job starts. Unlike the original, an end
 * below the start is an error for every form, including `latest` on a chain
 * that has not reached the start block yet, and `-N` never wraps around
 * below block 0 (§11.22).
 */
export function resolveEndBlock(endBlock: EndBlock, context: ResolveContext): EndBlockResolution {
  const { start, latest } = context;
  const atBlock = (block: number, described: string): EndBlockResolution =>
    block < start
      ? { ok: false, code: "END_BELOW_START", reason: `end block ${described} is below the start block ${start}` }
      : { ok: true, end: { kind: "block", block } };
  switch (endBlock.kind) {
    case "continuous":
      return { ok: true, end: { kind: "continuous" } };
    case "absolute":
      return atBlock(endBlock.block, String(endBlock.block));
    case "latest":
      if (latest === undefined) return headRequired();
      return atBlock(latest, `"latest" (${latest})`);
    case "latestMinus": {
      if (latest === undefined) return headRequired();
      const block = latest - endBlock.offset;
      if (block < 0) {
        return {
          ok: false,
          code: "END_BELOW_GENESIS",
          reason: `end block "-${endBlock.offset}" is below block 0: the chain head is ${latest}`,
        };
      }
      return atBlock(block, `"-${endBlock.offset}" (${latest} - ${endBlock.offset} = ${block})`);
    }
  }
}

function headRequired(): EndBlockResolution {
  return { ok: false, code: "CHAIN_HEAD_REQUIRED", reason: "the chain head is needed to resolve this end block" };
}
