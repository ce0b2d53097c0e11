/**
 * The production engine: PostgreSQL through `pg`, a pool of connections.
 * Each transaction runs on one pooled connection between BEGIN and COMMIT
 * (READ COMMITTED, row locks where the repositories need them); its promise
 * settles only after COMMIT has returned, so nothing is acknowledged before
 * PostgreSQL holds it. A transaction that lost a deadlock or a serialization
 * check is run again whole (its work does no IO outside the store).
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

/** A PostgreSQL database opened for the gateway or a CLI command. */
export class PostgresEngine {
  readonly #pool: pg.Pool;
  readonly #readSql: PostgresSql;
  #open = 0;
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

  /** Runs `work` between BEGIN and COMMIT on one connection; settles after COMMIT. */
  async transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    this.#open += 1;
    try {
      for (let attempt = 1; ; attempt += 1) {
        let client: pg.PoolClient;
        try {
          client = await this.#pool.connect();
        } catch (error) {
          throw storeError(error);
        }
        let broken = false;
        try {
          await query(client, "BEGIN");
          const value = await work(new PostgresSql(client));
          await query(client, "COMMIT");
          return value;
        } catch (error) {
          try {
            await client.query("ROLLBACK");
          } catch {
            broken = true; // the connection is gone: drop it from the pool
          }
          // Statement errors arrive mapped (their driver error as cause); the work's own errors pass through.
          const cause = (error as { cause?: unknown }).cause ?? error;
          if (attempt < 5 && isRetryable(cause)) continue;
          throw error;
        } finally {
          client.release(broken);
        }
      }
    } finally {
      this.#open -= 1;
      if (this.#open === 0) for (const resolve of this.#idle.splice(0)) resolve();
    }
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

  /** Resolves when no transaction is running. */
  drained(): Promise<void> {
    if (this.#open === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Waits for running transactions, then closes the pool (once). */
  async close(): Promise<void> {
    await this.drained();
    if (!this.#pool.ended && !this.#pool.ending) await this.#pool.end();
  }
}
