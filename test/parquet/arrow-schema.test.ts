import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ArrowField } from "../../src/domain/arrow";
import { EVM_RPC_TABLE_NAMES, fileFields } from "../../src/domain/dataset-kinds/evm-rpc";
import {
  ArrowSchemaError,
  type ArrowFieldSpec,
  type ArrowTypeSpec,
  decodeArrowSchema,
  encodeArrowSchema,
  readParquetFooter,
} from "../../src/parquet";
import { REFERENCE_PARQUET_DIR, referenceFileFields } from "../support/reference-parquet";

/** The original's files for block 15,000,000 (../shared beside the checkout; absent in a user's clone). */

describe("ARROW:schema encoding", () => {
  it.each(EVM_RPC_TABLE_NAMES)("round-trips the %s fields", (table) => {
    // The annotations make `npm run typecheck` prove that domain and parquet
    // fields stay assignable both ways, so fileFields() goes to the writer as is.
    const domainFields: ArrowFieldSpec[] = fileFields(table);
    const decoded: ArrowField[] = decodeArrowSchema(encodeArrowSchema(domainFields));
    expect(decoded).toEqual(fileFields(table));
  });

  it("frames the message as parquet-rs does: continuation marker, length, then the flatbuffer", () => {
    const bytes = Buffer.from(encodeArrowSchema(fileFields("logs")), "base64");
    expect(bytes.readUInt32LE(0)).toBe(0xffffffff);
    expect(bytes.readUInt32LE(4)).toBe(bytes.length - 8);
    expect(bytes.readUInt32LE(8)).toBeLessThan(bytes.length - 8); // root table offset inside the message
  });

  it("round-trips every Arrow type it can spell, with and without nulls", () => {
    const types: ArrowTypeSpec[] = [
      "Null", "Boolean", "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64",
      "Float16", "Float32", "Float64", "Date32", "Date64", "Binary", "LargeBinary", "BinaryView",
      "Utf8", "LargeUtf8", "Utf8View",
      { FixedSizeBinary: 20 }, { Decimal128: [38, 0] }, { Decimal128: [20, 4] }, { Decimal256: [76, 10] },
      { Timestamp: ["Nanosecond", "+00:00"] }, { Timestamp: ["Second", null] }, { Timestamp: ["Microsecond", "Europe/Berlin"] },
      { Time32: "Millisecond" }, { Time64: "Nanosecond" }, { Duration: "Second" },
    ];
    const fields = types.map((type, i) => ({ name: `c${i}_ünïcode`, type, nullable: i % 2 === 0 }));
    expect(decodeArrowSchema(encodeArrowSchema(fields))).toEqual(fields);
  });

  it("encodes an empty schema", () => {
    expect(decodeArrowSchema(encodeArrowSchema([]))).toEqual([]);
  });

  it("rejects what is not an Arrow schema message", () => {
    expect(() => decodeArrowSchema("not base64!")).toThrow(ArrowSchemaError);
    expect(() => decodeArrowSchema(Buffer.from([1, 2, 3]).toString("base64"))).toThrow(ArrowSchemaError);
    const framed = Buffer.from(encodeArrowSchema(fileFields("logs")), "base64");
    framed.writeUInt32LE(framed.length, 4); // longer than the bytes that follow
    expect(() => decodeArrowSchema(framed.toString("base64"))).toThrow(ArrowSchemaError);
  });
});

describe.skipIf(!existsSync(REFERENCE_PARQUET_DIR))("the reference files' ARROW:schema", () => {
  it.each(EVM_RPC_TABLE_NAMES)("decodes to the %s fields (names, types, nullability)", async (table) => {
    const footer = await readParquetFooter(readFileSync(path.join(REFERENCE_PARQUET_DIR, `${table}.parquet`)));
    expect(footer.arrowFields).toEqual(referenceFileFields(table));
  });

  it("decodes what our encoder produces for the same table to the same fields as the reference", async () => {
    const footer = await readParquetFooter(readFileSync(path.join(REFERENCE_PARQUET_DIR, "blocks.parquet")));
    const reference = footer.arrowFields ?? [];
    expect(decodeArrowSchema(encodeArrowSchema(reference))).toEqual(reference);
    expect(reference).toEqual(referenceFileFields("blocks"));
  });
});
