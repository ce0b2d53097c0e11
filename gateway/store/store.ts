/**
 * The gateway's store: one asynchronous interface over two engines (SQLite
 * embedded, PostgreSQL for production), the only place in Valise with SQL.
 *
 * Domain code runs a unit of work with {@link Store.transaction} and reaches
 * the tables through the repositories of the {@link Tx} it is given; an
 * acknowledgement (a 201, a receipt, an item receipt) is sent only after the
 * transaction's promise resolves, i.e. after COMMIT. Work inside a
 * transaction does no IO but the store's: no network, no timers.
 *
 * @example
 * const store = await openStore({ kind: "sqlite", path: "/srv/valise/valise.db" }, "apply");
 * const caseRow = await store.read((tx) => tx.cases.get(caseId));
 * await store.transaction(async (tx) => { await tx.cases.insert(…); await appendEntry(tx, …); });
 */
import type { Dialect, Sql, SqlValue } from "./sql.js";
import type { MigrationMode } from "./migrations.js";
import { SqliteEngine } from "./sqlite/engine.js";
import { PostgresEngine } from "./postgres/engine.js";
import { CasesRepository } from "./repos/cases.js";
import { EnvelopesRepository, OutboxRepository } from "./repos/envelopes.js";
import { AuditRepository } from "./repos/audit.js";
import { PeerLogsRepository } from "./repos/peer-logs.js";
import { TokensRepository } from "./repos/tokens.js";
import { LeasesRepository } from "./repos/leases.js";
import { EvidenceRepository } from "./repos/evidence.js";
import { IdempotencyRepository } from "./repos/idempotency.js";
import { WebhooksRepository } from "./repos/webhooks.js";
import { EpochsRepository } from "./repos/epochs.js";
import { BackupRepository } from "./repos/backup.js";
import { ReconcileRepository } from "./repos/reconcile.js";
import { EventsRepository } from "./repos/events.js";
import { UploadsRepository } from "./repos/uploads.js";

/** Where the store lives. */
export type StoreLocation = { readonly kind: "sqlite"; readonly path: string } | { readonly kind: "postgres"; readonly url: string };

/** The repositories of one transaction (or read). */
export class Tx {
  readonly #sql: Sql;
  #cases?: CasesRepository;
  #envelopes?: EnvelopesRepository;
  #outbox?: OutboxRepository;
  #audit?: AuditRepository;
  #peerLogs?: PeerLogsRepository;
  #tokens?: TokensRepository;
  #leases?: LeasesRepository;
  #evidence?: EvidenceRepository;
  #idempotency?: IdempotencyRepository;
  #webhooks?: WebhooksRepository;
  #epochs?: EpochsRepository;
  #backup?: BackupRepository;
  #reconcile?: ReconcileRepository;
  #events?: EventsRepository;
  #uploads?: UploadsRepository;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** The engine (for the rare behaviour that differs, e.g. what health reports). */
  get dialect(): Dialect {
    return this.#sql.dialect;
  }
  get cases(): CasesRepository {
    return (this.#cases ??= new CasesRepository(this.#sql));
  }
  get envelopes(): EnvelopesRepository {
    return (this.#envelopes ??= new EnvelopesRepository(this.#sql));
  }
  get outbox(): OutboxRepository {
    return (this.#outbox ??= new OutboxRepository(this.#sql));
  }
  get audit(): AuditRepository {
    return (this.#audit ??= new AuditRepository(this.#sql));
  }
  get peerLogs(): PeerLogsRepository {
    return (this.#peerLogs ??= new PeerLogsRepository(this.#sql));
  }
  get tokens(): TokensRepository {
    return (this.#tokens ??= new TokensRepository(this.#sql));
  }
  get leases(): LeasesRepository {
    return (this.#leases ??= new LeasesRepository(this.#sql));
  }
  get evidence(): EvidenceRepository {
    return (this.#evidence ??= new EvidenceRepository(this.#sql));
  }
  get idempotency(): IdempotencyRepository {
    return (this.#idempotency ??= new IdempotencyRepository(this.#sql));
  }
  get webhooks(): WebhooksRepository {
    return (this.#webhooks ??= new WebhooksRepository(this.#sql));
  }
  get epochs(): EpochsRepository {
    return (this.#epochs ??= new EpochsRepository(this.#sql));
  }
  get backup(): BackupRepository {
    return (this.#backup ??= new BackupRepository(this.#sql));
  }
  get reconcile(): ReconcileRepository {
    return (this.#reconcile ??= new ReconcileRepository(this.#sql));
  }
  get events(): EventsRepository {
    return (this.#events ??= new EventsRepository(this.#sql));
  }
  get uploads(): UploadsRepository {
    return (this.#uploads ??= new UploadsRepository(this.#sql));
  }
}

/** An open store. */
export interface Store {
  readonly kind: Dialect;
  /** Runs `work` as one transaction; resolves after COMMIT with its result, rejects (rolled back) with its error. */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs `work` over committed data (writes are refused on SQLite's read connection: use a transaction). */
  read<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  /** Resolves when no transaction is queued or running. */
  drained(): Promise<void>;
  /**
   * Read-only SQL for tests and diagnostics (what an auditor with database
   * access would see): never for gateway code, which goes through the
   * repositories. Writes are refused by the connection.
   */
  inspect<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /**
   * SQLite only (undefined on PostgreSQL, which is backed up with its own
   * tools): a consistent copy of the database written to `path`, a new file,
   * while the gateway runs (SQLite's online backup API).
   */
  readonly backupTo?: (path: string) => Promise<void>;
  /** Finishes running transactions and closes the connections. */
  close(): Promise<void>;
}

class EngineStore implements Store {
  readonly kind: Dialect;
  readonly backupTo?: (path: string) => Promise<void>;
  readonly #engine: SqliteEngine | PostgresEngine;

  constructor(kind: Dialect, engine: SqliteEngine | PostgresEngine) {
    this.kind = kind;
    this.#engine = engine;
    if (engine instanceof SqliteEngine) this.backupTo = (path) => engine.backupTo(path);
  }

  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#engine.transaction((sql) => work(new Tx(sql)));
  }

  read<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#engine.read((sql) => work(new Tx(sql)));
  }

  drained(): Promise<void> {
    return this.#engine.drained();
  }

  inspect<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.#engine.inspect<T>(sql, params);
  }

  close(): Promise<void> {
    return this.#engine.close();
  }
}

/**
 * Opens the store at `location`. `migrate`: "apply" brings an older schema
 * up to date (start, migrate, and commands that write); "refuse" fails with
 * `STORE_SCHEMA_OLD` (read-only commands never migrate).
 */
export async function openStore(location: StoreLocation, migrate: MigrationMode, options: { readonly poolSize?: number } = {}): Promise<Store> {
  if (location.kind === "sqlite") return new EngineStore("sqlite", SqliteEngine.open(location.path, migrate));
  return new EngineStore("postgres", await PostgresEngine.open(location.url, migrate, options.poolSize));
}
