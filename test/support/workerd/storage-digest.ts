/**
 * A digest of everything the Worker stores: every D1 table's rows (the
 * migrations' bookkeeping and SQLite's own sequence table included) and every
 * R2 object's key, size and ETag. Two equal digests mean nothing changed.
 */
import { env } from "cloudflare:test";

let snapshotQuery: string | undefined;

/**
 * One statement that reads every table as JSON, rows sorted: one round trip,
 * so the fuzzing campaign can take a digest around each of its requests. The
 * migrations set the tables once, before the tests, so it is built once.
 */
async function buildSnapshotQuery(): Promise<string> {
  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
  const tables = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%' ORDER BY name").all<{ name: string }>();
  const parts: string[] = [];
  for (const { name } of tables.results) {
    const columns = await env.DB.prepare("SELECT name FROM pragma_table_info(?) ORDER BY cid").bind(name).all<{ name: string }>();
    const row = `json_array(${columns.results.map((column) => quote(column.name)).join(", ")})`;
    parts.push(`(SELECT json_group_array(r) FROM (SELECT ${row} AS r FROM ${quote(name)} ORDER BY 1)) AS ${quote(name)}`);
  }
  return `SELECT ${parts.join(", ")}`;
}

async function d1Rows(): Promise<unknown> {
  snapshotQuery ??= await buildSnapshotQuery();
  return env.DB.prepare(snapshotQuery).first();
}

async function r2Objects(): Promise<string[]> {
  const objects: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.BUCKET.list({ cursor, limit: 1000 });
    for (const object of page.objects) objects.push(`${object.key} ${object.size} ${object.etag}`);
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor !== undefined);
  return objects;
}

export async function storageDigest(): Promise<string> {
  const text = JSON.stringify([await d1Rows(), await r2Objects()]);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
