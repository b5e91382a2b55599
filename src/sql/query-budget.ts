/**
 * The limits of one query, enforced while it runs: bytes fetched from R2,
 * rows scanned, rows returned, the answer's bytes and running time (from
 * `performance.now()`, which a Worker advances at I/O, so it bounds the
 * query's wall time within the request's CPU limit). Passing one throws
 * QUERY_LIMIT_EXCEEDED naming it.
 */
import { SqlInputError } from "./sql-errors";

export interface QueryLimits {
  maxBytes: number;
  maxScannedRows: number;
  maxOutputRows: number;
  maxMillis: number;
  /** Bytes of the JSON Lines answer, which is complete before it is sent. */
  maxResultBytes: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxBytes: 256 * 1024 * 1024,
  maxScannedRows: 20_000_000,
  maxOutputRows: 1_000_000,
  maxMillis: 25_000,
  maxResultBytes: 32 * 1024 * 1024,
};

export class QueryLimitError extends SqlInputError {
  constructor(
    readonly limit: keyof QueryLimits,
    readonly value: number,
    message: string,
  ) {
    super("QUERY_LIMIT_EXCEEDED", message);
  }
}

export class QueryBudget {
  bytes = 0;
  scannedRows = 0;
  outputRows = 0;
  private readonly started = performance.now();

  constructor(readonly limits: QueryLimits) {}

  chargeBytes(n: number): void {
    this.bytes += n;
    if (this.bytes > this.limits.maxBytes) {
      throw new QueryLimitError("maxBytes", this.limits.maxBytes, `the query reads more than ${this.limits.maxBytes} bytes of Parquet data`);
    }
  }

  chargeRows(n: number): void {
    this.scannedRows += n;
    if (this.scannedRows > this.limits.maxScannedRows) {
      throw new QueryLimitError("maxScannedRows", this.limits.maxScannedRows, `the query scans more than ${this.limits.maxScannedRows} rows`);
    }
    if ((this.scannedRows & 0xfff) === 0) this.checkTime();
  }

  chargeOutput(n: number): void {
    this.outputRows += n;
    if (this.outputRows > this.limits.maxOutputRows) {
      throw new QueryLimitError("maxOutputRows", this.limits.maxOutputRows, `the query returns more than ${this.limits.maxOutputRows} rows; add a LIMIT`);
    }
  }

  checkTime(): void {
    const elapsed = performance.now() - this.started;
    if (elapsed > this.limits.maxMillis) {
      throw new QueryLimitError("maxMillis", this.limits.maxMillis, `the query ran longer than ${this.limits.maxMillis} ms`);
    }
  }
}
