import type { CompressionCodec, Encoding } from "hyparquet";
import { ByteWriter } from "hyparquet-writer/src/bytewriter.js";
import { writeRleBitPackedHybrid } from "hyparquet-writer/src/encoding.js";
import type { ParquetColumn } from "./columns";
import { buildDictionary, type Dictionary } from "./dictionary";
import type { PlainColumn } from "./encode-column";
import type { ColumnChunkMeta } from "./footer";
import type { Scratch } from "./scratch";
import { snappyCompress } from "./snappy";
import { CompactWriter } from "./thrift";

/**
 * Writes one column chunk: an optional dictionary page, then DataPageV2
 * pages of at most `pageSize` value bytes. In V2 pages the definition levels
 * stay uncompressed in front of the (compressed) values, so a reader can
 * count nulls without decompressing.
 */

const PAGE_TYPE_DATA_V2 = 3;
const PAGE_TYPE_DICTIONARY = 2;
const ENCODING_PLAIN = 0;
const ENCODING_RLE_DICTIONARY = 8;

export interface ChunkOptions {
  codec: CompressionCodec;
  pageSize: number;
}

interface PageRange {
  rowStart: number;
  rowEnd: number;
  valueStart: number;
  valueEnd: number;
}

/** Pages at least this large are first probed with their first 64 KiB. */
const PROBE_THRESHOLD = 256 * 1024;
const PROBE_BYTES = 64 * 1024;
/** Compressing to more than this fraction is not worth the reader's time. */
const WORTHWHILE_RATIO = 0.9;

function compress(bytes: Uint8Array, codec: CompressionCodec): Uint8Array {
  return codec === "SNAPPY" ? snappyCompress(bytes) : bytes;
}

/**
 * The compressed values of a data page, or null to store them as they are.
 * DataPageV2 has a per-page `is_compressed` flag, so pages of random data
 * (hashes, signatures) skip snappy, which on them costs much and saves
 * nothing: a probe of the first 64 KiB decides for large pages.
 */
function compressValues(values: Uint8Array, codec: CompressionCodec): Uint8Array | null {
  if (codec === "UNCOMPRESSED") return null;
  if (values.length >= PROBE_THRESHOLD && compress(values.subarray(0, PROBE_BYTES), codec).length > WORTHWHILE_RATIO * PROBE_BYTES) {
    return null;
  }
  const compressed = compress(values, codec);
  return compressed.length <= WORTHWHILE_RATIO * values.length ? compressed : null;
}

/** Splits the rows into pages whose values take about `pageSize` bytes (at least one row each). */
function pageRanges(column: PlainColumn, valueBytes: (v: number) => number, pageSize: number): PageRange[] {
  const { rows, definitionLevels } = column;
  const ranges: PageRange[] = [];
  let rowStart = 0;
  let valueStart = 0;
  let v = 0;
  let bytes = 0;
  for (let row = 0; row < rows; row++) {
    if (definitionLevels === null || definitionLevels[row] === 1) bytes += valueBytes(v++);
    if (bytes >= pageSize && row + 1 < rows) {
      ranges.push({ rowStart, rowEnd: row + 1, valueStart, valueEnd: v });
      rowStart = row + 1;
      valueStart = v;
      bytes = 0;
    }
  }
  ranges.push({ rowStart, rowEnd: rows, valueStart, valueEnd: v });
  return ranges;
}

/** PLAIN BOOLEAN: one bit per value, least significant bit first. */
function packBits(bits: Uint8Array, scratch: Scratch): Uint8Array {
  const packed = scratch.uint8("bits", (bits.length + 7) >> 3).fill(0);
  for (let i = 0; i < bits.length; i++) if (bits[i] === 1) packed[i >> 3]! |= 1 << (i & 7);
  return packed;
}

function rleHybrid(values: Uint8Array | Int32Array, bitWidth: number, prefix?: number): Uint8Array {
  const writer = new ByteWriter(Math.max(64, values.length >> 2));
  if (prefix !== undefined) writer.appendUint8(prefix);
  writeRleBitPackedHybrid(writer, values, bitWidth);
  return writer.getBytes();
}

function pageHeader(type: number, uncompressedSize: number, compressedSize: number, write: (w: CompactWriter) => void): Uint8Array {
  const w = new CompactWriter();
  w.structBegin();
  w.i32(1, type);
  w.i32(2, uncompressedSize);
  w.i32(3, compressedSize);
  write(w);
  w.structEnd();
  return w.finish();
}

export function writeColumnChunk(
  out: ByteWriter,
  column: ParquetColumn,
  plain: PlainColumn,
  options: ChunkOptions,
  scratch: Scratch,
): ColumnChunkMeta {
  const { codec, pageSize } = options;
  const chunkStart = out.offset;
  let uncompressedTotal = 0;
  const dictionary: Dictionary | null = column.physical.type === "BOOLEAN" ? null : buildDictionary(plain, scratch);

  let dictionaryPageOffset: number | undefined;
  if (dictionary !== null) {
    dictionaryPageOffset = out.offset;
    const compressed = compress(dictionary.plain, codec);
    const header = pageHeader(PAGE_TYPE_DICTIONARY, dictionary.plain.length, compressed.length, (w) => {
      w.structField(7);
      w.i32(1, dictionary.size);
      w.i32(2, ENCODING_PLAIN);
      w.structEnd();
    });
    out.appendBytes(header);
    out.appendBytes(compressed);
    uncompressedTotal += header.length + dictionary.plain.length;
  }

  const { starts, width } = plain;
  const valueBytes =
    dictionary !== null
      ? () => dictionary.bitWidth / 8
      : starts !== null
        ? (v: number) => (starts[v + 1] as number) - (starts[v] as number)
        : column.physical.type === "BOOLEAN"
          ? () => 1 / 8
          : () => width;

  const dataPageOffset = out.offset;
  for (const page of pageRanges(plain, valueBytes, pageSize)) {
    const levels = plain.definitionLevels === null ? new Uint8Array(0) : rleHybrid(plain.definitionLevels.subarray(page.rowStart, page.rowEnd), 1);
    let values: Uint8Array;
    if (dictionary !== null) {
      values = rleHybrid(dictionary.indices.subarray(page.valueStart, page.valueEnd), dictionary.bitWidth, dictionary.bitWidth);
    } else if (starts !== null) {
      values = plain.plain.subarray(starts[page.valueStart], starts[page.valueEnd]);
    } else if (column.physical.type === "BOOLEAN") {
      values = packBits(plain.plain.subarray(page.valueStart, page.valueEnd), scratch);
    } else {
      values = plain.plain.subarray(page.valueStart * width, page.valueEnd * width);
    }
    const compressed = compressValues(values, codec);
    const stored = compressed ?? values;
    const rows = page.rowEnd - page.rowStart;
    const header = pageHeader(PAGE_TYPE_DATA_V2, levels.length + values.length, levels.length + stored.length, (w) => {
      w.structField(8);
      w.i32(1, rows); // num_values, nulls included
      w.i32(2, rows - (page.valueEnd - page.valueStart));
      w.i32(3, rows);
      w.i32(4, dictionary !== null ? ENCODING_RLE_DICTIONARY : ENCODING_PLAIN);
      w.i32(5, levels.length);
      w.i32(6, 0);
      if (compressed === null) w.bool(7, false); // is_compressed
      w.structEnd();
    });
    out.appendBytes(header);
    out.appendBytes(levels);
    out.appendBytes(stored);
    uncompressedTotal += header.length + levels.length + values.length;
  }

  const encodings: Encoding[] = dictionary !== null ? ["PLAIN", "RLE_DICTIONARY"] : ["PLAIN"];
  if (plain.definitionLevels !== null) encodings.push("RLE");
  return {
    element: column.element,
    encodings,
    codec,
    numValues: plain.rows,
    totalUncompressedSize: uncompressedTotal,
    totalCompressedSize: out.offset - chunkStart,
    dataPageOffset,
    dictionaryPageOffset,
    statistics: plain.statistics,
  };
}
