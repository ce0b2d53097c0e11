/** SQLite migrations: the schema version is `PRAGMA user_version`. */
import type Database from "better-sqlite3";
import { loadMigrations, tooNew, type Migration } from "../migrations.js";

const MIGRATIONS: readonly Migration[] = loadMigrations(new URL("./migrations/", import.meta.url));

/** The schema version this code expects of a SQLite database. */
export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

/** The schema version of `db`. */
export function sqliteSchemaVersion(db: Database.Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

/** The migrations `db` lacks (none applied). */
export function pendingSqliteMigrations(db: Database.Database): Migration[] {
  const current = sqliteSchemaVersion(db);
  if (current > SQLITE_SCHEMA_VERSION) throw tooNew(current, SQLITE_SCHEMA_VERSION);
  return MIGRATIONS.slice(current);
}

/** Applies every missing migration, each in its own transaction; returns those applied. */
export function migrateSqlite(db: Database.Database): Migration[] {
  const pending = pendingSqliteMigrations(db);
  for (const migration of pending) {
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
  return pending;
}
