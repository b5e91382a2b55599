import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

function connect(d1: D1Database) {
  return drizzle(d1, { schema });
}

export type Db = ReturnType<typeof connect>;

/**
 * One drizzle instance per D1 binding, made on its first use. `drizzle(d1, { schema })` walks the whole schema
 * (extractTablesRelationalConfig) and builds the dialect and session each time: about 0.9 ms of CPU in Node, and
 * every API request, queue batch and runner called it (bench:cpu named drizzle's `is`, `BaseSQLiteDatabase` and
 * `extractTablesRelationalConfig` among the Worker's top self times). The instance holds no I/O of a request, only
 * the binding, so it serves every request of the isolate; a binding that is collected takes its instance with it.
 */
const instances = new WeakMap<D1Database, Db>();

export function openDb(d1: D1Database): Db {
  let db = instances.get(d1);
  if (db === undefined) {
    db = connect(d1);
    instances.set(d1, db);
  }
  return db;
}
