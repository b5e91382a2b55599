/** squirreling's expression evaluator and binary operators, which its package does not export by name (see parquet-table.ts, scan-filter.ts). */
declare module "squirreling/src/expression/evaluate.js" {
  import type { AsyncRow, ExecuteContext, ExprNode, SqlPrimitive } from "squirreling";

  export function evaluateExpr(options: { node: ExprNode; row: AsyncRow; rowIndex?: number; context: ExecuteContext }): Promise<SqlPrimitive>;
}

/** squirreling's binary operators (comparison semantics: NULL compares false, `==` for equality). */
declare module "squirreling/src/expression/binary.js" {
  import type { SqlPrimitive } from "squirreling";
  import type { BinaryOp } from "squirreling/src/ast.js";

  export function applyBinaryOp(op: BinaryOp, a: SqlPrimitive, b: SqlPrimitive): SqlPrimitive;
}
