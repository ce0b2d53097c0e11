/**
 * The embedded engine: SQLite through better-sqlite3, WAL, `synchronous=FULL`.
 *
 * Writes go through group commit: transactions queued in the same turn of
 * the event loop run one after the other inside one `BEGIN IMMEDIATE …
 * COMMIT`, each in its own savepoint (one failing transaction rolls back
 * alone), and each promise settles only after the shared COMMIT has returned,
 * i.e. once the data is on disk. With `synchronous=FULL` one commit per
 * envelope would cap the gateway at the disk's fsync rate; one per batch
 * does not. A transaction's work must not wait on anything but the store
 * (no network, no timers): the whole batch waits for it.
 *
 * Reads outside a transaction use a second, read-only connection, which sees
 * only committed data (WAL snapshots), never a batch in progress.
 */
import { chmodSync, closeSync, fchmodSync, openSync } from "node:fs";
import Database from "better-sqlite3";
import type { Statement } from "better-sqlite3";
import { GatewayError } from "../../errors.js";
import { storeError } from "../errors.js";
import type { Sql, SqlRunResult, SqlValue } from "../sql.js";
import { migrateSqlite, sqliteSchemaVersion, SQLITE_SCHEMA_VERSION } from "./migrate.js";
import { tooNew, tooOld, type MigrationMode } from "../migrations.js";

interface Pending {
  readonly work: (sql: Sql) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Statements on one better-sqlite3 connection, prepared once and reused. */
class SqliteSql implements Sql {
  readonly dialect = "sqlite" as const;
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Statement>();

  constructor(db: Database.Database) {
    this.#db = db;
  }

  #statement(sql: string): Statement {
    let prepared = this.#statements.get(sql);
    if (prepared === undefined) {
      prepared = this.#db.prepare(sql);
      this.#statements.set(sql, prepared);
    }
    return prepared;
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    try {
      return Promise.resolve(this.#statement(sql).all(...params) as T[]);
    } catch (error) {
      return Promise.reject(storeError(error));
    }
  }

  get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    try {
      return Promise.resolve(this.#statement(sql).get(...params) as T | undefined);
    } catch (error) {
      return Promise.reject(storeError(error));
    }
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<SqlRunResult> {
    try {
      return Promise.resolve({ changes: this.#statement(sql).run(...params).changes });
    } catch (error) {
      return Promise.reject(storeError(error));
    }
  }
}

/** A SQLite database file opened for the gateway or a CLI command. */
export class SqliteEngine {
  readonly #writer: Database.Database;
  readonly #reader: Database.Database;
  readonly #writeSql: SqliteSql;
  readonly #readSql: SqliteSql;
  readonly #maxBatch: number;
  #queue: Pending[] = [];
  #scheduled = false;
  #idle: Array<() => void> = [];

  private constructor(writer: Database.Database, reader: Database.Database, maxBatch: number) {
    this.#writer = writer;
    this.#reader = reader;
    this.#writeSql = new SqliteSql(writer);
    this.#readSql = new SqliteSql(reader);
    this.#maxBatch = maxBatch;
  }

  /**
   * Opens (creating if needed) the database at `path`. `migrate` says what
   * to do with an older schema: apply the migrations, or refuse
   * (`STORE_SCHEMA_OLD`). A newer schema is always refused (`STORE_SCHEMA_TOO_NEW`).
   */
  static open(path: string, migrate: MigrationMode, maxBatch = 512): SqliteEngine {
    let writer: Database.Database;
    try {
      ownerOnly(path);
      writer = new Database(path);
      writer.pragma("journal_mode = WAL");
      writer.pragma("synchronous = FULL");
      writer.pragma("foreign_keys = ON");
      writer.pragma("busy_timeout = 5000");
    } catch (cause) {
      throw new GatewayError("STORE_CORRUPT", `cannot open the database ${path}`, { cause });
    }
    try {
      if (migrate === "apply") migrateSqlite(writer);
      else checkVersion(sqliteSchemaVersion(writer));
      const reader = new Database(path, { readonly: true });
      reader.pragma("busy_timeout = 5000");
      return new SqliteEngine(writer, reader, maxBatch);
    } catch (error) {
      writer.close();
      throw storeError(error);
    }
  }

  /** Runs `work` in the next group transaction; settles after the commit. */
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
  }

  /** Runs `work` on the read-only connection (committed data only). */
  read<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return work(this.#readSql);
  }

  /** Read-only SQL on the read connection (tests, diagnostics). */
  inspect<T>(sql: string, params: readonly SqlValue[]): Promise<T[]> {
    return this.#readSql.all<T>(sql, params);
  }

  /**
   * Writes a consistent copy of the database to `path` (a new file, mode
   * 0600) with SQLite's online backup API, while this and other processes
   * keep writing. The copy is taken in one step, inside one read transaction
   * of the read connection: a WAL snapshot of committed data, never a batch
   * in progress, and never restarted by a concurrent writer (a step-by-step
   * copy would start over each time the gateway commits).
   */
  async backupTo(path: string): Promise<void> {
    closeSync(openSync(path, "wx", 0o600));
    try {
      await this.#reader.backup(path, { progress: () => 0x7fffffff });
    } catch (error) {
      throw storeError(error);
    }
  }

  /** Resolves when nothing is queued. */
  drained(): Promise<void> {
    if (this.#queue.length === 0 && !this.#scheduled) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Finishes queued transactions and closes both connections. */
  async close(): Promise<void> {
    await this.drained();
    if (this.#reader.open) this.#reader.close();
    if (this.#writer.open) this.#writer.close();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    const batch = this.#queue.splice(0, this.#maxBatch);
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    const db = this.#writer;
    try {
      // BEGIN IMMEDIATE: the write lock is taken before anything is read, so a
      // CLI command writing to the same database makes this batch wait
      // (busy_timeout) rather than fail on a stale snapshot.
      db.exec("BEGIN IMMEDIATE");
      for (const item of batch) {
        db.exec("SAVEPOINT work");
        try {
          const value = await item.work(this.#writeSql);
          db.exec("RELEASE work");
          outcomes.push({ ok: true, value });
        } catch (error) {
          db.exec("ROLLBACK TO work");
          db.exec("RELEASE work");
          outcomes.push({ ok: false, error }); // statement errors arrive mapped; the work's own pass through
        }
      }
      db.exec("COMMIT");
      batch.forEach((item, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) item.resolve(outcome.value);
        else item.reject(outcome.error);
      });
    } catch (error) {
      // BEGIN or COMMIT failed (busy, disk full, I/O error): nothing of the batch is on disk.
      if (db.inTransaction) db.exec("ROLLBACK");
      const mapped = storeError(error);
      for (const item of batch) item.reject(mapped);
    }
    this.#scheduled = false;
    if (this.#queue.length > 0) this.#schedule();
    else for (const resolve of this.#idle.splice(0)) resolve();
  }
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

function checkVersion(found: number): void {
  if (found > SQLITE_SCHEMA_VERSION) throw tooNew(found, SQLITE_SCHEMA_VERSION);
  if (found < SQLITE_SCHEMA_VERSION) throw tooOld(found, SQLITE_SCHEMA_VERSION);
}
