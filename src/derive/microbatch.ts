/**
 * One microbatch of a derived step: every table's rows for blocks
 * `start..=end`, by its SQL over the dependencies' canonical files.
 * - A query without joins or subqueries reads only the microbatch's blocks.
 *   One with them reads history too (every side up to `end`) and keeps the
 *   rows whose propagated `_block_num` falls in the microbatch: that is the
 *   delta rule ΔL⋈R_hist ∪ L_hist⋈ΔR ∪ ΔL⋈ΔR of derived-datasets.md §2.6.
 * - A table reading `self.<sibling>` runs after it and sees the sibling's
 *   rows of this microbatch from memory (they are in no file yet), its
 *   history from the sibling's files.
 * Rows come out sorted by `_block_num`, as the step's files want them.
 */
import type { ArrowField } from "../domain/arrow";
import type { BlockRange } from "../domain/block-range";
import { FatalError, RetryableError } from "../domain/errors";
import type { KindTable } from "../domain/dataset-kinds/kind-definition";
import type { ColumnValue, TableColumns } from "../extract/block-source";
import { BLOCK_NUM, readsHistory } from "../sql/block-num";
import type { CatalogTable } from "../sql/catalog";
import { BLOCK_NUM_FUNCTION } from "../sql/derived-schema";
import { DEFAULT_QUERY_LIMITS, type QueryLimits } from "../sql/query-budget";
import { SqlInputError, StorageError } from "../sql/sql-errors";
import { planQuery, prepareQuery } from "../sql/sql-query";
import { toColumnValue } from "../sql/sql-values";
import type { SqlPrimitive } from "squirreling";
import type { Derivation, DerivedTableSql } from "./derivation";

type EngineRow = Record<string, SqlPrimitive>;

/** A step is bounded by the Worker's limits, not by a query's: only its running time is capped here. */
const STEP_QUERY_LIMITS: QueryLimits = {
  ...DEFAULT_QUERY_LIMITS,
  maxBytes: Number.MAX_SAFE_INTEGER,
  maxScannedRows: Number.MAX_SAFE_INTEGER,
  maxOutputRows: Number.MAX_SAFE_INTEGER,
  maxResultBytes: Number.MAX_SAFE_INTEGER,
  maxMillis: 10 * 60_000,
};

export interface MicrobatchInput {
  derivation: Derivation;
  bucket: R2Bucket;
  kindTables: readonly KindTable[];
  range: BlockRange;
  /** The job's first block: history starts here. */
  startBlock: number;
  /** Tables whose rows are wanted (written by the step); their siblings run too when they read them. */
  wanted: ReadonlySet<string>;
}

/** A failure of the table's SQL on its data is the manifest's, and retrying cannot fix it; R2 failing can be retried. */
function stepError(table: string, error: unknown): unknown {
  if (error instanceof StorageError) return new RetryableError("network", `table ${table}: ${error.message}`, { cause: error });
  if (error instanceof SqlInputError) return new FatalError("query_failed", `table ${table}: ${error.message}`, { cause: error });
  return error;
}

/** The tables the wanted ones need, themselves included. */
function needed(derivation: Derivation, wanted: ReadonlySet<string>): Set<string> {
  const all = new Map(derivation.levels.flat().map((table) => [table.name, table]));
  const out = new Set<string>();
  const visit = (name: string) => {
    if (out.has(name)) return;
    out.add(name);
    for (const sibling of all.get(name)?.siblings ?? []) visit(sibling);
  };
  for (const name of wanted) visit(name);
  return out;
}

async function tableRows(input: MicrobatchInput, table: DerivedTableSql, computed: ReadonlyMap<string, EngineRow[]>): Promise<EngineRow[]> {
  const { derivation, range } = input;
  let history = derivation.readsHistory.get(table.name);
  if (history === undefined) {
    const planned = await planQuery(table.sql, { catalog: derivation.catalog, bucket: input.bucket, limits: STEP_QUERY_LIMITS, derived: true, extraFunctions: { block_num: BLOCK_NUM_FUNCTION } });
    history = readsHistory(planned.statement);
    derivation.readsHistory.set(table.name, history);
  }
  const isSibling = (source: CatalogTable) => source.dataset?.reference === "self";
  if (history) {
    for (const sibling of table.siblings) {
      const source = await derivation.catalog.table("self", sibling);
      if (range.start <= input.startBlock) continue;
      const files = await derivation.catalog.files(source);
      if ((files.at(-1)?.range.end ?? -1) < range.start - 1) {
        throw new RetryableError("dependency_not_synced", `table ${table.name} joins self.${source.name}, which is not derived up to block ${range.start - 1} yet`);
      }
    }
  }
  const prepared = await prepareQuery(table.sql, {
    catalog: derivation.catalog,
    bucket: input.bucket,
    limits: STEP_QUERY_LIMITS,
    derived: true,
    extraFunctions: { block_num: BLOCK_NUM_FUNCTION },
    blocks: history ? { start: input.startBlock, end: range.end } : range,
    pendingRows: (source) => (isSibling(source) ? { from: range.start, rows: computed.get(source.name) ?? [] } : undefined),
  });
  const rows: EngineRow[] = [];
  for await (const row of prepared.rows()) {
    const block = Number(row[BLOCK_NUM]);
    if (block >= range.start && block <= range.end) rows.push(row);
  }
  // Stable: rows of one block keep the order the query gave them.
  return rows.sort((a, b) => Number(a[BLOCK_NUM]) - Number(b[BLOCK_NUM]));
}

/** A table's rows as the columns of its files, by the manifest's schema. */
function columnsOf(table: string, fields: readonly ArrowField[], rows: readonly EngineRow[]): TableColumns {
  const columns: TableColumns = {};
  for (const field of fields) {
    if (rows.length > 0 && !(field.name in rows[0]!)) {
      throw new FatalError("query_failed", `table ${table}: its SQL gives no column '${field.name}', which its schema lists`);
    }
    const values: ColumnValue[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      try {
        values[i] = toColumnValue(rows[i]![field.name] ?? null, field.type) as ColumnValue;
      } catch (error) {
        throw new FatalError("query_failed", `table ${table}, column ${field.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    columns[field.name] = values;
  }
  return columns;
}

/** Every wanted table's columns for the microbatch. */
export async function deriveMicrobatch(input: MicrobatchInput): Promise<Record<string, TableColumns>> {
  const run = needed(input.derivation, input.wanted);
  const computed = new Map<string, EngineRow[]>();
  for (const level of input.derivation.levels) {
    const tables = level.filter((table) => run.has(table.name));
    const results = await Promise.all(
      tables.map((table) =>
        tableRows(input, table, computed).catch((error: unknown) => {
          throw stepError(table.name, error);
        }),
      ),
    );
    tables.forEach((table, i) => computed.set(table.name, results[i]!));
  }
  const out: Record<string, TableColumns> = {};
  for (const name of input.wanted) {
    const fields = input.kindTables.find((table) => table.name === name)?.fields;
    if (!fields) throw new FatalError("query_failed", `table ${name} is not a table of this dataset`);
    out[name] = columnsOf(name, fields, computed.get(name) ?? []);
  }
  return out;
}
