/**
 * The little of FlatBuffers that the Arrow IPC schema message needs: a
 * back-to-front builder (the layout every FlatBuffers implementation writes,
 * so offsets to children always point forward) and a table reader.
 */

const INITIAL_CAPACITY = 1024;

export class FlatBufferBuilder {
  private bytes = new Uint8Array(INITIAL_CAPACITY);
  /** Index of the first written byte; the buffer fills from the end. */
  private head = INITIAL_CAPACITY;
  private minAlign = 1;
  private vtable: number[] = [];
  private tableStart = 0;
  private vectorCount = 0;
  /** Offsets of the vtables written so far, so equal ones are shared. */
  private readonly vtables: number[] = [];
  private readonly encoder = new TextEncoder();

  /** Bytes written so far; offsets to objects are counted from the end. */
  offset(): number {
    return this.bytes.length - this.head;
  }

  private grow(needed: number): void {
    let capacity = this.bytes.length;
    while (capacity - this.offset() < needed) capacity *= 2;
    if (capacity === this.bytes.length) return;
    const grown = new Uint8Array(capacity);
    grown.set(this.bytes.subarray(this.head), capacity - this.offset());
    this.head = capacity - this.offset();
    this.bytes = grown;
  }

  /** Pads so that after `additional` more bytes the position is aligned to `size`. */
  private prep(size: number, additional: number): void {
    if (size > this.minAlign) this.minAlign = size;
    const padding = (-(this.offset() + additional)) & (size - 1);
    this.grow(padding + size + additional);
    for (let i = 0; i < padding; i++) this.bytes[--this.head] = 0;
  }

  private putInt8(value: number): void {
    this.bytes[--this.head] = value & 0xff;
  }

  private putInt16(value: number): void {
    this.head -= 2;
    new DataView(this.bytes.buffer).setInt16(this.head, value, true);
  }

  private putInt32(value: number): void {
    this.head -= 4;
    new DataView(this.bytes.buffer).setInt32(this.head, value, true);
  }

  /** Writes a uoffset pointing at an object written earlier (`target` counted from the end). */
  private putOffset(target: number): void {
    this.prep(4, 0);
    this.putInt32(this.offset() - target + 4);
  }

  createString(text: string): number {
    const utf8 = this.encoder.encode(text);
    this.prep(4, utf8.length + 1);
    this.putInt8(0);
    this.head -= utf8.length;
    this.bytes.set(utf8, this.head);
    this.putInt32(utf8.length);
    return this.offset();
  }

  /** A vector of offsets to tables or strings, in the given order. */
  createOffsetVector(targets: readonly number[]): number {
    this.prep(4, 4 * targets.length);
    for (let i = targets.length - 1; i >= 0; i--) this.putOffset(targets[i] as number);
    this.putInt32(targets.length);
    return this.offset();
  }

  startTable(fieldCount: number): void {
    this.vtable = new Array<number>(fieldCount).fill(0);
    this.tableStart = this.offset();
    this.vectorCount = fieldCount;
  }

  addInt8(field: number, value: number): void {
    this.prep(1, 0);
    this.putInt8(value);
    this.vtable[field] = this.offset();
  }

  addBool(field: number, value: boolean): void {
    this.addInt8(field, value ? 1 : 0);
  }

  addInt16(field: number, value: number): void {
    this.prep(2, 0);
    this.putInt16(value);
    this.vtable[field] = this.offset();
  }

  addInt32(field: number, value: number): void {
    this.prep(4, 0);
    this.putInt32(value);
    this.vtable[field] = this.offset();
  }

  addOffset(field: number, target: number): void {
    this.putOffset(target);
    this.vtable[field] = this.offset();
  }

  /** Writes the table's soffset and its vtable, reusing an equal vtable written before. */
  endTable(): number {
    this.prep(4, 0);
    this.putInt32(0); // placeholder for the soffset to the vtable
    const tableOffset = this.offset();
    let used = this.vectorCount;
    while (used > 0 && this.vtable[used - 1] === 0) used--;
    const entries = [(used + 2) * 2, tableOffset - this.tableStart];
    for (let i = 0; i < used; i++) {
      const fieldOffset = this.vtable[i] as number;
      entries.push(fieldOffset === 0 ? 0 : tableOffset - fieldOffset);
    }

    const view = new DataView(this.bytes.buffer);
    const shared = this.vtables.find((offset) => {
      const position = this.bytes.length - offset;
      return entries.every((entry, i) => view.getUint16(position + 2 * i, true) === entry);
    });
    let vtableOffset: number;
    if (shared === undefined) {
      this.grow(entries.length * 2);
      for (let i = entries.length - 1; i >= 0; i--) this.putInt16(entries[i] as number);
      vtableOffset = this.offset();
      this.vtables.push(vtableOffset);
    } else {
      vtableOffset = shared;
    }
    // soffset = table position - vtable position (negative when the vtable comes after the table)
    new DataView(this.bytes.buffer).setInt32(this.bytes.length - tableOffset, vtableOffset - tableOffset, true);
    return tableOffset;
  }

  finish(root: number): Uint8Array {
    this.prep(this.minAlign, 4);
    this.putOffset(root);
    return this.bytes.slice(this.head);
  }
}

/** A read-only view of one FlatBuffers table. */
export class FlatBufferTable {
  constructor(
    private readonly view: DataView,
    readonly position: number,
  ) {}

  static root(bytes: Uint8Array): FlatBufferTable {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return new FlatBufferTable(view, view.getUint32(0, true));
  }

  /** Position of a field's value, or 0 when the field is absent. */
  private fieldPosition(field: number): number {
    const vtable = this.position - this.view.getInt32(this.position, true);
    const vtableSize = this.view.getUint16(vtable, true);
    const slot = 4 + 2 * field;
    if (slot >= vtableSize) return 0;
    const relative = this.view.getUint16(vtable + slot, true);
    return relative === 0 ? 0 : this.position + relative;
  }

  uint8(field: number, fallback: number): number {
    const at = this.fieldPosition(field);
    return at === 0 ? fallback : this.view.getUint8(at);
  }

  bool(field: number, fallback: boolean): boolean {
    const at = this.fieldPosition(field);
    return at === 0 ? fallback : this.view.getUint8(at) !== 0;
  }

  int16(field: number, fallback: number): number {
    const at = this.fieldPosition(field);
    return at === 0 ? fallback : this.view.getInt16(at, true);
  }

  int32(field: number, fallback: number): number {
    const at = this.fieldPosition(field);
    return at === 0 ? fallback : this.view.getInt32(at, true);
  }

  private follow(at: number): number {
    return at + this.view.getUint32(at, true);
  }

  string(field: number): string | null {
    const at = this.fieldPosition(field);
    if (at === 0) return null;
    const start = this.follow(at);
    const length = this.view.getUint32(start, true);
    const bytes = new Uint8Array(this.view.buffer, this.view.byteOffset + start + 4, length);
    return new TextDecoder().decode(bytes);
  }

  table(field: number): FlatBufferTable | null {
    const at = this.fieldPosition(field);
    return at === 0 ? null : new FlatBufferTable(this.view, this.follow(at));
  }

  tableVector(field: number): FlatBufferTable[] {
    const at = this.fieldPosition(field);
    if (at === 0) return [];
    const start = this.follow(at);
    const length = this.view.getUint32(start, true);
    const tables: FlatBufferTable[] = [];
    for (let i = 0; i < length; i++) {
      tables.push(new FlatBufferTable(this.view, this.follow(start + 4 + 4 * i)));
    }
    return tables;
  }
}
