/**
 * The schemas of a derived dataset's tables, as HEAD's `POST /schema`
 * computes them (derived-datasets.md §4.3) and registration checks them
 * (§1.4): every dependency resolves; each table's SQL parses, reads at least
 * one table, and reads only declared aliases and `self.<sibling>`; tables
 * are taken in the order of their `self.` references (no self-reference,
 * unknown sibling or cycle); each is planned, must be incremental (§2.6),
 * and gets `_block_num UInt64 NOT NULL` first, which later `self.` readers
 * then see.
 */
import type { Db } from "../store/db";
import type { DatasetReference } from "../domain/revision";
import { SqlCatalog } from "./catalog";
import { nonIncrementalConstruct } from "./incremental";
import { DEFAULT_QUERY_LIMITS } from "./query-budget";
import { SqlInputError } from "./sql-errors";
import { planQuery } from "./sql-query";
import { rewriteSql } from "./sql-rewrite";
import type { SqlField } from "./sql-types";
import type { SqlFunction } from "./udfs/evm-functions";

export const DEPENDENCY_ALIAS = /^[a-zA-Z][a-zA-Z0-9_]{0,62}$/;

export const BLOCK_NUM_OUTPUT: SqlField = { name: "_block_num", type: "UInt64", nullable: false };

/** `block_num()`: the row's `_block_num` in derived tables, a placeholder the step replaces (§2.6). */
export const BLOCK_NUM_FUNCTION: SqlFunction = {
  minArgs: 0,
  maxArgs: 0,
  resultType: () => ({ type: "UInt64", nullable: false }),
  apply: () => {
    throw new SqlInputError("INVALID_PLAN", "block_num() is only supported in streaming queries and derived tables");
  },
};

export interface DerivedTables {
  tables: Record<string, string>;
  dependencies: Record<string, DatasetReference>;
}

/** The tables in an order where every `self.` reference comes after the table it reads. */
function dependencyOrder(references: Map<string, Set<string>>): string[] {
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (table: string, path: string[]) => {
    if (state.get(table) === "done") return;
    if (state.get(table) === "visiting") {
      throw new SqlInputError("CYCLIC_DEPENDENCY", `tables reference each other in a cycle: ${[...path, table].join(" -> ")}`);
    }
    state.set(table, "visiting");
    for (const sibling of [...(references.get(table) ?? [])].sort()) visit(sibling, [...path, table]);
    state.set(table, "done");
    order.push(table);
  };
  for (const table of [...references.keys()].sort()) visit(table, []);
  return order;
}

function tableError(table: string, error: unknown): never {
  if (error instanceof SqlInputError) throw new SqlInputError(error.code, `In table '${table}': ${error.message}`);
  throw error;
}

/** Each table's output fields, `_block_num` first; SqlInputError with the failing table named. */
export async function inferDerivedSchemas(db: Db, bucket: R2Bucket, request: DerivedTables): Promise<Record<string, SqlField[]>> {
  const selfTables: Record<string, { fields: readonly SqlField[]; network: string }> = {};
  const catalog = new SqlCatalog(db, bucket, { dependencies: request.dependencies, selfTables });
  for (const alias of Object.keys(request.dependencies).sort()) await catalog.dataset(alias);

  const references = new Map<string, Set<string>>();
  for (const [table, sql] of Object.entries(request.tables)) {
    try {
      const rewritten = rewriteSql(sql);
      if (rewritten.tables.length === 0 && rewritten.bareTables.length === 0) {
        throw new SqlInputError("NO_TABLE_REFERENCES", "the query references no table");
      }
      const siblings = new Set<string>();
      for (const ref of rewritten.tables) {
        if (ref.schema === "self") {
          if (ref.table === table) throw new SqlInputError("SELF_REFERENCING_TABLE", `table '${table}' reads itself`);
          if (!(ref.table in request.tables)) throw new SqlInputError("SELF_REF_TABLE_NOT_FOUND", `self.${ref.table}: the dataset has no table '${ref.table}'`);
          siblings.add(ref.table);
        } else if (!DEPENDENCY_ALIAS.test(ref.schema)) {
          throw new SqlInputError("TABLE_REFERENCE_RESOLUTION", `'${ref.schema}' is not a dependency alias: derived SQL names its datasets by the aliases of 'dependencies'`);
        } else if (!(ref.schema in request.dependencies)) {
          throw new SqlInputError("UNQUALIFIED_TABLE", `Dependency alias '${ref.schema}' referenced in table but not provided in dependencies`);
        }
      }
      references.set(table, siblings);
    } catch (error) {
      tableError(table, error);
    }
  }

  const schemas: Record<string, SqlField[]> = {};
  for (const table of dependencyOrder(references)) {
    try {
      const planned = await planQuery(request.tables[table]!, {
        catalog,
        bucket,
        limits: DEFAULT_QUERY_LIMITS,
        extraFunctions: { block_num: BLOCK_NUM_FUNCTION },
      });
      const construct = nonIncrementalConstruct(planned.statement);
      if (construct !== null) throw new SqlInputError("NON_INCREMENTAL_QUERY", `query contains non-incremental operation: ${construct}`);
      const fields = [BLOCK_NUM_OUTPUT, ...planned.fields.filter((field) => field.name !== BLOCK_NUM_OUTPUT.name)];
      const networks = [...new Set([...planned.sources.values()].map((source) => source.network))];
      schemas[table] = fields;
      selfTables[table] = { fields, network: networks[0] ?? "" };
    } catch (error) {
      tableError(table, error);
    }
  }
  return schemas;
}
