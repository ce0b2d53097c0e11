/**
 * The production engine: PostgreSQL through `pg`, a pool of connections.
 * Transactions run in group commit (see {@link PostgresEngine.transaction}):
 * a batch on one pooled connection between BEGIN and COMMIT (READ COMMITTED,
 * row locks where the repositories need them), each transaction in its own
 * savepoint; a promise settles only after the batch's COMMIT has returned,
 * so nothing is acknowledged before PostgreSQL holds it. A transaction that
 * lost a deadlock or a serialization check is run again whole (its work does
 * no IO outside the store). Reads use the other pooled connections.
 */
import pg from "pg";
import { GatewayError } from "../../errors.js";
import { isRetryable, redactUrl, storeError } from "../errors.js";
import { numberedPlaceholders, type Sql, type SqlRunResult, type SqlValue } from "../sql.js";
import type { MigrationMode } from "../migrations.js";
import { migratePostgres, postgresSchemaVersion, POSTGRES_SCHEMA_VERSION } from "./migrate.js";
import { tooNew, tooOld } from "../migrations.js";

// int8 (COUNT, SUM, BIGINT columns) and numeric as JavaScript numbers: every
// integer Valise stores is below 2^53 (sizes, indices, epoch milliseconds).
const INT8 = 20;
const NUMERIC = 1700;
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8 || oid === NUMERIC) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as "text");
  },
} as pg.CustomTypesConfig;

/** Statements on one client (a transaction) or the pool (reads). */
class PostgresSql implements Sql {
  readonly dialect = "postgres" as const;
  readonly #target: pg.Pool | pg.PoolClient;

  constructor(target: pg.Pool | pg.PoolClient) {
    this.#target = target;
  }

  async #query(sql: string, params: readonly SqlValue[]): Promise<pg.QueryResult> {
    try {
      return await this.#target.query({ text: numberedPlaceholders(sql), values: params as unknown[] });
    } catch (error) {
      throw storeError(error);
    }
  }

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (await this.#query(sql, params)).rows as T[];
  }

  async get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return (await this.#query(sql, params)).rows[0] as T | undefined;
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<SqlRunResult> {
    return { changes: (await this.#query(sql, params)).rowCount ?? 0 };
  }
}

async function query(client: pg.PoolClient, sql: string): Promise<void> {
  try {
    await client.query(sql);
  } catch (error) {
    throw storeError(error);
  }
}

interface Pending {
  readonly work: (sql: Sql) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** Runs that lost a deadlock or a serialization check so far. */
  attempts: number;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown } | { ok: "retry" };

/** Transactions of one batch at most (the batch holds its row locks until its COMMIT). */
const MAX_BATCH = 256;
/** Runs of a transaction that lost a deadlock or a serialization check, at most. */
const MAX_ATTEMPTS = 5;

/** A PostgreSQL database opened for the gateway or a CLI command. */
export class PostgresEngine {
  readonly #pool: pg.Pool;
  readonly #readSql: PostgresSql;
  #queue: Pending[] = [];
  #flushing = false;
  #idle: Array<() => void> = [];

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
    this.#readSql = new PostgresSql(pool);
  }

  /**
   * Connects to `url` and checks (or, with `migrate: "apply"`, brings up to
   * date) the schema. The URL's password never appears in an error.
   */
  static async open(url: string, migrate: MigrationMode, poolSize = 10): Promise<PostgresEngine> {
    // connectionTimeoutMillis bounds the wait for a pooled connection too: a burst queues behind the pool, so it is generous.
    const pool = new pg.Pool({ connectionString: url, max: poolSize, types, connectionTimeoutMillis: 30_000, idleTimeoutMillis: 30_000 });
    // An idle client that loses its server emits 'error' on the pool; without
    // a listener that would crash the process. The next query reports it.
    pool.on("error", () => undefined);
    try {
      const client = await pool.connect();
      try {
        if (migrate === "apply") await migratePostgres(client);
        else {
          const found = await postgresSchemaVersion(client);
          if (found > POSTGRES_SCHEMA_VERSION) throw tooNew(found, POSTGRES_SCHEMA_VERSION);
          if (found < POSTGRES_SCHEMA_VERSION) throw tooOld(found, POSTGRES_SCHEMA_VERSION);
        }
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end().catch(() => undefined);
      const mapped = storeError(error);
      if (mapped instanceof GatewayError && mapped.code === "STORE_UNAVAILABLE") {
        throw new GatewayError("STORE_UNAVAILABLE", `cannot connect to PostgreSQL at ${redactUrl(url)}: ${mapped.message}`, { cause: error });
      }
      throw mapped;
    }
    return new PostgresEngine(pool);
  }

  /**
   * Runs `work` in the next group transaction; settles after its COMMIT.
   *
   * Group commit, as on SQLite: the transactions queued while a batch runs
   * form the next batch, which runs on one pooled connection between one
   * BEGIN and one COMMIT, each transaction in its own savepoint (one that
   * fails rolls back alone; one that lost a deadlock or a serialization
   * check is run again, whole, in a later batch). One COMMIT — one WAL flush
   * on the server, one round trip — per batch, and the log head row
   * (audit_head) is locked once per batch, not once per appending
   * transaction: those locks serialized every envelope's transaction behind
   * the previous one's COMMIT. One batch at a time per instance: two batches
   * of one instance could deadlock on rows they both write. Transactions of
   * other instances run beside ours as before (row locks, leases).
   */
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject, attempts: 0 });
      this.#kick();
    });
  }

  #kick(): void {
    if (this.#flushing || this.#queue.length === 0) return;
    this.#flushing = true;
    setImmediate(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    const batch = this.#queue.splice(0, MAX_BATCH);
    const outcomes: Outcome[] = [];
    let client: pg.PoolClient | undefined;
    let broken = false;
    try {
      try {
        client = await this.#pool.connect();
      } catch (error) {
        throw storeError(error);
      }
      const sql = new PostgresSql(client);
      // Savepoint boundaries travel with the neighbouring command: one round trip each.
      await query(client, "BEGIN; SAVEPOINT work");
      for (let i = 0; i < batch.length; i += 1) {
        const item = batch[i]!;
        const last = i === batch.length - 1;
        try {
          const value = await item.work(sql);
          await query(client, last ? "RELEASE work" : "RELEASE work; SAVEPOINT work");
          outcomes.push({ ok: true, value });
        } catch (error) {
          try {
            await client.query(last ? "ROLLBACK TO work; RELEASE work" : "ROLLBACK TO work; RELEASE work; SAVEPOINT work");
          } catch (rollbackError) {
            broken = true; // the connection is gone: nothing of the batch is committed
            throw storeError(rollbackError);
          }
          // Statement errors arrive mapped (their driver error as cause); the work's own errors pass through.
          const cause = (error as { cause?: unknown }).cause ?? error;
          if (isRetryable(cause) && item.attempts + 1 < MAX_ATTEMPTS) outcomes.push({ ok: "retry" });
          else outcomes.push({ ok: false, error });
        }
      }
      await query(client, "COMMIT");
    } catch (error) {
      // BEGIN or COMMIT failed, or the connection: nothing of the batch is committed.
      if (client !== undefined && !broken) {
        try {
          await client.query("ROLLBACK");
        } catch {
          broken = true;
        }
      }
      client?.release(broken);
      client = undefined;
      const cause = (error as { cause?: unknown }).cause ?? error;
      for (const item of batch) {
        if (isRetryable(cause) && item.attempts + 1 < MAX_ATTEMPTS) {
          item.attempts += 1;
          this.#queue.push(item);
        } else item.reject(error);
      }
      batch.length = 0;
    }
    client?.release(broken);
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok === "retry") {
        item.attempts += 1;
        this.#queue.push(item);
      } else if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
    this.#flushing = false;
    if (this.#queue.length > 0) this.#kick();
    else for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Runs `work` with statements on any pooled connection (each sees what is committed). */
  read<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return work(this.#readSql);
  }

  /** Read-only SQL (tests, diagnostics): in a READ ONLY transaction. */
  async inspect<T>(sql: string, params: readonly SqlValue[]): Promise<T[]> {
    const client = await this.#pool.connect();
    try {
      await client.query("BEGIN READ ONLY");
      const rows = await new PostgresSql(client).all<T>(sql, params);
      await client.query("COMMIT");
      return rows;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Resolves when no transaction is queued or running. */
  drained(): Promise<void> {
    if (!this.#flushing && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Waits for running transactions, then closes the pool (once). */
  async close(): Promise<void> {
    await this.drained();
    if (!this.#pool.ended && !this.#pool.ending) await this.#pool.end();
  }
}
