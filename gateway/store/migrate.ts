/**
 * `valise migrate`: brings a store's schema up to this Valise's version, or
 * (dry run) says what it would apply. Each migration runs in its own
 * transaction; instances starting at once on PostgreSQL migrate one at a
 * time (advisory lock). Read-only commands never migrate; `valise start`
 * migrates as this does.
 */
import Database from "better-sqlite3";
import pg from "pg";
import { GatewayError } from "../errors.js";
import { redactUrl, storeError } from "./errors.js";
import type { StoreLocation } from "./store.js";
import { migrateSqlite, pendingSqliteMigrations, sqliteSchemaVersion, SQLITE_SCHEMA_VERSION } from "./sqlite/migrate.js";
import { migratePostgres, pendingPostgresMigrations, postgresSchemaVersion, POSTGRES_SCHEMA_VERSION } from "./postgres/migrate.js";

/** What a migration run found and did. */
export interface MigrationReport {
  readonly engine: "sqlite" | "postgres";
  /** Where (a file, or a URL with its password replaced). */
  readonly location: string;
  readonly fromVersion: number;
  readonly toVersion: number;
  /** The migrations applied (or, in a dry run, that would be). */
  readonly migrations: readonly string[];
  readonly dryRun: boolean;
}

/** Applies the missing migrations to the store at `location` (none with `dryRun`). Refuses a newer schema (`STORE_SCHEMA_TOO_NEW`). */
export async function migrateStore(location: StoreLocation, options: { readonly dryRun: boolean }): Promise<MigrationReport> {
  if (location.kind === "sqlite") {
    let db: Database.Database;
    try {
      db = new Database(location.path, { fileMustExist: true });
    } catch (cause) {
      throw new GatewayError("STORE_CORRUPT", `cannot open the database ${location.path}`, { cause });
    }
    try {
      db.pragma("busy_timeout = 5000");
      const fromVersion = sqliteSchemaVersion(db);
      const migrations = (options.dryRun ? pendingSqliteMigrations(db) : migrateSqlite(db)).map((m) => m.name);
      return { engine: "sqlite", location: location.path, fromVersion, toVersion: options.dryRun ? fromVersion : SQLITE_SCHEMA_VERSION, migrations, dryRun: options.dryRun };
    } catch (error) {
      throw storeError(error);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: location.url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (cause) {
    throw new GatewayError("STORE_UNAVAILABLE", `cannot connect to PostgreSQL at ${redactUrl(location.url)}`, { cause });
  }
  try {
    const fromVersion = await postgresSchemaVersion(client);
    const migrations = (options.dryRun ? await pendingPostgresMigrations(client) : await migratePostgres(client)).map((m) => m.name);
    return {
      engine: "postgres",
      location: redactUrl(location.url),
      fromVersion,
      toVersion: options.dryRun ? fromVersion : POSTGRES_SCHEMA_VERSION,
      migrations,
      dryRun: options.dryRun,
    };
  } catch (error) {
    throw storeError(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}
