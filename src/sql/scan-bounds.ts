/**
 * What a scan's WHERE says about the rows it can match, for pruning files and
 * row groups: the `_block_num` range its top-level conjunctions allow, and
 * the columns they pin to one literal (`address = 0x…`). Anything else (OR,
 * functions, comparisons between columns) prunes nothing; the engine still
 * filters every row, so a bound here only ever skips rows that cannot match.
 */
import type { ExprNode } from "squirreling";

export interface ColumnBounds {
  /** Inclusive integer ranges per column. */
  ranges: Map<string, { start: number; end: number }>;
  /** Columns equal to a literal. */
  equals: Map<string, string | bigint | number>;
}

/** The top-level AND operands of a condition, in order. */
export function conjuncts(node: ExprNode | undefined, out: ExprNode[] = []): ExprNode[] {
  if (!node) return out;
  if (node.type === "binary" && node.op === "AND") {
    conjuncts(node.left, out);
    conjuncts(node.right, out);
  } else out.push(node);
  return out;
}

const FLIP: Record<string, string> = { "<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "==": "=" };

function literalOf(node: ExprNode): string | bigint | number | null {
  if (node.type !== "literal") return null;
  const value = node.value;
  return typeof value === "string" || typeof value === "bigint" || typeof value === "number" ? value : null;
}

export function scanBounds(where: ExprNode | undefined): ColumnBounds {
  const ranges = new Map<string, { start: number; end: number }>();
  const equals = new Map<string, string | bigint | number>();
  for (const node of conjuncts(where, [])) {
    if (node.type !== "binary") continue;
    let column: string;
    let value: string | bigint | number | null;
    let op: string | undefined = node.op;
    if (node.left.type === "identifier" && (value = literalOf(node.right)) !== null) column = node.left.name;
    else if (node.right.type === "identifier" && (value = literalOf(node.left)) !== null) {
      column = node.right.name;
      op = FLIP[node.op];
    } else continue;
    if (op === undefined) continue;
    if (op === "=" || op === "==") equals.set(column, value);
    if (typeof value === "string") continue;
    const n = Number(value);
    if (!Number.isFinite(n)) continue;
    const range = ranges.get(column) ?? { start: 0, end: Number.MAX_SAFE_INTEGER };
    if (op === "=" || op === "==") {
      range.start = Math.max(range.start, Math.ceil(n));
      range.end = Math.min(range.end, Math.floor(n));
    } else if (op === ">=") range.start = Math.max(range.start, Math.ceil(n));
    else if (op === ">") range.start = Math.max(range.start, Math.floor(n) + 1);
    else if (op === "<=") range.end = Math.min(range.end, Math.floor(n));
    else if (op === "<") range.end = Math.min(range.end, Math.ceil(n) - 1);
    else continue;
    ranges.set(column, range);
  }
  return { ranges, equals };
}
