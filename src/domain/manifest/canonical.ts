import type { ArrowDataType, ArrowField } from "../arrow";
import { formatDatasetReference } from "../revision";
import type { DerivedManifest, Manifest, RawManifest, TableSchema } from "./kinds";

/**
 * The canonical form of reference §2.4: what `serde_json::to_string` makes of
 * the typed manifest. Compact; struct keys in declaration order; maps sorted
 * by key in byte order; serde_json's string escaping. Its sha256 is the
 * manifest hash.
 */

/** serde_json escapes `"`, `\` and control characters only; `/` and non-ASCII stay as they are. */
export function jsonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) out += '\\"';
    else if (code === 0x5c) out += "\\\\";
    else if (code >= 0x20) out += text[i];
    else if (code === 0x0a) out += "\\n";
    else if (code === 0x0d) out += "\\r";
    else if (code === 0x09) out += "\\t";
    else if (code === 0x08) out += "\\b";
    else if (code === 0x0c) out += "\\f";
    else out += `\\u${code.toString(16).padStart(4, "0")}`;
  }
  return `${out}"`;
}

/** Rust's `String` order: UTF-8 bytes, which is code point order (UTF-16 units differ above U+FFFF). */
export function compareKeys(a: string, b: string): number {
  const left = Array.from(a, (ch) => ch.codePointAt(0) ?? 0);
  const right = Array.from(b, (ch) => ch.codePointAt(0) ?? 0);
  const length = Math.min(left.length, right.length);
  for (let i = 0; i < length; i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}

/** An object whose members are already JSON text, in the order given. */
function object(members: [string, string][]): string {
  return `{${members.map(([key, value]) => `${jsonString(key)}:${value}`).join(",")}}`;
}

function sortedMap<T>(map: Record<string, T>, value: (item: T) => string): string {
  const keys = Object.keys(map).sort(compareKeys);
  return object(keys.map((key) => [key, value(map[key] as T)]));
}

function array<T>(items: readonly T[], value: (item: T) => string): string {
  return `[${items.map(value).join(",")}]`;
}

/** Integers as serde prints them; the manifest schemas only admit safe integers. */
function integer(n: number): string {
  return String(n);
}

/** arrow-rs serde form: unit variants as strings, tuple variants as one-key objects. */
export function canonicalDataType(type: ArrowDataType): string {
  if (typeof type === "string") return jsonString(type);
  const [variant, payload] = Object.entries(type)[0] as [string, unknown];
  return object([[variant, canonicalPayload(payload)]]);
}

function canonicalPayload(payload: unknown): string {
  if (Array.isArray(payload)) return array(payload, canonicalPayload);
  if (typeof payload === "number") return integer(payload);
  if (typeof payload === "string") return jsonString(payload);
  return "null";
}

function canonicalField(field: ArrowField): string {
  return object([
    ["name", jsonString(field.name)],
    ["type", canonicalDataType(field.type)],
    ["nullable", String(field.nullable)],
  ]);
}

function canonicalTableSchema(schema: TableSchema): string {
  return object([["arrow", object([["fields", array(schema.arrow.fields, canonicalField)]])]]);
}

function canonicalRaw(manifest: RawManifest): string {
  return object([
    ["kind", jsonString(manifest.kind)],
    ["network", jsonString(manifest.network)],
    ["start_block", integer(manifest.start_block)],
    ["finalized_blocks_only", String(manifest.finalized_blocks_only)],
    [
      "tables",
      sortedMap(manifest.tables, (table) =>
        object([
          ["schema", canonicalTableSchema(table.schema)],
          ["network", jsonString(table.network)],
        ]),
      ),
    ],
  ]);
}

function canonicalDerived(manifest: DerivedManifest): string {
  return object([
    ["kind", jsonString(manifest.kind)],
    ["dependencies", sortedMap(manifest.dependencies, (reference) => jsonString(formatDatasetReference(reference)))],
    [
      "tables",
      sortedMap(manifest.tables, (table) =>
        object([
          ["input", object([["sql", jsonString(table.input.sql)]])],
          ["schema", canonicalTableSchema(table.schema)],
          ["network", jsonString(table.network)],
        ]),
      ),
    ],
    [
      "functions",
      sortedMap(manifest.functions, (fn) =>
        object([
          ["inputTypes", array(fn.inputTypes, canonicalDataType)],
          ["outputType", canonicalDataType(fn.outputType)],
          [
            "source",
            object([
              ["source", jsonString(fn.source.source)],
              ["filename", jsonString(fn.source.filename)],
            ]),
          ],
        ]),
      ),
    ],
  ]);
}

export function canonicalManifestJson(manifest: Manifest): string {
  return manifest.kind === "manifest" ? canonicalDerived(manifest) : canonicalRaw(manifest);
}

/** Lowercase hex sha256 of the canonical JSON's UTF-8 bytes. */
export async function manifestHash(canonical: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
