import { createRoute, z } from "@hono/zod-openapi";
import { type DatasetReference, parseDatasetReference } from "../domain/revision";
import { SqlCatalog } from "../sql/catalog";
import { BLOCK_NUM_OUTPUT, DEPENDENCY_ALIAS, inferDerivedSchemas } from "../sql/derived-schema";
import { DEFAULT_QUERY_LIMITS } from "../sql/query-budget";
import { planQuery } from "../sql/sql-query";
import { schemaField, type SqlField } from "../sql/sql-types";
import { openDb } from "../store/db";
import type { App } from "./app";
import { ApiError } from "./errors";
import { errorContent, jsonContent, readRouteErrors } from "./responses";
import { sqlApiError } from "./sql-errors";
import { jsonBody, validationHook } from "./validation";

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,254}$/;

const nonBlankSql = z.string().refine((sql) => sql.trim() !== "", "the SQL must not be empty");

/** `ns/name@<semver or hash>`: `latest` and `dev` move, so a dependency cannot pin them. */
const DependencyReferenceSchema = z.string().transform((text, ctx): DatasetReference => {
  const reference = parseDatasetReference(text);
  if (!reference || (reference.revision.kind !== "version" && reference.revision.kind !== "hash")) {
    ctx.addIssue({ code: "custom", message: `'${text}' is not '<namespace>/<name>@<version or hash>'` });
    return z.NEVER;
  }
  return reference;
});

const keyed = <T extends z.ZodType>(pattern: RegExp, what: string, value: T) =>
  z.record(z.string().regex(pattern, `not a valid ${what}`), value).optional();

const SchemaRequestSchema = z
  .union([
    z.strictObject({
      sql_query: nonBlankSql.openapi({ description: "One SQL statement (the original's request, fc)" }),
      is_sql_dataset: z.boolean().optional().openapi({ description: "true: `_block_num UInt64 NOT NULL` first, as a derived table's files have it" }),
    }),
    z.strictObject({
      tables: keyed(TABLE_NAME, "table name", nonBlankSql).openapi({ description: "Table name → its SQL" }),
      dependencies: keyed(DEPENDENCY_ALIAS, "dependency alias", DependencyReferenceSchema).openapi({ description: "Alias → `ns/name@<version|hash>`" }),
      functions: keyed(FUNCTION_NAME, "function name", z.unknown()).openapi({ description: "JS functions by name (accepted, not type-checked here)" }),
    }),
  ])
  .openapi("SchemaRequest");

const ArrowSchemaSchema = z.object({ arrow: z.object({ fields: z.array(z.object({ name: z.string(), type: z.unknown(), nullable: z.boolean() })) }) });

const SchemaResponseSchema = z
  .union([
    z.object({ schema: ArrowSchemaSchema, networks: z.array(z.string()) }),
    z.object({ schemas: z.record(z.string(), ArrowSchemaSchema) }),
  ])
  .openapi("SchemaResponse");

const schemaRoute = createRoute({
  method: "post",
  path: "/schema",
  tags: ["schema"],
  operationId: "schema_analyze",
  summary: "Infer the output schema of SQL over registered datasets",
  description:
    "Two request shapes: `{sql_query, is_sql_dataset}` → `{schema, networks}` (tables named `dataset.table`, resolved in the registry), " +
    "and `{tables, dependencies, functions}` → `{schemas}` (tables named `alias.table` or `self.table`; each must be incremental). " +
    "Nothing is read but the catalog; the sources need not be synced. The read token is enough.",
  middleware: [jsonBody("INVALID_PAYLOAD_FORMAT")] as const,
  request: { body: { required: true, content: { "application/json": { schema: SchemaRequestSchema } } } },
  responses: {
    200: jsonContent(SchemaResponseSchema, "The inferred Arrow fields"),
    400: errorContent(
      "INVALID_PAYLOAD_FORMAT, EMPTY_TABLES_AND_FUNCTIONS, INVALID_TABLE_SQL, CATALOG_QUALIFIED_TABLE, TABLE_REFERENCE_RESOLUTION, NO_TABLE_REFERENCES, SELF_REFERENCING_TABLE, SELF_REF_TABLE_NOT_FOUND, CYCLIC_DEPENDENCY, NON_INCREMENTAL_QUERY, INVALID_PLAN, SCHEMA_INFERENCE",
    ),
    404: errorContent("A dependency's version or hash is not registered (DEPENDENCY_NOT_FOUND)"),
    ...readRouteErrors,
  },
});

function arrowSchema(fields: readonly SqlField[]) {
  return { arrow: { fields: fields.map(schemaField) } };
}

export function registerSchemaRoutes(app: App): void {
  app.openapi(
    schemaRoute,
    async (c) => {
      const body = c.req.valid("json");
      const db = openDb(c.env.DB);
      try {
        if ("sql_query" in body) {
          const planned = await planQuery(body.sql_query, { catalog: new SqlCatalog(db, c.env.BUCKET), bucket: c.env.BUCKET, limits: DEFAULT_QUERY_LIMITS });
          const fields = body.is_sql_dataset ? [BLOCK_NUM_OUTPUT, ...planned.fields.filter((f) => f.name !== BLOCK_NUM_OUTPUT.name)] : planned.fields;
          const networks = [...new Set([...planned.sources.values()].map((source) => source.network))].sort();
          return c.json({ schema: arrowSchema(fields), networks }, 200);
        }
        const tables = body.tables ?? {};
        if (Object.keys(tables).length === 0) {
          if (Object.keys(body.functions ?? {}).length === 0) throw new ApiError("EMPTY_TABLES_AND_FUNCTIONS", "give at least one table or function");
          return c.json({ schemas: {} }, 200);
        }
        const schemas = await inferDerivedSchemas(db, c.env.BUCKET, { tables, dependencies: body.dependencies ?? {} });
        return c.json({ schemas: Object.fromEntries(Object.entries(schemas).map(([name, fields]) => [name, arrowSchema(fields)])) }, 200);
      } catch (error) {
        throw sqlApiError(error, "schema");
      }
    },
    validationHook({ json: "INVALID_PAYLOAD_FORMAT" }),
  );
}
