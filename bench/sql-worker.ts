/**
 * The Worker the SQL benches run inside workerd (bundled by bench/sql-bench.ts): it stores files in its R2
 * binding and runs queries with src/sql over them, given the tables' files directly instead of a D1 catalog.
 */
import type { ArrowField } from "../src/domain/arrow";
import { fileFields } from "../src/domain/dataset-kinds/evm-rpc";
import { evmRpcManifest } from "../src/domain/manifest/evm-rpc";
import { BufferSink, ParquetStreamWriter } from "../src/parquet";
import type { CatalogTable } from "../src/sql/catalog";
import type { TableFile } from "../src/sql/parquet-table";
import { DEFAULT_QUERY_LIMITS } from "../src/sql/query-budget";
import { prepareQuery } from "../src/sql/sql-query";
import { toColumnValue } from "../src/sql/sql-values";
import { asArrowField } from "../src/sql/sql-types";

interface Env {
  BUCKET: R2Bucket;
}

interface RunRequest {
  sql: string;
  files: TableFile[];
  /** Block ranges to run the query over one after another (a derived table's microbatches), whole table when absent. */
  ranges?: { start: number; end: number }[];
  /** Write each range's rows as a Parquet file, as a derived step does. */
  write?: boolean;
  /** false: squirreling's plan as it is, without the projection memo (QueryOptions.memoize). */
  memoize?: boolean;
}

const LIMITS = { ...DEFAULT_QUERY_LIMITS, maxMillis: 600_000 };

async function run(env: Env, request: RunRequest) {
  const catalog = {
    table: async (_schema: string, name: string): Promise<CatalogTable> => ({
      dataset: { reference: "_/bench@1.0.0", hash: "0".repeat(64), manifest: evmRpcManifest("bench") },
      name,
      fields: fileFields("logs"),
      network: "bench",
      startBlock: 0,
    }),
    files: async () => request.files,
  };
  const started = performance.now();
  let outputRows = 0;
  let scannedRows = 0;
  let plannedBytes = 0;
  let outputBytes = 0;
  for (const blocks of request.ranges ?? [undefined]) {
    const prepared = await prepareQuery(request.sql, { catalog, bucket: env.BUCKET, limits: LIMITS, blocks, ...(request.memoize === false ? { memoize: false } : {}) });
    const fields = prepared.fields.map(asArrowField).filter((f): f is ArrowField => f !== null);
    const columns: Record<string, unknown[]> = Object.fromEntries(fields.map((f) => [f.name, []]));
    for await (const row of prepared.rows()) {
      outputRows++;
      if (request.write) for (const f of fields) columns[f.name]!.push(toColumnValue(row[f.name] ?? null, f.type));
    }
    if (request.write && blocks) {
      const sink = new BufferSink();
      const writer = new ParquetStreamWriter({ fields, sink });
      if ((columns[fields[0]!.name] ?? []).length > 0) await writer.writeRowGroup(columns as never);
      await writer.finish({ nozzle_metadata: "{}" });
      const bytes = sink.bytes();
      outputBytes += bytes.length;
      await env.BUCKET.put(`derived/${blocks.start}.parquet`, bytes);
    }
    scannedRows += prepared.budget.scannedRows;
    plannedBytes += prepared.plannedBytes;
  }
  return { ms: performance.now() - started, outputRows, scannedRows, plannedBytes, outputBytes };
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/put") {
      const object = await env.BUCKET.put(url.searchParams.get("key")!, await request.arrayBuffer());
      return Response.json({ size: object?.size });
    }
    try {
      return Response.json(await run(env, (await request.json()) as RunRequest));
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 500 });
    }
  },
};
