/**
 * The Prometheus text exposition format (version 0.0.4). Written here rather
 * than with prom-client: that library keeps process-wide counters in memory,
 * while a Worker's isolates come and go, so GET /metrics computes every value
 * from D1 on each scrape and only needs the format.
 */

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

export type Metric =
  | { readonly name: string; readonly help: string; readonly type: "counter" | "gauge"; readonly samples: readonly Sample[] }
  | { readonly name: string; readonly help: string; readonly type: "histogram"; readonly histograms: readonly Histogram[] };

export interface Histogram {
  readonly labels: Labels;
  /** Upper bounds, ascending, with the count of observations at or below each (cumulative). */
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
  readonly sum: number;
  readonly count: number;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? "" : `{${entries.map(([key, value]) => `${key}="${escapeLabel(value)}"`).join(",")}}`;
}

function valueText(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

export function formatMetrics(metrics: readonly Metric[]): string {
  const lines: string[] = [];
  for (const metric of metrics) {
    lines.push(`# HELP ${metric.name} ${metric.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${metric.name} ${metric.type}`);
    if (metric.type === "histogram") {
      for (const histogram of metric.histograms) {
        for (const bucket of histogram.buckets) {
          lines.push(`${metric.name}_bucket${labelText({ ...histogram.labels, le: valueText(bucket.le) })} ${bucket.count}`);
        }
        lines.push(`${metric.name}_bucket${labelText({ ...histogram.labels, le: "+Inf" })} ${histogram.count}`);
        lines.push(`${metric.name}_sum${labelText(histogram.labels)} ${valueText(histogram.sum)}`);
        lines.push(`${metric.name}_count${labelText(histogram.labels)} ${histogram.count}`);
      }
    } else {
      for (const sample of metric.samples) lines.push(`${metric.name}${labelText(sample.labels)} ${valueText(sample.value)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
