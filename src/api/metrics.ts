import { createRoute, z } from "@hono/zod-openapi";
import { isProviderError } from "../domain/errors";
import { JOB_STATUSES } from "../domain/job";
import { type Metric, type Sample, formatMetrics } from "../domain/prometheus-text";
import { openDb } from "../store/db";
import { chainHeadsByNetwork, countJobsByStatus, countStepOutcomes, stepDurationBuckets, tableExtraction } from "../store/metric-queries";
import type { App } from "./app";
import { readRouteErrors } from "./responses";

/** Step duration histogram bounds, in seconds: steps take from a fraction of a second to minutes. */
const DURATION_BOUNDS_S = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900];

const metricsRoute = createRoute({
  method: "get",
  path: "/metrics",
  tags: ["metrics"],
  operationId: "metrics",
  summary: "Jobs, steps, extracted blocks and rows, provider errors, step durations and lag behind the head, in the Prometheus text format",
  responses: {
    200: { description: "Prometheus text exposition format 0.0.4", content: { "text/plain": { schema: z.string() } } },
    ...readRouteErrors,
  },
});

async function collect(db: ReturnType<typeof openDb>): Promise<Metric[]> {
  const [statuses, outcomes, durations, tables, heads] = await Promise.all([
    countJobsByStatus(db),
    countStepOutcomes(db),
    stepDurationBuckets(db, DURATION_BOUNDS_S.map((bound) => bound * 1000)),
    tableExtraction(db),
    chainHeadsByNetwork(db),
  ]);
  const byStatus = new Map(statuses.map((row) => [row.status, row.jobs]));
  const completed = sum(outcomes.filter((row) => row.kind === "step_completed"), (row) => ({ dataset: `${row.namespace}/${row.name}` }), (row) => row.events);
  const failed = sum(outcomes.filter((row) => row.kind === "step_failed"), (row) => ({ dataset: `${row.namespace}/${row.name}`, reason: row.error ?? "unknown" }), (row) => row.events);
  const providerErrors = sum(
    outcomes.filter((row) => row.kind !== "step_completed" && row.error !== null && isProviderError(row.error)),
    (row) => ({ provider: row.provider ?? "unknown", reason: row.error ?? "unknown", operation: row.kind === "step_failed" ? "step" : "head" }),
    (row) => row.events,
  );
  const table = (row: (typeof tables)[number]) => ({ dataset: `${row.namespace}/${row.name}`, table: row.table, manifest_hash: row.manifestHash });
  return [
    { name: "amp_jobs", help: "Jobs by status", type: "gauge", samples: JOB_STATUSES.map((status) => ({ labels: { status }, value: byStatus.get(status) ?? 0 })) },
    { name: "amp_steps_completed_total", help: "Extraction steps completed, by dataset", type: "counter", samples: completed },
    { name: "amp_steps_failed_total", help: "Extraction step attempts that failed, by dataset and failure class", type: "counter", samples: failed },
    { name: "amp_provider_errors_total", help: "Failed provider reads (steps and chain-head reads), by provider and failure class", type: "counter", samples: providerErrors },
    {
      name: "amp_step_duration_seconds",
      help: "Duration of completed extraction steps",
      type: "histogram",
      histograms: [
        {
          labels: {},
          buckets: DURATION_BOUNDS_S.map((le, i) => ({ le, count: durations.atMost[i] ?? 0 })),
          sum: durations.sumMs / 1000,
          count: durations.count,
        },
      ],
    },
    { name: "amp_extracted_blocks", help: "Blocks in the files of each table's active location", type: "gauge", samples: tables.map((row) => ({ labels: table(row), value: row.blocks })) },
    { name: "amp_extracted_rows", help: "Rows in the files of each table's active location", type: "gauge", samples: tables.map((row) => ({ labels: table(row), value: row.rows })) },
    { name: "amp_extracted_files", help: "Parquet files of each table's active location", type: "gauge", samples: tables.map((row) => ({ labels: table(row), value: row.files })) },
    { name: "amp_extracted_bytes", help: "Bytes of those files", type: "gauge", samples: tables.map((row) => ({ labels: table(row), value: row.bytes })) },
    {
      name: "amp_table_last_block",
      help: "Last block of each table's canonical chain",
      type: "gauge",
      samples: tables.flatMap((row) => (row.lastBlock === null ? [] : [{ labels: table(row), value: row.lastBlock }])),
    },
    {
      name: "amp_table_lag_blocks",
      help: "Blocks between the chain head its last job read and each table's last block",
      type: "gauge",
      samples: tables.flatMap((row) => (row.headBlock === null ? [] : [{ labels: table(row), value: Math.max(0, row.headBlock - (row.lastBlock ?? -1)) }])),
    },
    { name: "amp_chain_head_block", help: "The highest chain head a job read, by network", type: "gauge", samples: heads.map((row) => ({ labels: { network: row.network }, value: row.head })) },
  ];
}

/** Samples summed by their labels: the same label set may come from several rows (e.g. providers of a dataset). */
function sum<T>(rows: readonly T[], labels: (row: T) => Record<string, string>, value: (row: T) => number): Sample[] {
  const totals = new Map<string, Sample>();
  for (const row of rows) {
    const sampleLabels = labels(row);
    const key = JSON.stringify(sampleLabels);
    totals.set(key, { labels: sampleLabels, value: (totals.get(key)?.value ?? 0) + value(row) });
  }
  return [...totals.values()];
}

export function registerMetricsRoutes(app: App): void {
  app.openapi(metricsRoute, async (c) => {
    const text = formatMetrics(await collect(openDb(c.env.DB)));
    return c.text(text, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });
}
