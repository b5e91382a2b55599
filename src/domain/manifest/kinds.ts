import { z } from "zod";
import { type ArrowDataType, type ArrowField, arrowDataTypeSchema, arrowFieldSchema } from "../arrow";
import { type DatasetReference, parseDatasetReference } from "../revision";

/**
 * The typed manifest kinds of reference §2.2 and §2.3. Each schema accepts
 * what the original's serde structs accept (defaults filled, unknown keys
 * dropped) and yields the typed value that the canonical form serializes.
 */

const RAW_DATASET_KINDS = ["evm-rpc", "firehose", "eth-beacon"] as const;
export type RawDatasetKind = (typeof RAW_DATASET_KINDS)[number];
export const DERIVED_DATASET_KIND = "manifest";
export type DatasetKind = RawDatasetKind | typeof DERIVED_DATASET_KIND;

export function isDatasetKind(kind: string): kind is DatasetKind {
  return kind === DERIVED_DATASET_KIND || (RAW_DATASET_KINDS as readonly string[]).includes(kind);
}

export interface TableSchema {
  arrow: { fields: ArrowField[] };
}

export interface RawTable {
  schema: TableSchema;
  network: string;
}

export interface RawManifest {
  kind: RawDatasetKind;
  network: string;
  /** A block number; values above 2^53-1 are refused rather than silently rounded. */
  start_block: number;
  finalized_blocks_only: boolean;
  tables: Record<string, RawTable>;
}

export interface DerivedTable {
  input: { sql: string };
  schema: TableSchema;
  network: string;
}

export interface DerivedFunction {
  inputTypes: ArrowDataType[];
  outputType: ArrowDataType;
  source: { source: string; filename: string };
}

export interface DerivedManifest {
  kind: typeof DERIVED_DATASET_KIND;
  dependencies: Record<string, DatasetReference>;
  tables: Record<string, DerivedTable>;
  functions: Record<string, DerivedFunction>;
}

export type Manifest = RawManifest | DerivedManifest;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A JSON object used as a map (a BTreeMap in the original). Built with
 * `Object.fromEntries` so that any key, `__proto__` included, stays an own
 * key and is hashed like every other.
 */
function mapOf<T>(value: z.ZodType<T>, key?: { pattern: RegExp; description: string }) {
  return z.custom<Record<string, unknown>>(isPlainObject, "expected an object").transform((input, ctx) => {
    const entries: [string, T][] = [];
    for (const [name, item] of Object.entries(input)) {
      if (key && !key.pattern.test(name)) {
        ctx.addIssue({ code: "custom", message: `'${name}' is not a valid ${key.description}`, path: [name] });
        continue;
      }
      const parsed = value.safeParse(item);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          ctx.addIssue({ code: "custom", message: issue.message, path: [name, ...issue.path] });
        }
        continue;
      }
      entries.push([name, parsed.data]);
    }
    return Object.fromEntries(entries) as Record<string, T>;
  });
}

const blockNumber = z.number().check((ctx) => {
  if (!Number.isInteger(ctx.value) || ctx.value < 0) {
    ctx.issues.push({ code: "custom", message: "expected an unsigned integer", input: ctx.value });
  } else if (!Number.isSafeInteger(ctx.value)) {
    ctx.issues.push({ code: "custom", message: "block numbers above 2^53-1 are not supported", input: ctx.value });
  }
});

const tableSchema: z.ZodType<TableSchema> = z.object({ arrow: z.object({ fields: z.array(arrowFieldSchema) }) });

const rawTable: z.ZodType<RawTable> = z.object({ schema: tableSchema, network: z.string() });

function rawManifestSchema(kind: RawDatasetKind): z.ZodType<RawManifest> {
  return z.object({
    kind: z.literal(kind),
    network: z.string(),
    start_block: blockNumber.optional().transform((n) => n ?? 0),
    finalized_blocks_only: z
      .boolean()
      .optional()
      .transform((b) => b ?? false),
    tables: mapOf(rawTable),
  });
}

export const rawManifestSchemas: Record<RawDatasetKind, z.ZodType<RawManifest>> = {
  "evm-rpc": rawManifestSchema("evm-rpc"),
  firehose: rawManifestSchema("firehose"),
  "eth-beacon": rawManifestSchema("eth-beacon"),
};

const datasetReference: z.ZodType<DatasetReference, string> = z.string().transform((text, ctx) => {
  const reference = parseDatasetReference(text);
  if (reference) return reference;
  ctx.addIssue({ code: "custom", message: `'${text}' is not a dataset reference '<namespace>/<name>@<version|latest|dev|hash>'` });
  return z.NEVER;
});

/**
 * Table names of derived datasets become SQL identifiers (lowercase ASCII
 * letters, digits, `_`) and segments of R2 keys, hence at most 255 characters.
 */
const DERIVED_TABLE_NAME = { pattern: /^[a-z0-9_]{1,255}$/, description: "table name (1 to 255 lowercase letters, digits, '_')" };

const derivedTable: z.ZodType<DerivedTable> = z.object({
  input: z.object({ sql: z.string() }),
  schema: tableSchema,
  network: z.string(),
});

const derivedFunction: z.ZodType<DerivedFunction> = z.object({
  inputTypes: z.array(arrowDataTypeSchema),
  outputType: arrowDataTypeSchema,
  source: z.object({ source: z.string(), filename: z.string() }),
});

export const derivedManifestSchema: z.ZodType<DerivedManifest> = z.object({
  kind: z.literal(DERIVED_DATASET_KIND),
  dependencies: mapOf(datasetReference)
    .optional()
    .transform((m) => m ?? {}),
  tables: mapOf(derivedTable, DERIVED_TABLE_NAME)
    .optional()
    .transform((m) => m ?? {}),
  functions: mapOf(derivedFunction)
    .optional()
    .transform((m) => m ?? {}),
});
