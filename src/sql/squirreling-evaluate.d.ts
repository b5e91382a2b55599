/** squirreling's expression evaluator, which its package does not export by name (see parquet-table.ts). */
declare module "squirreling/src/expression/evaluate.js" {
  import type { AsyncRow, ExecuteContext, ExprNode, SqlPrimitive } from "squirreling";

  export function evaluateExpr(options: { node: ExprNode; row: AsyncRow; rowIndex?: number; context: ExecuteContext }): Promise<SqlPrimitive>;
}
