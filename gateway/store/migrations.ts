/**
 * Numbered SQL migrations, one folder per engine (`sqlite/migrations`,
 * `postgres/migrations`): `NNN-what-it-does.sql`, applied in order, each in
 * its own transaction. The engines number their migrations independently.
 */
import { readdirSync, readFileSync } from "node:fs";
import { GatewayError } from "../errors.js";

/** What opening a store does with a schema older than the code's. */
export type MigrationMode = "apply" | "refuse";

/** One migration file. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The migrations in `dir`, checked to be numbered 1, 2, 3, … without gaps. */
export function loadMigrations(dir: URL): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => /^\d{3}-[a-z0-9-]+\.sql$/.test(file))
    .sort()
    .map((file) => ({ version: Number(file.slice(0, 3)), name: file, sql: readFileSync(new URL(file, dir), "utf8") }));
  migrations.forEach((migration, i) => {
    if (migration.version !== i + 1) throw new Error(`migration ${migration.name} is out of sequence`);
  });
  return migrations;
}

/** The database is newer than this code. */
export function tooNew(found: number, known: number): GatewayError {
  return new GatewayError("STORE_SCHEMA_TOO_NEW", `the database has schema version ${found}, newer than this Valise knows (${known}); upgrade Valise`, {
    details: { databaseVersion: found, knownVersion: known },
  });
}

/** The database is older than this code and the command may not migrate it. */
export function tooOld(found: number, known: number): GatewayError {
  return new GatewayError("STORE_SCHEMA_OLD", `the database has schema version ${found}, older than this Valise's ${known}; run valise migrate`, {
    details: { databaseVersion: found, knownVersion: known },
  });
}
