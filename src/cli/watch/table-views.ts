/**
 * What a progress display shows per table, from successive `GET
 * /jobs/{id}/progress` answers: blocks done of the total, the rate over the
 * last seconds, the time left, files and bytes, and for a continuous job how
 * far the table is behind the chain head. Pure: time comes in as arguments.
 */

export interface JobTableProgress {
  start_block: number | null;
  current_block: number | null;
  files_count: number;
  total_size_bytes: number;
}

/** The answer of `GET /jobs/{id}/progress`. */
export interface JobProgress {
  job_id: number;
  job_status: string;
  start_block: number | null;
  end_block: number | null;
  continuous: boolean;
  chain_head: number | null;
  tables: Record<string, JobTableProgress>;
}

export interface TableView {
  table: string;
  /** Blocks of the job's range the table's canonical chain holds. */
  done: number;
  /** Blocks in the job's range; for a continuous job up to the head; null while unknown (end not resolved, no head yet). */
  total: number | null;
  /** Blocks per second over the rate window; null until two samples are apart in time. */
  rate: number | null;
  /** Seconds until `total` at `rate`; null when either is unknown. */
  etaSeconds: number | null;
  files: number;
  bytes: number;
  /** A continuous job's distance to the chain head, in blocks; null otherwise or before the first head. */
  behind: number | null;
}

/** How far back the rate looks: long enough to smooth steps landing one at a time, short enough to follow changes. */
const RATE_WINDOW_MS = 15_000;

interface Sample {
  at: number;
  done: number;
}

/** Keeps each table's recent samples and turns every progress answer into views. */
export class TableViews {
  private readonly samples = new Map<string, Sample[]>();

  update(progress: JobProgress, now: number): TableView[] {
    return Object.entries(progress.tables)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([table, figures]) => this.view(progress, table, figures, now));
  }

  private view(progress: JobProgress, table: string, figures: JobTableProgress, now: number): TableView {
    const first = progress.start_block ?? figures.start_block ?? 0;
    const done = figures.current_block === null ? 0 : Math.max(0, figures.current_block - first + 1);
    const last = progress.continuous ? progress.chain_head : progress.end_block;
    const total = last === null ? null : Math.max(0, last - first + 1);
    const rate = this.rate(table, now, done);
    const left = total === null ? null : Math.max(0, total - done);
    return {
      table,
      done,
      total,
      rate,
      etaSeconds: left === null || rate === null || rate <= 0 ? (left === 0 ? 0 : null) : left / rate,
      files: figures.files_count,
      bytes: figures.total_size_bytes,
      behind: progress.continuous && progress.chain_head !== null ? Math.max(0, progress.chain_head - (figures.current_block ?? first - 1)) : null,
    };
  }

  private rate(table: string, now: number, done: number): number | null {
    const samples = this.samples.get(table) ?? [];
    samples.push({ at: now, done });
    while (samples.length > 2 && now - samples[0]!.at > RATE_WINDOW_MS) samples.shift();
    this.samples.set(table, samples);
    const oldest = samples[0]!;
    const seconds = (now - oldest.at) / 1000;
    return seconds > 0 ? (done - oldest.done) / seconds : null;
  }
}
