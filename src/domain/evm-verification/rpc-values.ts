/**
 * The values of a JSON-RPC block, transaction or receipt as the bytes their
 * RLP encodings hold. Each reader names the field it failed on, so a
 * malformed answer is reported as that field rather than as a hash mismatch.
 */
import { HexError, hexToBytes, hexToFixedBytes, quantityToMinimalBytes } from "../hex";

export type RpcObject = Readonly<Record<string, unknown>>;

/** A field a verification needs is missing or not the hex it must be. */
export class UnreadableFieldError extends Error {
  override readonly name = "UnreadableFieldError";

  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

export function isAbsent(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

function read<T>(source: RpcObject, key: string, where: string, decode: (value: unknown) => T): T {
  const value = source[key];
  if (isAbsent(value)) throw new UnreadableFieldError(`${where}${key}`, "missing");
  try {
    return decode(value);
  } catch (error) {
    if (error instanceof HexError) throw new UnreadableFieldError(`${where}${key}`, error.message);
    throw error;
  }
}

/** An integer field as RLP holds it: shortest big-endian bytes, zero as none. */
export function quantity(source: RpcObject, key: string, where = ""): Uint8Array {
  return read(source, key, where, (value) => quantityToMinimalBytes(value));
}

/** A byte string of any length (extra data, input). */
export function data(source: RpcObject, key: string, where = ""): Uint8Array {
  return read(source, key, where, (value) => hexToBytes(value));
}

/** Exactly `size` bytes (a hash, an address, a bloom, the header nonce). */
export function fixed(source: RpcObject, key: string, size: number, where = ""): Uint8Array {
  return read(source, key, where, (value) => hexToFixedBytes(value, size));
}

/** A recipient: 20 bytes, or no bytes for a contract creation (null or absent `to`). */
export function recipient(source: RpcObject, where = ""): Uint8Array {
  return isAbsent(source.to) ? new Uint8Array(0) : fixed(source, "to", 20, where);
}

export function array(source: RpcObject, key: string, where = ""): readonly unknown[] {
  const value = source[key];
  if (!Array.isArray(value)) throw new UnreadableFieldError(`${where}${key}`, "not an array");
  return value;
}

export function object(value: unknown, field: string): RpcObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new UnreadableFieldError(field, "not an object");
  return value as RpcObject;
}

/** A small integer field (a transaction type): its value as a number. */
export function smallInteger(source: RpcObject, key: string, where = ""): number {
  const bytes = quantity(source, key, where);
  if (bytes.length > 4) throw new UnreadableFieldError(`${where}${key}`, `too large: ${String(source[key])}`);
  return bytes.reduce((value, byte) => value * 256 + byte, 0);
}
