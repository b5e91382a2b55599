/**
 * One extraction step against the real node, into the real (local) R2:
 * files per table, their names and metadata, every row read back with
 * hyparquet and compared with what the client extracted, idempotency, tables
 * that need only part of a step, and a file split where the chain does not
 * link (blocks spliced from two different chains).
 */
import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileFields, type EvmRpcTableName } from "../../src/domain/dataset-kinds/evm-rpc";
import { EvmRpcClient, type ExtractedChunk } from "../../src/extract/evm-rpc/client";
import { EVM_RPC_KIND_TABLES } from "../../src/domain/dataset-kinds/evm-rpc";
import type { TableColumns } from "../../src/extract/block-source";
import { runExtractStep, type StepSource, type WrittenFile } from "../../src/extract/step-runner";
import { readParquetFooter, readParquetRows } from "../../src/parquet";
import { fileObjectKey } from "../../src/store/r2-layout";
import { startFreshNode } from "../support/fault-control";
import { harness } from "../support/provided-context";
import { extractRange, type Extracted } from "./evm-rpc/helpers";

const { anvilUrl, chain, harnessUrl } = harness();
const TABLES: EvmRpcTableName[] = ["blocks", "transactions", "logs"];

function stepTables(ranges: Partial<Record<EvmRpcTableName, { start: number; end: number }[]>>, all: { start: number; end: number }) {
  return TABLES.map((table, i) => ({ table, locationId: i + 1, path: `anvil/${table}/step-test/`, ranges: ranges[table] ?? [all] }));
}

async function objectBytes(file: WrittenFile): Promise<ArrayBuffer> {
  const object = await env.BUCKET.get(fileObjectKey(`anvil/${file.table}/step-test/`, file.fileName));
  if (!object) throw new Error(`no object for ${file.fileName}`);
  return object.arrayBuffer();
}

function byTable(files: readonly WrittenFile[], table: string): WrittenFile[] {
  return files.filter((file) => file.table === table).sort((a, b) => a.range.start - b.range.start);
}

describe("runExtractStep", () => {
  const range = { start: 0, end: chain.head };
  let expected: Extracted;

  beforeAll(async () => {
    expected = await extractRange({ url: anvilUrl }, range.start, range.end);
  });

  it("writes one file per table for a linked range, with the rows the client extracted", async () => {
    const { files } = await runExtractStep({ client: new EvmRpcClient({ url: anvilUrl }), bucket: env.BUCKET, network: "anvil", kindTables: EVM_RPC_KIND_TABLES, range, tables: stepTables({}, range) });
    expect(files.map((file) => file.table).sort()).toEqual([...TABLES].sort());
    const endHash = expected.blocks.at(-1)!.hash;
    for (const file of files) {
      expect(file.range).toEqual(range);
      expect(file.hash).toBe(endHash);
      expect(file.prevHash).toBe(expected.blocks[0]!.parentHash);
      expect(file.fileName).toBe(`000000000-${String(range.end).padStart(9, "0")}-${endHash.slice(2, 10)}.parquet`);
      const bytes = await objectBytes(file);
      expect(file.bytes).toBe(bytes.byteLength);
      const footer = await readParquetFooter(bytes);
      expect(JSON.parse(footer.keyValueMetadata.nozzle_metadata!)).toEqual(file.metadata);
      expect(footer.keyValueMetadata.parent_file_ids).toBe("[]");
      expect(footer.keyValueMetadata.generation).toBe("0");
      expect(file.metadata.ranges[0]).toEqual({ numbers: { start: 0, end: range.end }, network: "anvil", hash: endHash, prev_hash: expected.blocks[0]!.parentHash });

      const table = file.table as EvmRpcTableName;
      const columns = expected.tables[table] as unknown as TableColumns;
      const rows = await readParquetRows(bytes);
      expect(rows.length).toBe(columns._block_num!.length);
      expect(file.rows).toBe(rows.length);
      for (const field of fileFields(table)) {
        expect(rows.map((row) => row[field.name]), `${table}.${field.name}`).toEqual(columns[field.name]);
      }
    }
  });

  it("writes a table only where it still needs blocks", async () => {
    const { files } = await runExtractStep({
      client: new EvmRpcClient({ url: anvilUrl }),
      bucket: env.BUCKET,
      network: "anvil",
      kindTables: EVM_RPC_KIND_TABLES,
      range,
      tables: stepTables({ blocks: [{ start: 2, end: 4 }, { start: 7, end: range.end }], logs: [] }, range),
    });
    expect(byTable(files, "blocks").map((file) => file.range)).toEqual([
      { start: 2, end: 4 },
      { start: 7, end: range.end },
    ]);
    expect(byTable(files, "blocks")[1]!.prevHash).toBe(expected.blocks[6]!.hash);
    expect(byTable(files, "logs")).toEqual([]);
    expect(byTable(files, "transactions").map((file) => file.range)).toEqual([range]);
  });

  it("leaves the object of a step delivered twice as the first delivery wrote it", async () => {
    const run = () =>
      runExtractStep({ client: new EvmRpcClient({ url: anvilUrl }), bucket: env.BUCKET, network: "anvil", kindTables: EVM_RPC_KIND_TABLES, range, tables: stepTables({}, range) }).then(
        (step) => step.files,
      );
    const first = await run();
    const second = await run();
    for (const file of first) {
      const again = second.find((other) => other.table === file.table)!;
      expect(again.fileName).toBe(file.fileName);
      expect(again.etag).toBe(file.etag);
      expect(again.metadata).toEqual(file.metadata);
    }
    const listing = await env.BUCKET.list({ prefix: "data/anvil/blocks/step-test/" });
    expect(listing.objects.map((object) => object.key)).toEqual([fileObjectKey("anvil/blocks/step-test/", first[0]!.fileName)]);
  });

  describe("where the chain does not link", () => {
    let other: Awaited<ReturnType<typeof startFreshNode>>;
    beforeAll(async () => {
      other = await startFreshNode(harnessUrl, { seed: true });
    });
    afterAll(async () => {
      await other.stop();
    });

    it("closes the file at the block before and starts a new one", async () => {
      const split = 5;
      const mine = new EvmRpcClient({ url: anvilUrl });
      const theirs = new EvmRpcClient({ url: other.url });
      // Blocks 0..=split from the shared node, the rest from another chain: block split+1 does not link.
      const spliced: StepSource = {
        async *blocks(start, end): AsyncGenerator<ExtractedChunk> {
          yield* mine.blocks(start, Math.min(end, split));
          if (end > split) yield* theirs.blocks(Math.max(start, split + 1), end);
        },
        blockHashes: (numbers) => mine.blockHashes(numbers),
      };
      const end = Math.min(range.end, 12);
      const { files } = await runExtractStep({ client: spliced, bucket: env.BUCKET, network: "anvil", kindTables: EVM_RPC_KIND_TABLES, range: { start: 0, end }, tables: stepTables({}, { start: 0, end }) });
      const theirBlocks = (await extractRange({ url: other.url }, split + 1, end)).blocks;
      expect(theirBlocks[0]!.parentHash).not.toBe(expected.blocks[split]!.hash);
      for (const table of TABLES) {
        const written = byTable(files, table);
        expect(written.map((file) => file.range), table).toEqual([
          { start: 0, end: split },
          { start: split + 1, end },
        ]);
        expect(written[0]!.hash).toBe(expected.blocks[split]!.hash);
        expect(written[1]!.prevHash).toBe(theirBlocks[0]!.parentHash);
        expect(written[1]!.hash).toBe(theirBlocks.at(-1)!.hash);
      }
    });
  });
});
