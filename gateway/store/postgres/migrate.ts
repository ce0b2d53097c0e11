/**
 * PostgreSQL migrations: applied versions are rows of `valise_schema`; an
 * advisory lock makes instances that start together migrate one at a time.
 */
import type pg from "pg";
import { loadMigrations, tooNew, type Migration } from "../migrations.js";

const MIGRATIONS: readonly Migration[] = loadMigrations(new URL("./migrations/", import.meta.url));
const MIGRATION_LOCK = 7_361_420_001; // pg_advisory_xact_lock key: "valise migrate"

/** The schema version this code expects of a PostgreSQL database. */
export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length;

/** The schema version of the database `client` is connected to (0 when empty). */
export async function postgresSchemaVersion(client: pg.ClientBase): Promise<number> {
  const table = await client.query("SELECT to_regclass('valise_schema') AS t");
  if (table.rows[0].t === null) return 0;
  const row = await client.query("SELECT COALESCE(MAX(version), 0) AS v FROM valise_schema");
  return Number(row.rows[0].v);
}

/** The migrations the database lacks. */
export async function pendingPostgresMigrations(client: pg.ClientBase): Promise<Migration[]> {
  const current = await postgresSchemaVersion(client);
  if (current > POSTGRES_SCHEMA_VERSION) throw tooNew(current, POSTGRES_SCHEMA_VERSION);
  return MIGRATIONS.slice(current);
}

/** Applies every missing migration, each in its own transaction; returns those applied. */
export async function migratePostgres(client: pg.ClientBase): Promise<Migration[]> {
  const applied: Migration[] = [];
  for (;;) {
    await client.query("BEGIN");
    try {
      await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      await client.query("CREATE TABLE IF NOT EXISTS valise_schema (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
      const next = (await pendingPostgresMigrations(client))[0];
      if (next === undefined) {
        await client.query("COMMIT");
        return applied;
      }
      await client.query(next.sql);
      await client.query("INSERT INTO valise_schema (version, name, applied_at) VALUES ($1, $2, $3)", [next.version, next.name, new Date().toISOString()]);
      await client.query("COMMIT");
      applied.push(next);
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    }
  }
}
