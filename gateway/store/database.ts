/**
 * The gateway's SQLite database (better-sqlite3): WAL, `synchronous=FULL`,
 * numbered SQL migrations in `./migrations`, schema version in
 * `PRAGMA user_version`, checked at every open. The files are mode 0600.
 */
import { chmodSync, closeSync, fchmodSync, openSync, readdirSync, readFileSync } from "node:fs";
import Database from "better-sqlite3";
import { GatewayError } from "../errors.js";

/** An open gateway database. */
export type Db = Database.Database;

const MIGRATIONS_DIR = new URL("./migrations/", import.meta.url);

/** A migration file: `NNN-what-it-does.sql`. */
interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

function loadMigrations(): Migration[] {
  const migrations = readdirSync(MIGRATIONS_DIR)
    .filter((file) => /^\d{3}-[a-z0-9-]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 3)),
      name: file,
      sql: readFileSync(new URL(file, MIGRATIONS_DIR), "utf8"),
    }));
  migrations.forEach((migration, i) => {
    if (migration.version !== i + 1) throw new Error(`migration ${migration.name} is out of sequence`);
  });
  return migrations;
}

/** The schema version this code expects. */
export const SCHEMA_VERSION = loadMigrations().length;

/**
 * Opens (creating if needed) and migrates the database at `path`.
 * Refuses a database written by a newer Valise (`STORE_SCHEMA_TOO_NEW`) or
 * a file that is not a Valise database (`STORE_CORRUPT`).
 */
export function openDatabase(path: string): Db {
  let db: Db;
  try {
    ownerOnly(path);
    db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 5000");
  } catch (cause) {
    throw new GatewayError("STORE_CORRUPT", `cannot open the database ${path}`, { cause });
  }
  try {
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/**
 * The database holds token hashes, case metadata, receipts and the keys of
 * evidence items: readable by the gateway's user only, like the private keys
 * (0600), whatever the umask. The file is created so before SQLite opens it;
 * SQLite gives its -wal and -shm files the database's mode, and an older
 * database (and its companions) is narrowed here.
 */
function ownerOnly(path: string): void {
  const fd = openSync(path, "a", 0o600);
  try {
    fchmodSync(fd, 0o600);
  } finally {
    closeSync(fd);
  }
  for (const companion of [`${path}-wal`, `${path}-shm`]) {
    try {
      chmodSync(companion, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
}

function migrate(db: Db): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new GatewayError(
      "STORE_SCHEMA_TOO_NEW",
      `the database has schema version ${current}, newer than this Valise knows (${SCHEMA_VERSION}); upgrade Valise`,
      { details: { databaseVersion: current, knownVersion: SCHEMA_VERSION } },
    );
  }
  for (const migration of loadMigrations().slice(current)) {
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
}
