import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { fileFields } from "../../src/domain/dataset-kinds/evm-rpc";
import {
  BufferSink,
  FixedSizePartSink,
  ParquetStreamWriter,
  rangeSource,
  readParquetFooter,
  readParquetRows,
} from "../../src/parquet";
import { columnsOf, syntheticEvmRows } from "../support/evm-rows";

async function digest(chunks: Uint8Array[]): Promise<string> {
  const all = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(hash, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The writer and reader inside workerd, against the local R2 binding. */
describe("Parquet files in R2", () => {
  it("puts a file, reads its footer with ranged gets and its rows back", async () => {
    const rows = syntheticEvmRows({ startBlock: 15_000_000, blockCount: 20, transactionsPerBlock: 5, logsPerTransaction: 2, seed: 1 });
    const sink = new BufferSink();
    const writer = new ParquetStreamWriter({ fields: fileFields("logs"), sink });
    await writer.writeRowGroup(columnsOf("logs", rows.logs.slice(0, 50)));
    await writer.writeRowGroup(columnsOf("logs", rows.logs.slice(50)));
    await writer.finish({ nozzle_metadata: '{"table":"logs"}', parent_file_ids: "[]", generation: "0" });
    const key = "parquet-test/logs/015000000-015000019-00000000.parquet";
    await env.BUCKET.put(key, sink.bytes());

    const head = await env.BUCKET.head(key);
    const source = rangeSource(head!.size, async (offset, length) => {
      const object = await env.BUCKET.get(key, { range: { offset, length } });
      return object!.arrayBuffer();
    });
    const footer = await readParquetFooter(source);
    expect(footer).toMatchObject({ rowCount: rows.logs.length, arrowFields: fileFields("logs") });
    expect(footer.keyValueMetadata.nozzle_metadata).toBe('{"table":"logs"}');

    const whole = await (await env.BUCKET.get(key))!.arrayBuffer();
    expect(await readParquetRows(whole)).toEqual(rows.logs);
  });

  it("streams a file larger than one part through an R2 multipart upload", async () => {
    const key = "parquet-test/blobs.parquet";
    const upload = await env.BUCKET.createMultipartUpload(key);
    const parts: R2UploadedPart[] = [];
    const partSize = 5 * 1024 * 1024; // R2's minimum for all parts but the last
    const sink = new FixedSizePartSink(partSize, async (partNumber, bytes) => {
      parts.push(await upload.uploadPart(partNumber, bytes));
    });
    const writer = new ParquetStreamWriter({ fields: [{ name: "blob", type: "Binary", nullable: false }], sink });
    const blobs: Uint8Array[] = [];
    for (let group = 0; group < 3; group++) {
      const values = Array.from({ length: 500 }, () => crypto.getRandomValues(new Uint8Array(4096)));
      blobs.push(...values);
      await writer.writeRowGroup([values]);
    }
    const written = await writer.finish();
    await sink.close();
    await upload.complete(parts);

    expect(parts.length).toBe(2);
    const object = await env.BUCKET.get(key);
    expect(object!.size).toBe(written.bytes);
    const back = (await readParquetRows(await object!.arrayBuffer())).map((row) => row.blob as Uint8Array);
    // compared as digests: a deep toEqual of 6 MB of byte arrays takes seconds in workerd
    expect(await digest(back)).toBe(await digest(blobs));
    expect(back.map((blob) => blob.length)).toEqual(blobs.map((blob) => blob.length));
  });
});
