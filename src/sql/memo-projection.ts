/**
 * A plan rewrite so that a computed column of a subquery is evaluated once per row, however often the query
 * above reads it.
 *
 * squirreling's Project gives each computed column a cell `() => evaluateExpr(...)` that evaluates again on
 * every call, and an outer query calls it once per reference: `decoded."from"`, `decoded."to"` and
 * `decoded.value` over `evm_decode_log(...) AS decoded` decoded the log three times, each time evaluating its five
 * arguments anew. So every Project below the plan's root that computes a column becomes a Scan of a data source
 * (squirreling's own extension point) that runs that Project and hands its rows on with each computed cell
 * memoized for that row alone: a row's cells object is its own, so no value (nor a failure) can reach another
 * row. A struct field the Project right above reads (`struct_field(decoded, 'value')`, struct-fields.ts) becomes
 * a plain column of that source, so the outer Project copies the cell instead of evaluating a function per row.
 *
 * Only execution changes: column names, types and the plan's scans (for the byte limit) are those of the
 * engine's plan, which the caller keeps.
 */
import { type AsyncCells, type AsyncDataSource, type AsyncRow, derivedAlias, type ExecuteContext, executePlan, type ExprNode, type QueryPlan, type ScanOptions, type ScanResults } from "squirreling";
import { STRUCT_FIELD, structField } from "./struct-fields";

type ProjectNode = Extract<QueryPlan, { type: "Project" }>;
type ScanNode = Extract<QueryPlan, { type: "Scan" }>;
type SelectColumn = ProjectNode["columns"][number];

/** A column name no parsed identifier can have (NUL), for a struct field exposed as a column. */
function fieldColumn(struct: string, field: string): string {
  return `\u0000${struct}\u0000${field}`;
}

/** The output names of a Project's computed columns (neither `*` nor a bare column). */
function computedColumns(project: ProjectNode): Set<string> {
  const names = new Set<string>();
  for (const column of project.columns) {
    if (column.type === "derived" && column.expr.type !== "identifier") names.add(column.alias ?? derivedAlias(column.expr));
  }
  return names;
}

/** A Project's rows with each computed cell evaluated at most once per row, and the struct fields asked for as cells. */
export class MemoizedProjection implements AsyncDataSource {
  readonly columns: string[];
  /** Struct columns and the fields of them the query above reads as columns. */
  readonly fields = new Map<string, Set<string>>();

  constructor(
    readonly project: ProjectNode,
    private readonly context: ExecuteContext,
    readonly computed: ReadonlySet<string>,
  ) {
    this.columns = executePlan({ plan: project, context }).columns;
  }

  scan(options: ScanOptions): ScanResults {
    const results = executePlan({ plan: this.project, context: options.signal ? { ...this.context, signal: options.signal } : this.context });
    const computed = [...this.computed];
    const fields = [...this.fields].flatMap(([struct, names]) => [...names].map((field) => ({ struct, field, column: fieldColumn(struct, field) })));
    return {
      appliedWhere: false,
      appliedLimitOffset: false,
      async *rows(): AsyncGenerator<AsyncRow> {
        for await (const row of results.rows()) {
          // The row and its cells object were made for this row by the Project: the memo lives and dies with it.
          const cells: AsyncCells = row.cells;
          for (const name of computed) {
            const evaluate = cells[name]!;
            let value: ReturnType<typeof evaluate> | undefined;
            cells[name] = () => (value ??= evaluate());
          }
          for (const { struct, field, column } of fields) {
            const whole = cells[struct]!;
            cells[column] = async () => structField.apply((await whole()) as never, field) as never;
          }
          yield row;
        }
      },
    };
  }
}

/** `struct_field(<column of source>, '<literal>')`: the column and the field, else null. */
function structFieldOf(expr: ExprNode, source: MemoizedProjection): { struct: string; field: string } | null {
  if (expr.type !== "function" || expr.funcName.toLowerCase() !== STRUCT_FIELD || expr.args.length !== 2) return null;
  const [struct, field] = expr.args;
  if (struct?.type !== "identifier" || struct.prefix !== undefined || !source.computed.has(struct.name)) return null;
  if (field?.type !== "literal" || typeof field.value !== "string") return null;
  return { struct: struct.name, field: field.value };
}

/** The source a node's rows come from unchanged (through filters), when it is a memoized projection. */
function memoBelow(node: QueryPlan, tables: Record<string, AsyncDataSource>): MemoizedProjection | null {
  if (node.type === "Filter") return memoBelow(node.child, tables);
  if (node.type !== "Scan") return null;
  const table = tables[node.table];
  return table instanceof MemoizedProjection ? table : null;
}

/** A Project reading struct fields of a memoized source, reading them as that source's columns instead. */
function readFieldsAsColumns(project: ProjectNode, tables: Record<string, AsyncDataSource>): ProjectNode {
  const source = memoBelow(project.child, tables);
  if (!source) return project;
  const columns = project.columns.map((column): SelectColumn => {
    if (column.type !== "derived") return column;
    const access = structFieldOf(column.expr, source);
    if (!access) return column;
    let names = source.fields.get(access.struct);
    if (!names) source.fields.set(access.struct, (names = new Set()));
    names.add(access.field);
    const { positionStart, positionEnd } = column.expr;
    return { ...column, alias: column.alias ?? derivedAlias(column.expr), expr: { type: "identifier", name: fieldColumn(access.struct, access.field), positionStart, positionEnd } };
  });
  return { ...project, columns };
}

/**
 * The plan to execute: every Project below the root that computes a column read through a MemoizedProjection
 * registered in `context.tables`. The plan given is not changed.
 */
export function memoizeProjections(plan: QueryPlan, context: ExecuteContext): QueryPlan {
  let memoCount = 0;
  const rewrite = (node: QueryPlan, isRoot: boolean): QueryPlan => {
    const copy = { ...node } as Record<string, unknown>;
    for (const key of ["child", "left", "right"] as const) {
      const child = copy[key] as QueryPlan | undefined;
      if (child && typeof child === "object" && typeof child.type === "string") copy[key] = rewrite(child, false);
    }
    let out = copy as unknown as QueryPlan;
    if (out.type === "Project") out = readFieldsAsColumns(out, context.tables);
    if (isRoot || out.type !== "Project") return out;
    const computed = computedColumns(out);
    if (computed.size === 0) return out;
    const table = `\u0000memo${++memoCount}`;
    context.tables[table] = new MemoizedProjection(out, context, computed);
    const scan: ScanNode = { type: "Scan", table, hints: {} };
    return scan;
  };
  return rewrite(plan, true);
}
