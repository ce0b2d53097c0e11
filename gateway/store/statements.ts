/**
 * Prepared statements, compiled once per database and reused: preparing SQL
 * on every call costs as much as running it on the hot paths.
 */
import type { Statement } from "better-sqlite3";
import type { Db } from "./database.js";

const caches = new WeakMap<Db, Map<string, Statement>>();

/** The prepared statement for `sql` on `db`, compiled on first use. */
export function statement(db: Db, sql: string): Statement {
  let cache = caches.get(db);
  if (cache === undefined) {
    cache = new Map();
    caches.set(db, cache);
  }
  let prepared = cache.get(sql);
  if (prepared === undefined) {
    prepared = db.prepare(sql);
    cache.set(sql, prepared);
  }
  return prepared;
}
