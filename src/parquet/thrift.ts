/**
 * A Thrift compact-protocol writer with explicitly typed fields.
 *
 * hyparquet-writer 0.17.0 serializes the footer from plain objects and infers
 * each field's Thrift type from the JS value, so the INTEGER logical type's
 * `bitWidth` (Thrift i8) goes out as an i32 and strict readers such as DuckDB
 * reject the file ("TProtocolException: Invalid data"). This writer makes the
 * caller name the type of every field, so that class of bug cannot happen.
 */

const CompactType = {
  Stop: 0,
  BooleanTrue: 1,
  BooleanFalse: 2,
  Byte: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  Binary: 8,
  List: 9,
  Struct: 12,
} as const;
type CompactType = (typeof CompactType)[keyof typeof CompactType];

export type ListElementType = "i32" | "binary" | "struct";

const LIST_ELEMENT_TYPES: Record<ListElementType, CompactType> = {
  i32: CompactType.I32,
  binary: CompactType.Binary,
  struct: CompactType.Struct,
};

const encoder = new TextEncoder();

export class CompactWriter {
  private bytes = new Uint8Array(256);
  private length = 0;
  private lastFieldId = 0;
  private readonly fieldIdStack: number[] = [];

  private ensure(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    let capacity = this.bytes.length * 2;
    while (capacity < this.length + extra) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  private byte(value: number): void {
    this.ensure(1);
    this.bytes[this.length++] = value & 0xff;
  }

  /** Unsigned varint of a non-negative safe integer. */
  private varint(value: number): void {
    while (value >= 0x80) {
      this.byte((value % 0x80) | 0x80);
      value = Math.floor(value / 0x80);
    }
    this.byte(value);
  }

  private zigzag(value: number): void {
    if (!Number.isSafeInteger(value)) throw new RangeError(`thrift integer out of range: ${value}`);
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  private fieldHeader(id: number, type: CompactType): void {
    const delta = id - this.lastFieldId;
    if (delta > 0 && delta <= 15) {
      this.byte((delta << 4) | type);
    } else {
      this.byte(type);
      this.zigzag(id);
    }
    this.lastFieldId = id;
  }

  /** Appends bytes that are already a serialized value (e.g. a struct written earlier). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  i8(id: number, value: number): void {
    this.fieldHeader(id, CompactType.Byte);
    this.byte(value);
  }

  i16(id: number, value: number): void {
    this.fieldHeader(id, CompactType.I16);
    this.zigzag(value);
  }

  i32(id: number, value: number): void {
    this.fieldHeader(id, CompactType.I32);
    this.zigzag(value);
  }

  i64(id: number, value: number): void {
    this.fieldHeader(id, CompactType.I64);
    this.zigzag(value);
  }

  bool(id: number, value: boolean): void {
    this.fieldHeader(id, value ? CompactType.BooleanTrue : CompactType.BooleanFalse);
  }

  binary(id: number, value: Uint8Array | string): void {
    this.fieldHeader(id, CompactType.Binary);
    this.binaryValue(value);
  }

  binaryValue(value: Uint8Array | string): void {
    const bytes = typeof value === "string" ? encoder.encode(value) : value;
    this.varint(bytes.length);
    this.raw(bytes);
  }

  i32Value(value: number): void {
    this.zigzag(value);
  }

  /** Starts a struct-typed field; close it with `structEnd`. */
  structField(id: number): void {
    this.fieldHeader(id, CompactType.Struct);
    this.structBegin();
  }

  /** Starts a struct value (a list element or the top-level struct). */
  structBegin(): void {
    this.fieldIdStack.push(this.lastFieldId);
    this.lastFieldId = 0;
  }

  structEnd(): void {
    this.byte(CompactType.Stop);
    this.lastFieldId = this.fieldIdStack.pop() ?? 0;
  }

  /** Starts a list field of `size` elements; the caller then writes exactly that many values. */
  listField(id: number, elementType: ListElementType, size: number): void {
    this.fieldHeader(id, CompactType.List);
    const type = LIST_ELEMENT_TYPES[elementType];
    if (size < 15) {
      this.byte((size << 4) | type);
    } else {
      this.byte(0xf0 | type);
      this.varint(size);
    }
  }

  finish(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}
