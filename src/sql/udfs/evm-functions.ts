/**
 * The built-in EVM functions of derived-datasets.md §3 (names, arguments,
 * result types, failure behaviour), with viem doing all ABI parsing,
 * encoding, decoding and hashing. A signature or type argument must be a
 * string literal: its parsed form is cached, and the result type follows
 * from it at plan time (`resultType`), which is what `/schema` reports.
 */
import {
  type AbiEvent,
  type AbiFunction,
  type AbiParameter,
  decodeAbiParameters,
  decodeFunctionData,
  encodeAbiParameters,
  encodeFunctionData,
  parseAbiItem,
  parseAbiParameters,
  toEventSelector,
} from "viem";
import * as AbiParameters from "ox/AbiParameters";
import * as Hex from "ox/Hex";
import type { ExprNode } from "squirreling";
import { SqlInputError } from "../sql-errors";
import type { SqlField, SqlType } from "../sql-types";
import type { EngineValue } from "../sql-values";
import { fromSolidity, type SolidityConverter, solidityArrowType, solidityConverter, toSolidity } from "./solidity-types";

export interface ResultType {
  type: SqlType;
  nullable: boolean;
}

/** A scalar function as the engine calls it and as type inference sees it. */
export interface SqlFunction {
  minArgs: number;
  maxArgs?: number;
  /** The result type for these argument expressions (literals known), and the argument types. */
  resultType(args: readonly ExprNode[], argTypes: readonly ResultType[]): ResultType;
  apply(...args: EngineValue[]): EngineValue | Promise<EngineValue>;
}

function literalString(args: readonly ExprNode[], index: number, what: string): string {
  const node = args[index];
  if (node?.type !== "literal" || typeof node.value !== "string") {
    throw new SqlInputError("INVALID_PLAN", `expected a string literal for the ${what}`);
  }
  return node.value;
}

/** Parsed signatures and types, one map per kind, keyed by the text as written. */
function cached<T>(cache: Map<string, T>, key: string, make: () => T): T {
  let value = cache.get(key);
  if (value === undefined) {
    try {
      value = make();
    } catch (error) {
      if (error instanceof SqlInputError) throw error;
      throw new SqlInputError("INVALID_PLAN", `invalid signature '${key}': ${(error as Error).message.split("\n")[0]}`);
    }
    cache.set(key, value);
  }
  return value;
}

const events = new Map<string, AbiEvent>();
const functionItems = new Map<string, AbiFunction>();
const types = new Map<string, AbiParameter>();

function parseEvent(signature: string): AbiEvent {
  return cached(events, signature, () => {
    const text = signature.trim().startsWith("event ") ? signature : `event ${signature}`;
    const item = parseAbiItem(text) as AbiEvent;
    if (item.type !== "event") throw new SqlInputError("INVALID_PLAN", `'${signature}' is not an event signature`);
    if (item.inputs.filter((input) => input.indexed).length > 3) {
      throw new SqlInputError("INVALID_PLAN", `event '${signature}' has more than 3 indexed parameters`);
    }
    return item;
  });
}

function parseFunction(signature: string): AbiFunction {
  return cached(functionItems, signature, () => {
    const text = signature.trim().startsWith("function ") ? signature : `function ${signature}`;
    const item = parseAbiItem(text) as AbiFunction;
    if (item.type !== "function") throw new SqlInputError("INVALID_PLAN", `'${signature}' is not a function signature`);
    return item;
  });
}

function parseType(type: string): AbiParameter {
  return cached(types, type, () => {
    const params = parseAbiParameters(type);
    if (params.length !== 1) throw new SqlInputError("INVALID_PLAN", `'${type}' is not one Solidity type`);
    return params[0]!;
  });
}

/** Indexed reference types are stored in topics as their keccak256 hash. */
function isHashedInTopic(param: AbiParameter): boolean {
  return param.type === "string" || param.type === "bytes" || param.type === "tuple" || param.type.endsWith("]");
}

function eventFields(event: AbiEvent): SqlField[] {
  const indexed = event.inputs.filter((input) => input.indexed);
  const body = event.inputs.filter((input) => !input.indexed);
  return [...indexed, ...body].map((input, index) => ({
    name: input.name || `c${index}`,
    type: input.indexed && isHashedInTopic(input) ? { FixedSizeBinary: 32 } : solidityArrowType(input),
    nullable: true,
  }));
}

function hex(value: EngineValue): `0x${string}` | null {
  return typeof value === "string" && value.startsWith("0x") ? (value as `0x${string}`) : null;
}

/** An event's decoding worked out once per signature: which topic or body position each field comes from. */
interface EventDecoder {
  indexed: { name: string; param: AbiParameter; hashed: boolean; convert: SolidityConverter }[];
  body: readonly AbiParameter[];
  bodyFields: { name: string; convert: SolidityConverter }[];
  /**
   * The parameters in topic order then body order, when every one of them is a static type decoded from
   * its words (no hashed indexed value, no dynamic body value): then topics and data concatenated are the
   * ABI encoding of them all, and one decode call does what one per topic and one for the body would.
   */
  allStatic: readonly AbiParameter[] | null;
  /**
   * When every parameter is an elementary type of one word (address, uintN, intN, bytesN), the ox function that
   * decodes each from its own 32-byte word as hex, in topic then body order: what ox's AbiParameters.decode gives
   * for it, without turning the topics and data (hex strings inside the engine) into one string and then bytes.
   */
  words: readonly WordDecoder[] | null;
}

/** One parameter's value from its 32-byte ABI word, `0x` and 64 hex digits. */
type WordDecoder = (word: Hex.Hex) => unknown;

/**
 * ox's decoding of an elementary one-word type (ox/core/internal/abiParameters.ts: decodeAddress, decodeNumber,
 * decodeBytes), by ox's Hex functions on the word; null for any other type, which takes the generic path.
 */
function wordDecoder(param: AbiParameter): WordDecoder | null {
  const type = param.type;
  if (type === "address") return (word) => Hex.slice(word, 12);
  const int = /^(u?)int(\d*)$/.exec(type);
  if (int) {
    const signed = int[1] === "";
    const size = int[2] === "" ? 256 : Number(int[2]);
    // ox gives numbers up to 48 bits and bigints above, signed ones two's complement over the whole word
    if (size > 48) return signed ? (word) => Hex.toBigInt(word, { signed: true }) : (word) => Hex.toBigInt(word);
    return signed ? (word) => Hex.toNumber(word, { signed: true }) : (word) => Hex.toNumber(word);
  }
  const bytes = /^bytes(\d+)$/.exec(type);
  if (bytes) {
    const size = Number(bytes[1]);
    return size >= 1 && size <= 32 ? (word) => Hex.slice(word, 0, size) : null;
  }
  return null;
}

/** `0x` and hex digits only: what ox's hex-to-bytes would accept. */
const HEX_DIGITS = /^0x[0-9a-fA-F]*$/;

/** A type whose ABI encoding is its 32-byte words in place, with no offset into a tail. */
function isStatic(param: AbiParameter): boolean {
  if (param.type === "string" || param.type === "bytes" || /\[\]$/.test(param.type)) return false;
  const fixedArray = /^(.*)\[\d+\]$/.exec(param.type);
  if (fixedArray) return isStatic({ ...param, type: fixedArray[1]! } as AbiParameter);
  if (param.type === "tuple") return (param as { components: readonly AbiParameter[] }).components.every(isStatic);
  return true;
}

const eventDecoders = new Map<string, EventDecoder>();

function eventDecoder(signature: string): EventDecoder {
  let decoder = eventDecoders.get(signature);
  if (!decoder) {
    const event = parseEvent(signature);
    const indexed = event.inputs.filter((input) => input.indexed);
    const body = event.inputs.filter((input) => !input.indexed);
    decoder = {
      indexed: indexed.map((param, i) => ({ name: param.name || `c${i}`, param, hashed: isHashedInTopic(param), convert: solidityConverter(param) })),
      body,
      bodyFields: body.map((param, i) => ({ name: param.name || `c${indexed.length + i}`, convert: solidityConverter(param) })),
      allStatic: indexed.some(isHashedInTopic) || !body.every(isStatic) ? null : [...indexed, ...body],
      words: null,
    };
    const words = decoder.allStatic?.map(wordDecoder);
    if (words && words.every((word) => word !== null)) decoder.words = words as WordDecoder[];
    eventDecoders.set(signature, decoder);
  }
  return decoder;
}

/**
 * ABI decoding by ox (viem's own codec underneath) without checksumming
 * addresses: viem's decodeAbiParameters hashes every decoded address with
 * keccak256 for its mixed-case form, which the engine lower-cases again.
 */
function decodeParameters(params: readonly AbiParameter[], data: `0x${string}`): readonly unknown[] {
  return AbiParameters.decode(params, data, { checksumAddress: false }) as readonly unknown[];
}

/**
 * The last call's arguments and result. A subquery's computed struct is
 * evaluated once per row (memo-projection.ts), but squirreling still
 * evaluates a call twice where a query names it twice at one level (in its
 * WHERE and its select list); the function is pure, so the same arguments
 * give the same struct.
 */
let lastDecode: { args: readonly EngineValue[]; result: EngineValue } | null = null;

function decodeLog(topic1: EngineValue, topic2: EngineValue, topic3: EngineValue, data: EngineValue, signature: string): EngineValue {
  const decoder = eventDecoder(signature);
  if (decoder.indexed.length + decoder.body.length === 0) return null;
  const topics = [topic1, topic2, topic3];
  if (decoder.words) {
    const out = decodeWords(decoder, decoder.words, topics, data);
    if (out) return out;
  }
  if (decoder.allStatic) {
    const words = decoder.indexed.map((_, i) => hex(topics[i] ?? null));
    const bytes = hex(data);
    if (bytes !== null && words.every((word) => word !== null && word.length === 66)) {
      let decoded: readonly unknown[] | null = null;
      try {
        decoded = decodeParameters(decoder.allStatic, `0x${words.map((word) => word!.slice(2)).join("")}${bytes.slice(2)}`);
      } catch {
        // a topic or the body that does not decode: the call per part below says which
      }
      if (decoded) {
        const out: Record<string, EngineValue> = {};
        decoder.indexed.forEach(({ name, convert }, i) => (out[name] = convert(decoded[i])));
        decoder.bodyFields.forEach(({ name, convert }, i) => (out[name] = convert(decoded[decoder.indexed.length + i])));
        return out;
      }
    }
  }
  const out: Record<string, EngineValue> = {};
  decoder.indexed.forEach(({ name, param, hashed, convert }, i) => {
    const topic = hex(topics[i] ?? null);
    if (topic === null) out[name] = null;
    else if (hashed) out[name] = topic;
    else {
      try {
        out[name] = convert(decodeParameters([param], topic)[0]);
      } catch {
        throw new SqlInputError("QUERY_ERROR", `failed to decode topic${i + 1}`);
      }
    }
  });
  let decoded: readonly unknown[] | null = null;
  const bytes = hex(data);
  if (bytes !== null && decoder.body.length > 0) {
    try {
      decoded = decodeParameters(decoder.body, bytes);
    } catch {
      decoded = null;
    }
  }
  decoder.bodyFields.forEach(({ name, convert }, i) => {
    out[name] = decoded ? convert(decoded[i]) : null;
  });
  return out;
}

/**
 * The fields of a log whose parameters all decode from their own word, or null when a topic or the body is not
 * whole valid words (missing, short, not hex): the generic path then decides, with its NULLs and errors.
 */
function decodeWords(decoder: EventDecoder, words: readonly WordDecoder[], topics: readonly EngineValue[], data: EngineValue): Record<string, EngineValue> | null {
  const indexed = decoder.indexed.length;
  const body = hex(data);
  if (body === null || body.length < 2 + 64 * (words.length - indexed) || !HEX_DIGITS.test(body)) return null;
  const out: Record<string, EngineValue> = {};
  for (let i = 0; i < indexed; i++) {
    const topic = hex(topics[i] ?? null);
    if (topic === null || topic.length !== 66 || !HEX_DIGITS.test(topic)) return null;
    const field = decoder.indexed[i]!;
    out[field.name] = field.convert(words[i]!(topic));
  }
  for (let i = 0; i < decoder.bodyFields.length; i++) {
    const field = decoder.bodyFields[i]!;
    out[field.name] = field.convert(words[indexed + i]!(Hex.slice(body, 32 * i, 32 * (i + 1))));
  }
  return out;
}

const evmDecodeLog: SqlFunction = {
  minArgs: 5,
  maxArgs: 5,
  resultType(args) {
    const fields = eventFields(parseEvent(literalString(args, 4, "signature")));
    return fields.length === 0 ? { type: "Null", nullable: true } : { type: { Struct: fields }, nullable: false };
  },
  apply(...args) {
    const last = lastDecode;
    if (last && last.args.length === args.length && last.args.every((value, i) => value === args[i])) return last.result;
    const [topic1 = null, topic2 = null, topic3 = null, data = null, signature = null] = args;
    const result = decodeLog(topic1, topic2, topic3, data, String(signature));
    lastDecode = { args, result };
    return result;
  },
};

/** topic0 by signature: a keccak256 is worth keeping when a query computes it per row. */
const topics = new Map<string, string>();

const evmTopic: SqlFunction = {
  minArgs: 1,
  maxArgs: 1,
  resultType(args) {
    const event = parseEvent(literalString(args, 0, "signature"));
    if (event.anonymous) throw new SqlInputError("INVALID_PLAN", "an anonymous event has no topic0");
    return { type: { FixedSizeBinary: 32 }, nullable: false };
  },
  apply(signature) {
    const text = String(signature);
    let topic = topics.get(text);
    if (topic === undefined) {
      topic = toEventSelector(parseEvent(text)).toLowerCase();
      topics.set(text, topic);
    }
    return topic;
  },
};

function functionInputs(fn: AbiFunction): SqlField[] {
  return fn.inputs.map((input, index) => {
    if (!input.name) throw new SqlInputError("INVALID_PLAN", `function ${fn.name} has unnamed input parameter ${index}`);
    return { name: input.name, type: solidityArrowType(input), nullable: true };
  });
}

const evmDecodeParams: SqlFunction = {
  minArgs: 2,
  maxArgs: 2,
  resultType(args) {
    return { type: { Struct: functionInputs(parseFunction(literalString(args, 1, "signature"))) }, nullable: true };
  },
  apply(input, signature) {
    const fn = parseFunction(String(signature));
    const data = hex(input);
    if (data === null || data.length < 10) return null;
    try {
      const { args } = decodeFunctionData({ abi: [fn], data });
      const out: Record<string, EngineValue> = {};
      fn.inputs.forEach((param, i) => {
        out[param.name ?? `c${i}`] = fromSolidity(param, (args ?? [])[i]);
      });
      return out;
    } catch {
      return null;
    }
  },
};

const evmEncodeParams: SqlFunction = {
  minArgs: 1,
  resultType(args) {
    const fn = parseFunction(literalString(args, args.length - 1, "signature"));
    if (fn.inputs.length !== args.length - 1) {
      throw new SqlInputError("INVALID_PLAN", `${fn.name} takes ${fn.inputs.length} arguments, got ${args.length - 1}`);
    }
    return { type: "Binary", nullable: false };
  },
  apply(...args) {
    const fn = parseFunction(String(args[args.length - 1]));
    const values = fn.inputs.map((param, i) => toSolidity(param, args[i] ?? null));
    return encodeFunctionData({ abi: [fn], functionName: fn.name, args: values }).toLowerCase();
  },
};

const evmEncodeType: SqlFunction = {
  minArgs: 2,
  maxArgs: 2,
  resultType(args) {
    parseType(literalString(args, 1, "Solidity type"));
    return { type: "Binary", nullable: false };
  },
  apply(value, type) {
    const param = parseType(String(type));
    try {
      return encodeAbiParameters([param], [toSolidity(param, value)]).toLowerCase();
    } catch (error) {
      if (error instanceof SqlInputError) throw error;
      throw new SqlInputError("QUERY_ERROR", `cannot encode ${String(value)} as ${param.type}: ${(error as Error).message.split("\n")[0]}`);
    }
  },
};

const evmDecodeType: SqlFunction = {
  minArgs: 2,
  maxArgs: 2,
  resultType(args) {
    return { type: solidityArrowType(parseType(literalString(args, 1, "Solidity type"))), nullable: true };
  },
  apply(data, type) {
    const param = parseType(String(type));
    const bytes = hex(data);
    if (bytes === null) return null;
    try {
      return fromSolidity(param, decodeAbiParameters([param], bytes)[0]);
    } catch {
      return null;
    }
  },
};

const evmEncodeHex: SqlFunction = {
  minArgs: 1,
  maxArgs: 1,
  resultType(args) {
    const text = literalString(args, 0, "hex string");
    const bytes = encodeHexLiteral(text);
    return { type: { FixedSizeBinary: (bytes.length - 2) / 2 }, nullable: false };
  },
  apply(text) {
    return encodeHexLiteral(String(text));
  },
};

function encodeHexLiteral(text: string): string {
  const digits = text.startsWith("0x") || text.startsWith("0X") ? text.slice(2) : text;
  if (!/^[0-9a-fA-F]*$/.test(digits)) throw new SqlInputError("INVALID_PLAN", `invalid hex string: ${text}`);
  if (digits.length % 2 !== 0) throw new SqlInputError("INVALID_PLAN", "invalid hex string: odd number of digits");
  if (digits.length !== 40 && digits.length !== 64) throw new SqlInputError("INVALID_PLAN", `expected 20 or 32 bytes, got ${digits.length / 2}`);
  return `0x${digits.toLowerCase()}`;
}

const evmDecodeHex: SqlFunction = {
  minArgs: 1,
  maxArgs: 1,
  resultType(args, argTypes) {
    if (args[0]?.type === "literal") throw new SqlInputError("INVALID_PLAN", "evm_decode_hex takes a column, not a literal");
    const type = argTypes[0]?.type;
    const size = typeof type === "object" && "FixedSizeBinary" in type ? type.FixedSizeBinary : null;
    if (size !== 20 && size !== 32) throw new SqlInputError("INVALID_PLAN", "evm_decode_hex takes a FixedSizeBinary(20) or FixedSizeBinary(32) column");
    return { type: "Utf8", nullable: argTypes[0]?.nullable ?? true };
  },
  apply(value) {
    return typeof value === "string" ? value.toLowerCase() : null;
  },
};

/** `value * 10^units` as a normalized decimal string, exactly. */
export function shiftUnits(value: string, units: number): string {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(value.trim());
  if (!match || (match[2] === "" && (match[3] ?? "") === "")) throw new SqlInputError("QUERY_ERROR", `shift_units: '${value}' is not a number`);
  const [, sign = "", whole = "", fraction = "", exponent = "0"] = match;
  let digits = (whole + fraction).replace(/^0+/, "");
  let scale = fraction.length - units - Number(exponent);
  if (digits === "") return "0";
  if (scale < 0) {
    digits += "0".repeat(-scale);
    scale = 0;
  }
  let out = digits;
  if (scale > 0) {
    const padded = digits.padStart(scale + 1, "0");
    const intPart = padded.slice(0, padded.length - scale);
    const fracPart = padded.slice(padded.length - scale).replace(/0+$/, "");
    out = fracPart === "" ? intPart : `${intPart}.${fracPart}`;
  }
  return sign === "-" ? `-${out}` : out;
}

const shiftUnitsFunction: SqlFunction = {
  minArgs: 2,
  maxArgs: 2,
  resultType(args) {
    if (args[0]?.type === "literal" && args[0].value === null) throw new SqlInputError("INVALID_PLAN", "shift_units: a NULL literal value");
    if (args[1]?.type === "literal" && args[1].value === null) throw new SqlInputError("INVALID_PLAN", "shift_units: NULL units");
    return { type: "Utf8", nullable: true };
  },
  apply(value, units) {
    if (value === null || value === undefined) return null;
    // A NULL units row counts as 1, as the original does.
    const n = units === null || units === undefined ? 1 : Number(units);
    if (!Number.isInteger(n) || Math.abs(n) > 32) throw new SqlInputError("QUERY_ERROR", `shift_units: units must be an integer within ±32, got ${String(units)}`);
    return shiftUnits(typeof value === "number" ? String(value) : String(value), n);
  },
};

/** The built-in functions by lower-case name, `evm_decode` being the original's deprecated alias. */
export const EVM_FUNCTIONS: Readonly<Record<string, SqlFunction>> = {
  evm_decode_log: evmDecodeLog,
  evm_decode: evmDecodeLog,
  evm_topic: evmTopic,
  evm_decode_params: evmDecodeParams,
  evm_encode_params: evmEncodeParams,
  evm_encode_type: evmEncodeType,
  evm_decode_type: evmDecodeType,
  evm_encode_hex: evmEncodeHex,
  evm_decode_hex: evmDecodeHex,
  shift_units: shiftUnitsFunction,
};
