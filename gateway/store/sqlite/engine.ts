/**
 * The embedded engine: SQLite through better-sqlite3, WAL.
 *
 * Writes go through group commit: transactions queued while the previous
 * batch is being made durable run one after the other inside one `BEGIN
 * IMMEDIATE … COMMIT`, each in its own savepoint (one failing transaction
 * rolls back alone), and each promise settles only once the batch is on
 * disk. One fsync per batch, not per transaction: with one per envelope the
 * gateway would run at the disk's fsync rate. A transaction's work must not
 * wait on anything but the store (no network, no timers): the whole batch
 * waits for it.
 *
 * Durability off the main thread. The connection runs `synchronous=NORMAL`:
 * COMMIT writes the batch's frames to the -wal file (write(2), no fsync) and
 * returns; then a dedicated thread (./wal-sync.ts, not libuv's pool, which a
 * stalled file system call can hold) fdatasyncs the -wal file, and only then
 * do the batch's promises resolve. Why that is as durable as
 * `synchronous=FULL` (which fsyncs the WAL inside COMMIT, on the main thread):
 * - A fsync started after write(2) returned covers what it wrote, whatever
 *   descriptor of the same file it is called on; the batch's frames, commit
 *   frame included, are written before COMMIT returns, and the sync is
 *   requested after that.
 * - The file synced is the one SQLite wrote: the -wal file is deleted or
 *   truncated only after a complete checkpoint (all its frames copied into
 *   the database file, which SQLite fsyncs in the checkpoint in NORMAL mode
 *   too), and deleted only when the last connection closes (ours are open).
 *   Should the path name a new file, its predecessor's content is in the
 *   synced database file; a new file's directory entry is synced once (the
 *   thread fsyncs the folder whenever it sees a new inode), as SQLite does.
 * - A WAL restart (the writer starting again at the file's head after a
 *   complete checkpoint) overwrites only frames already in the synced
 *   database file; a torn write of the new header or frames loses only
 *   batches not yet synced, hence not yet acknowledged: recovery stops at the
 *   last valid commit frame (salted, checksummed chain).
 * - A checkpoint copies only frames of commits; SQLite syncs the WAL before
 *   copying (NORMAL mode), so the database file is never ahead of the log.
 * - A crash of the process alone (kill -9) loses nothing written: the
 *   frames are in the kernel's page cache.
 * - At most one batch is committed and not yet synced: the next batch runs
 *   its work while the sync is on its way, then waits for it before its own
 *   COMMIT (taking in what was queued meanwhile). So a batch's sync covers
 *   every earlier batch too.
 * - Reads outside a transaction use a second, read-only connection (WAL
 *   snapshots: committed data only, never a batch in progress). Each read
 *   statement runs only while no commit awaits its sync: it waits for the
 *   sync otherwise, and runs in the same turn as the sync's completion,
 *   before the next COMMIT (which waits for a later turn of the event
 *   loop). So what a read returns, and anything acknowledged on its word (a
 *   redelivered envelope's receipt), is on disk, as with FULL.
 * - Checkpoints run on another thread, with a connection of their own
 *   (PASSIVE: they never wait for nor block the writer), which syncs the WAL
 *   before copying and the database file after, as SQLite's automatic ones
 *   (kept as a safety net for a WAL that outgrows them) do.
 * - A failed sync (EIO: the kernel may have dropped the dirty pages) fails
 *   the engine: the batch and every later transaction and read are refused
 *   (STORE_FAILED) until the gateway is restarted, as PostgreSQL panics.
 */
import { chmodSync, closeSync, fchmodSync, openSync } from "node:fs";
import Database from "better-sqlite3";
import type { Statement } from "better-sqlite3";
import { GatewayError } from "../../errors.js";
import { storeError } from "../errors.js";
import type { Sql, SqlRunResult, SqlValue } from "../sql.js";
import { migrateSqlite, sqliteSchemaVersion, SQLITE_SCHEMA_VERSION } from "./migrate.js";
import { tooNew, tooOld, type MigrationMode } from "../migrations.js";
import { WalSync } from "./wal-sync.js";

interface Pending {
  readonly work: (sql: Sql) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Statements on one better-sqlite3 connection, prepared once and reused. */
class SqliteSql implements Sql {
  readonly dialect = "sqlite" as const;
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Statement>();
  /** Reads: a promise to wait for before a statement (a commit awaiting its sync), else undefined. */
  readonly #gate: () => Promise<void> | undefined;

  constructor(db: Database.Database, gate: () => Promise<void> | undefined = () => undefined) {
    this.#db = db;
    this.#gate = gate;
  }

  #statement(sql: string): Statement {
    let prepared = this.#statements.get(sql);
    if (prepared === undefined) {
      prepared = this.#db.prepare(sql);
      this.#statements.set(sql, prepared);
    }
    return prepared;
  }

  #execute<T>(run: () => T): Promise<T> {
    const gate = this.#gate();
    // After the gate, the statement runs in the very callback it resolves in: no COMMIT can come between.
    if (gate !== undefined) return gate.then(() => run());
    try {
      return Promise.resolve(run());
    } catch (error) {
      return Promise.reject(storeError(error));
    }
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.#execute(() => this.#mapped(() => this.#statement(sql).all(...params) as T[]));
  }

  get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return this.#execute(() => this.#mapped(() => this.#statement(sql).get(...params) as T | undefined));
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<SqlRunResult> {
    return this.#execute(() => this.#mapped(() => ({ changes: this.#statement(sql).run(...params).changes })));
  }

  #mapped<T>(run: () => T): T {
    try {
      return run();
    } catch (error) {
      throw storeError(error);
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
  readonly #walSync: WalSync;
  readonly #control: { begin: Statement; savepoint: Statement; release: Statement; rollbackTo: Statement; commit: Statement; rollback: Statement };
  #queue: Pending[] = [];
  #scheduled = false;
  /** Flushes started and not finished (one running its batch, one awaiting its sync, at most). */
  #flushing = 0;
  /** The sync of the last committed batch, while it runs. */
  #syncing: Promise<void> | undefined;
  /** Set once a sync failed: nothing is acknowledged any more. */
  #failure: GatewayError | undefined;
  #idle: Array<() => void> = [];

  private constructor(path: string, writer: Database.Database, reader: Database.Database, maxBatch: number) {
    this.#writer = writer;
    this.#reader = reader;
    this.#writeSql = new SqliteSql(writer);
    this.#readSql = new SqliteSql(reader, () => this.#readGate());
    this.#maxBatch = maxBatch;
    this.#walSync = new WalSync(path);
    this.#control = {
      begin: writer.prepare("BEGIN IMMEDIATE"),
      savepoint: writer.prepare("SAVEPOINT work"),
      release: writer.prepare("RELEASE work"),
      rollbackTo: writer.prepare("ROLLBACK TO work"),
      commit: writer.prepare("COMMIT"),
      rollback: writer.prepare("ROLLBACK"),
    };
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
      // Migrations and other work before the first batch commit durably in SQLite itself; NORMAL (synced off the main thread, see above) from then on.
      writer.pragma("synchronous = FULL");
      writer.pragma("foreign_keys = ON");
      writer.pragma("busy_timeout = 5000");
    } catch (cause) {
      throw new GatewayError("STORE_CORRUPT", `cannot open the database ${path}`, { cause });
    }
    try {
      if (migrate === "apply") migrateSqlite(writer);
      else checkVersion(sqliteSchemaVersion(writer));
      writer.pragma("synchronous = NORMAL");
      // Checkpoints run on a thread of their own (./wal-sync.ts); SQLite's own, inside a COMMIT on the main thread, only if the WAL outgrows them.
      writer.pragma("wal_autocheckpoint = 16000");
      const reader = new Database(path, { readonly: true });
      reader.pragma("busy_timeout = 5000");
      return new SqliteEngine(path, writer, reader, maxBatch);
    } catch (error) {
      writer.close();
      throw storeError(error);
    }
  }

  /** Runs `work` in the next group transaction; settles once the commit is on disk. */
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
  }

  /** Runs `work` on the read-only connection (committed, durable data only). */
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
      const gate = this.#readGate();
      if (gate !== undefined) await gate;
      await this.#reader.backup(path, { progress: () => 0x7fffffff });
    } catch (error) {
      throw storeError(error);
    }
  }

  /** Resolves when nothing is queued, running or awaiting its sync. */
  drained(): Promise<void> {
    if (!this.#busy()) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Finishes queued transactions and closes both connections. */
  async close(): Promise<void> {
    await this.drained();
    await this.#walSync.close();
    if (this.#reader.open) this.#reader.close();
    if (this.#writer.open) this.#writer.close();
  }

  #busy(): boolean {
    return this.#queue.length > 0 || this.#scheduled || this.#flushing > 0;
  }

  /** What a read statement waits for: the sync of the last commit, if it runs; a failure refuses. */
  #readGate(): Promise<void> | undefined {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const syncing = this.#syncing;
    if (syncing === undefined) return undefined;
    const failure = (): Promise<void> => Promise.reject(this.#failure ?? new GatewayError("STORE_FAILED", "a commit could not be made durable"));
    return syncing.then(() => (this.#failure === undefined ? undefined : failure()), failure);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    this.#flushing += 1;
    const batch: Pending[] = [];
    const outcomes: Outcome[] = [];
    const control = this.#control;
    const db = this.#writer;
    let committed = false;
    try {
      if (this.#failure !== undefined) throw this.#failure;
      // BEGIN IMMEDIATE: the write lock is taken before anything is read, so a
      // CLI command writing to the same database makes this batch wait
      // (busy_timeout) rather than fail on a stale snapshot.
      control.begin.run();
      // `#scheduled` stays set until COMMIT: what is queued meanwhile joins this batch, or waits for the next.
      for (;;) {
        while (batch.length < this.#maxBatch && this.#queue.length > 0) {
          const item = this.#queue.shift()!;
          batch.push(item);
          control.savepoint.run();
          try {
            const value = await item.work(this.#writeSql);
            control.release.run();
            outcomes.push({ ok: true, value });
          } catch (error) {
            control.rollbackTo.run();
            control.release.run();
            outcomes.push({ ok: false, error }); // statement errors arrive mapped; the work's own pass through
          }
        }
        const previous = this.#syncing;
        if (previous === undefined) break;
        // The previous batch is not on disk yet: ours commits after it, in a later turn of the
        // event loop (reads waiting for that sync run first), taking in what was queued meanwhile.
        await previous.catch(() => undefined);
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.#failure !== undefined) throw this.#failure;
        if (batch.length >= this.#maxBatch) break;
      }
      control.commit.run();
      committed = true;
    } catch (error) {
      // BEGIN or COMMIT failed (busy, disk full, I/O error), or the engine has failed: nothing of the batch is on disk.
      if (db.inTransaction) control.rollback.run();
      const mapped = storeError(error);
      for (const item of batch) item.reject(mapped);
      if (this.#failure !== undefined) for (const item of this.#queue.splice(0)) item.reject(this.#failure);
    }
    this.#scheduled = false;
    if (committed) {
      const sync = this.#walSync.sync();
      this.#syncing = sync;
      // The next batch runs its work while this one is synced.
      if (this.#queue.length > 0) this.#schedule();
      try {
        await sync;
        this.#walSync.committed();
        batch.forEach((item, i) => {
          const outcome = outcomes[i]!;
          if (outcome.ok) item.resolve(outcome.value);
          else item.reject(outcome.error);
        });
      } catch (error) {
        this.#failure ??= new GatewayError("STORE_FAILED", "the database could not make a commit durable (fdatasync failed); restart the gateway once the disk is sound", { cause: error });
        for (const item of batch) item.reject(this.#failure);
        for (const item of this.#queue.splice(0)) item.reject(this.#failure);
      } finally {
        if (this.#syncing === sync) this.#syncing = undefined;
      }
    }
    this.#flushing -= 1;
    if (this.#queue.length > 0) this.#schedule();
    else if (!this.#busy()) for (const resolve of this.#idle.splice(0)) resolve();
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
