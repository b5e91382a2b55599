import { createRoute, z } from "@hono/zod-openapi";
import { envVariables } from "../env";
import { SqlCatalog } from "../sql/catalog";
import { rowJsonLine } from "../sql/json-lines";
import { qualifiedFunctions } from "../sql/qualified-functions";
import { DEFAULT_QUERY_LIMITS, QueryLimitError, type QueryLimits } from "../sql/query-budget";
import { prepareQuery } from "../sql/sql-query";
import { openDb } from "../store/db";
import type { App } from "./app";
import { ApiError } from "./errors";
import { errorContent, readRouteErrors } from "./responses";
import { sqlApiError } from "./sql-errors";
import { readTextBody } from "./validation";

const limit = (max: number, what: string) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(max)
    .optional()
    .openapi({ description: `Lower ${what} for this query (default and maximum ${max})` });

const QueryParamsSchema = z.object({
  strings: z
    .enum(["true", "false"])
    .optional()
    .openapi({ description: "true: 64-bit integers beyond ±2^53 and all decimals as JSON strings, which JavaScript's JSON.parse would round" }),
  max_bytes: limit(DEFAULT_QUERY_LIMITS.maxBytes, "the Parquet bytes the query may read"),
  max_rows: limit(DEFAULT_QUERY_LIMITS.maxOutputRows, "the rows the query may return"),
  max_scanned_rows: limit(DEFAULT_QUERY_LIMITS.maxScannedRows, "the rows the query may scan"),
});

const QueryJsonSchema = z.object({ sql: z.string() }).openapi("QueryRequest");

const queryRoute = createRoute({
  method: "post",
  path: "/query",
  tags: ["query"],
  operationId: "query",
  summary: "Run a SQL query over the registered datasets' tables; rows as JSON Lines",
  description:
    "The SQL is the body (`text/plain`, or JSON `{\"sql\": ...}`). Tables are schema-qualified as in derived SQL: `eth_rpc.logs` " +
    "(namespace `_`, latest version) or `\"ns/name@1.0.0\".logs`. The answer is one JSON object per row, with the original " +
    "JSON Lines server's encodings (binary as hex without 0x, NULL columns left out). The whole answer is computed before " +
    "it is sent, so a failure is always an ErrorResponse with its status. The read token is enough.",
  request: {
    query: QueryParamsSchema,
    body: {
      required: true,
      content: { "text/plain": { schema: z.string() }, "application/json": { schema: QueryJsonSchema } },
    },
  },
  responses: {
    200: { description: "One JSON object per row", content: { "application/x-ndjson": { schema: z.string() } } },
    400: errorContent(
      "Empty body (INVALID_SQL_STRING), bad SQL (SQL_PARSE_ERROR, INVALID_PLAN, CATALOG_QUALIFIED_TABLE, TABLE_REFERENCE_RESOLUTION, FUNCTION_REFERENCE_RESOLUTION), a failure while running (QUERY_ERROR), bad parameters (INVALID_QUERY_PARAMETERS)",
    ),
    404: errorContent("Unknown dataset (DATASET_NOT_FOUND) or table (TABLE_NOT_FOUND)"),
    413: errorContent("A limit passed, named in the message (QUERY_LIMIT_EXCEEDED)"),
    ...readRouteErrors,
  },
});

async function querySql(request: Request): Promise<string> {
  const text = await readTextBody(request, "INVALID_SQL_STRING");
  if (!/^application\/([a-z0-9.+-]+\+)?json\s*(;.*)?$/i.test(request.headers.get("content-type") ?? "")) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ApiError("INVALID_SQL_STRING", "a JSON body must be {\"sql\": \"...\"}");
  }
  const body = QueryJsonSchema.safeParse(parsed);
  if (!body.success) throw new ApiError("INVALID_SQL_STRING", "a JSON body must be {\"sql\": \"...\"}");
  return body.data.sql;
}

export function registerQueryRoutes(app: App): void {
  // Documented, but validated here: the body is text or JSON, and zod-openapi would parse every body as JSON.
  app.openAPIRegistry.registerPath(queryRoute);
  app.post("/query", async (c) => {
    const parsedParams = QueryParamsSchema.safeParse(c.req.query());
    if (!parsedParams.success) {
      throw new ApiError("INVALID_QUERY_PARAMETERS", `invalid query: ${parsedParams.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    }
    const params = parsedParams.data;
    const sql = await querySql(c.req.raw);
    if (sql.trim() === "") throw new ApiError("INVALID_SQL_STRING", "the query is empty");
    const limits: QueryLimits = {
      ...DEFAULT_QUERY_LIMITS,
      maxBytes: params.max_bytes ?? DEFAULT_QUERY_LIMITS.maxBytes,
      maxOutputRows: params.max_rows ?? DEFAULT_QUERY_LIMITS.maxOutputRows,
      maxScannedRows: params.max_scanned_rows ?? DEFAULT_QUERY_LIMITS.maxScannedRows,
    };
    const db = openDb(c.env.DB);
    const catalog = new SqlCatalog(db, c.env.BUCKET);
    const options = { bigNumbersAsStrings: params.strings === "true" };
    const lines: string[] = [];
    try {
      const prepared = await prepareQuery(sql, {
        catalog,
        bucket: c.env.BUCKET,
        limits,
        qualifiedFunction: qualifiedFunctions(db, catalog, envVariables(c.env)),
      });
      let bytes = 0;
      for await (const row of prepared.rows()) {
        const line = rowJsonLine(row, prepared.fields, options);
        bytes += line.length;
        if (bytes > limits.maxResultBytes) {
          throw new QueryLimitError("maxResultBytes", limits.maxResultBytes, `the answer is larger than ${limits.maxResultBytes} bytes; add a LIMIT`);
        }
        lines.push(line);
      }
    } catch (error) {
      throw sqlApiError(error, "query");
    }
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = lines.splice(0, 256);
        if (next.length === 0) controller.close();
        else controller.enqueue(encoder.encode(next.join("")));
      },
    });
    return new Response(body, { status: 200, headers: { "content-type": "application/x-ndjson" } });
  });
}
