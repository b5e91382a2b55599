/**
 * Solidity ABI types as result types and values (derived-datasets.md §3.2):
 * the Arrow type a decoded value gets, the conversion of viem's decoded
 * values into engine values, and back for encoding. uint256/int256 become
 * decimal strings so they keep every digit; 72..248-bit integers are
 * decimals (bigint), up to 64 bits plain integers.
 */
import type { AbiParameter } from "viem";
import { SqlInputError } from "../sql-errors";
import type { SqlField, SqlType } from "../sql-types";
import type { EngineValue } from "../sql-values";

function intBits(type: string): number | null {
  const match = /^u?int(\d*)$/.exec(type);
  if (!match) return null;
  return match[1] === "" ? 256 : Number(match[1]);
}

function tupleFields(components: readonly AbiParameter[], named: boolean): SqlField[] {
  return components.map((component, index) => ({
    name: named && component.name ? component.name : `c${index}`,
    type: solidityArrowType(component),
    nullable: true,
  }));
}

export function solidityArrowType(param: AbiParameter): SqlType {
  const type = param.type;
  const array = /^(.*)\[(\d*)\]$/.exec(type);
  if (array) {
    const item: SqlField = { name: "item", type: solidityArrowType({ ...param, type: array[1]! } as AbiParameter), nullable: true };
    return array[2] === "" ? { List: item } : { FixedSizeList: [item, Number(array[2])] };
  }
  if (type === "tuple") return { Struct: tupleFields((param as { components: readonly AbiParameter[] }).components, false) };
  if (type === "bool") return "Boolean";
  if (type === "address") return { FixedSizeBinary: 20 };
  if (type === "string") return "Utf8";
  if (type === "bytes") return "Binary";
  const bytes = /^bytes(\d+)$/.exec(type);
  if (bytes) return { FixedSizeBinary: Number(bytes[1]) };
  const bits = intBits(type);
  if (bits !== null) {
    const unsigned = type.startsWith("u");
    if (bits <= 8) return unsigned ? "UInt8" : "Int8";
    if (bits <= 16) return unsigned ? "UInt16" : "Int16";
    if (bits <= 32) return unsigned ? "UInt32" : "Int32";
    if (bits <= 64) return unsigned ? "UInt64" : "Int64";
    if (bits <= 120) return { Decimal128: [38, 0] };
    if (bits <= 248) return { Decimal256: [76, 0] };
    return "Utf8";
  }
  throw new SqlInputError("INVALID_PLAN", `unsupported Solidity type ${type}`);
}

/** Turns a value the ABI library decoded for one parameter into the engine's form. */
export type SolidityConverter = (value: unknown) => EngineValue;

/** The type's shape is worked out once per parameter, not per value: a decoded column calls this per row. */
function makeConverter(param: AbiParameter, named: boolean): SolidityConverter {
  const type = param.type;
  const array = /^(.*)\[(\d*)\]$/.exec(type);
  if (array) {
    const item = solidityConverter({ ...param, type: array[1]! } as AbiParameter);
    return (value) => (value as unknown[]).map(item);
  }
  if (type === "tuple") {
    const components = (param as { components: readonly AbiParameter[] }).components.map((component, index) => ({
      key: named && component.name ? component.name : `c${index}`,
      index,
      name: component.name,
      convert: solidityConverter(component),
    }));
    return (value) => {
      const out: Record<string, EngineValue> = {};
      for (const { key, index, name, convert } of components) {
        out[key] = convert(Array.isArray(value) ? value[index] : (value as Record<string, unknown>)[name ?? index]);
      }
      return out;
    };
  }
  if (type === "address" || /^bytes\d*$/.test(type)) return (value) => (value as string).toLowerCase();
  const bits = intBits(type);
  if (bits !== null) {
    if (bits <= 32) return (value) => Number(value);
    if (bits <= 248) return (value) => BigInt(value as bigint);
    return (value) => (value as bigint).toString();
  }
  return (value) => value as EngineValue;
}

const converters = [new WeakMap<AbiParameter, SolidityConverter>(), new WeakMap<AbiParameter, SolidityConverter>()] as const;

/** The converter of a parameter (tuple fields by name when `named`), made once per parsed parameter. */
export function solidityConverter(param: AbiParameter, named = false): SolidityConverter {
  const cache = converters[named ? 1 : 0];
  let convert = cache.get(param);
  if (!convert) {
    convert = makeConverter(param, named);
    cache.set(param, convert);
  }
  return convert;
}

/** A value viem decoded for `param`, as the engine carries it. */
export function fromSolidity(param: AbiParameter, value: unknown, named = false): EngineValue {
  return solidityConverter(param, named)(value);
}

/** An engine value as viem encodes it for `param` (range checks are viem's). */
export function toSolidity(param: AbiParameter, value: EngineValue): unknown {
  const type = param.type;
  if (value === null || value === undefined) throw new SqlInputError("QUERY_ERROR", `cannot encode NULL as ${type}`);
  const array = /^(.*)\[(\d*)\]$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) throw new SqlInputError("QUERY_ERROR", `expected a list for ${type}`);
    const item = { ...param, type: array[1]! } as AbiParameter;
    return value.map((v) => toSolidity(item, v));
  }
  if (type === "tuple") {
    const components = (param as { components: readonly AbiParameter[] }).components;
    const fields = Array.isArray(value) ? value : Object.values(value as Record<string, EngineValue>);
    if (fields.length !== components.length) throw new SqlInputError("QUERY_ERROR", `expected ${components.length} fields for a tuple`);
    return components.map((component, index) => toSolidity(component, fields[index] as EngineValue));
  }
  if (intBits(type) !== null) {
    if (typeof value === "bigint") return value;
    if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
    if (typeof value === "string" && /^-?\d+$/.test(value)) return BigInt(value);
    throw new SqlInputError("QUERY_ERROR", `expected an integer for ${type}, got ${String(value)}`);
  }
  if (type === "bool") return Boolean(value);
  if (type === "string") return String(value);
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]*$/.test(value)) throw new SqlInputError("QUERY_ERROR", `expected binary for ${type}`);
  return value;
}
