/**
 * A D1 binding that fails every query, as D1 does when the database is
 * unavailable or overloaded: handed to the Worker in place of env.DB, it
 * makes any endpoint meet a database failure at its first query.
 */
const INJECTED_D1_FAILURE = "D1_ERROR: injected: the database is unavailable";

export function failingD1(): D1Database {
  const fail = (): Promise<never> => Promise.reject(new Error(INJECTED_D1_FAILURE));
  const statement = { bind: () => statement, first: fail, run: fail, all: fail, raw: fail };
  const session = { prepare: () => statement, batch: fail, getBookmark: () => null };
  return { ...session, exec: fail, dump: fail, withSession: () => session } as unknown as D1Database;
}
