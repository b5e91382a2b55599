/**
 * The projection memo (src/sql/memo-projection.ts): the rewritten plan gives exactly the engine's rows, evaluates a
 * computed column once per row however often it is read, and never lets one row see another row's value or failure,
 * also when the engine evaluates many rows at once (a WHERE evaluates chunks of rows concurrently).
 */
import { asyncRow, type AsyncDataSource, type ExecuteContext, executePlan, parseSql, planSql, type QueryPlan, type SqlPrimitive, type UserDefinedFunction } from "squirreling";
import { describe, expect, it } from "vitest";
import { MemoizedProjection, memoizeProjections } from "../../src/sql/memo-projection";
import { rewriteStructAccess, STRUCT_FIELD, structField } from "../../src/sql/struct-fields";

type Row = Record<string, SqlPrimitive>;

/** An in-memory table of rows with ids 1..n. */
function table(n: number): AsyncDataSource {
  const rows: Row[] = Array.from({ length: n }, (_, i) => ({ id: i + 1, name: `r${i + 1}` }));
  return {
    columns: ["id", "name"],
    scan: () => ({ appliedWhere: false, appliedLimitOffset: false, rows: async function* () { for (const row of rows) yield asyncRow(row, ["id", "name"]); } }),
  };
}

/**
 * `pack(id)`: a struct of the row's own id, counting calls per id, resolving after a delay that varies by id so that
 * concurrently evaluated rows finish out of order; it fails for the ids in `failing`.
 */
function packFunction(failing: ReadonlySet<number> = new Set()) {
  const calls = new Map<number, number>();
  const fn: UserDefinedFunction = {
    arguments: { min: 1, max: 1 },
    async apply(id) {
      const n = Number(id);
      calls.set(n, (calls.get(n) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, (n * 7) % 5));
      if (failing.has(n)) throw new Error(`pack failed on row ${n}`);
      return { id: n, twice: n * 2, label: `row ${n}` };
    },
  };
  return { fn, calls };
}

function setup(sql: string, rows: number, failing?: ReadonlySet<number>) {
  const pack = packFunction(failing);
  const functions = { pack: pack.fn, [STRUCT_FIELD]: { arguments: { min: 2, max: 2 }, apply: structField.apply } as UserDefinedFunction };
  const statement = parseSql({ query: sql, functions });
  rewriteStructAccess(statement);
  const tables = { t: table(rows) };
  const plan = planSql({ query: statement, functions, tables });
  return { plan, functions, tables, calls: pack.calls };
}

async function collect(plan: QueryPlan, context: ExecuteContext): Promise<{ columns: string[]; rows: Row[] }> {
  const results = executePlan({ plan, context });
  const rows: Row[] = [];
  for await (const row of results.rows()) {
    const values: Row = {};
    for (const name of results.columns) values[name] = await row.cells[name]!();
    rows.push(values);
  }
  return { columns: results.columns, rows };
}

/** The same query run by the engine as planned and through the memo, with each one's calls of pack per row. */
async function both(sql: string, rows = 40) {
  const engine = setup(sql, rows);
  const plain = await collect(engine.plan, { tables: engine.tables, functions: engine.functions });
  const memo = setup(sql, rows);
  const context: ExecuteContext = { tables: { ...memo.tables }, functions: memo.functions };
  const memoized = await collect(memoizeProjections(memo.plan, context), context);
  return { plain, memoized, plainCalls: engine.calls, memoCalls: memo.calls };
}

describe("memoized projections", () => {
  it("give the engine's columns and rows, decoding each row once where the engine decoded once per field read", async () => {
    const { plain, memoized, plainCalls, memoCalls } = await both("SELECT id, d.id AS same, d.twice, d.label AS label FROM (SELECT id, pack(id) AS d FROM t)");
    expect(memoized).toEqual(plain);
    expect(memoized.columns).toEqual(["id", "same", "struct_field_d_twice", "label"]);
    expect(memoized.rows[6]).toEqual({ id: 7, same: 7, struct_field_d_twice: 14, label: "row 7" });
    expect([...plainCalls.values()].every((n) => n === 3)).toBe(true);
    expect(memoCalls.size).toBe(40);
    expect([...memoCalls.values()].every((n) => n === 1)).toBe(true);
  });

  it("keep each row's own value when a WHERE over the computed column evaluates rows concurrently", async () => {
    const { plain, memoized, memoCalls } = await both("SELECT id, d.twice AS twice, d FROM (SELECT id, pack(id) AS d FROM t) WHERE d.twice % 3 = 0", 600);
    expect(memoized).toEqual(plain);
    expect(memoized.rows).toHaveLength(200);
    for (const row of memoized.rows) {
      expect(row.twice).toBe(Number(row.id) * 2);
      expect(row.d).toEqual({ id: row.id, twice: Number(row.id) * 2, label: `row ${row.id}` });
    }
    expect([...memoCalls.values()].every((n) => n === 1)).toBe(true);
  });

  it("change nothing for a lone Project, stars, bare columns and a computed column nobody reads", async () => {
    for (const sql of ["SELECT id, pack(id) AS d FROM t", "SELECT * FROM (SELECT *, pack(id) AS d FROM t)", "SELECT name FROM (SELECT name, pack(id) AS d FROM t)"]) {
      const { plain, memoized, plainCalls, memoCalls } = await both(sql, 10);
      expect(memoized).toEqual(plain);
      expect(memoCalls).toEqual(plainCalls);
    }
    const { memoCalls } = await both("SELECT name FROM (SELECT name, pack(id) AS d FROM t)", 10);
    expect(memoCalls.size).toBe(0);
  });

  it("memoize nested subqueries, each level once per row", async () => {
    const { plain, memoized, memoCalls } = await both("SELECT e.twice AS a, e.label AS b FROM (SELECT d AS e FROM (SELECT pack(id) AS d FROM t))", 12);
    expect(memoized).toEqual(plain);
    expect([...memoCalls.values()].every((n) => n === 1)).toBe(true);
  });

  it("give a failing row its own error, once, and the next rows their own values", async () => {
    const { plan, functions, tables, calls } = setup("SELECT d.twice AS a, d.label AS b FROM (SELECT pack(id) AS d FROM t)", 4, new Set([2]));
    const context: ExecuteContext = { tables: { ...tables }, functions };
    memoizeProjections(plan, context);
    const source = Object.values(context.tables).find((t): t is MemoizedProjection => t instanceof MemoizedProjection)!;
    const seen: unknown[] = [];
    for await (const row of source.scan({}).rows()) {
      const first = row.cells.d!();
      const second = row.cells.d!();
      expect(second).toBe(first);
      seen.push(await first.then((value) => value, (error: Error) => error.message));
    }
    expect(seen).toEqual([
      { id: 1, twice: 2, label: "row 1" },
      "pack failed on row 2",
      { id: 3, twice: 6, label: "row 3" },
      { id: 4, twice: 8, label: "row 4" },
    ]);
    expect([...calls]).toEqual([[1, 1], [2, 1], [3, 1], [4, 1]]);
    await expect(collect(memoizeProjections(plan, context), context)).rejects.toThrow("pack failed on row 2");
  });

  it("leave the plan it was given as the engine planned it", async () => {
    const { plan, functions, tables } = setup("SELECT d.twice AS a FROM (SELECT pack(id) AS d FROM t)", 3);
    const before = JSON.stringify(plan);
    const context: ExecuteContext = { tables: { ...tables }, functions };
    const rewritten = memoizeProjections(plan, context);
    expect(JSON.stringify(plan)).toBe(before);
    expect(rewritten).toMatchObject({ type: "Project", child: { type: "Scan" } });
    expect(Object.keys(tables)).toEqual(["t"]);
  });
});
