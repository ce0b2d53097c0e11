/**
 * The event feed and what reads it (`events`, `webhook_cursors`,
 * `api_secrets`). An event's `seq` is the audit index of the entry it
 * reports, so events are dense in commit order (see 010-events-and-contract.sql).
 */
import type { Sql } from "../sql.js";

/** A row of `events`. */
export interface EventRow {
  seq: number;
  event_id: string;
  kind: string;
  at: string;
  case_id: string | null;
  data: string;
}

/** A row of `webhook_cursors`. */
export interface WebhookCursorRow {
  endpoint: string;
  delivered_seq: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  updated_at: string;
}

/** Which events a reader wants. */
export interface EventFilter {
  readonly caseId: string | null;
  readonly kinds: readonly string[] | null;
}

/** Events, webhook cursors and the local API's shared secrets. */
export class EventsRepository {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** Stores an event (inside the transaction of the audit entry it reports). */
  insert(e: { seq: number; eventId: string; kind: string; at: string; caseId: string | null; data: string }): Promise<unknown> {
    return this.#sql.run("INSERT INTO events (seq, event_id, kind, at, case_id, data) VALUES (?, ?, ?, ?, ?, ?)", [e.seq, e.eventId, e.kind, e.at, e.caseId, e.data]);
  }

  /** Up to `limit` events after `seq`, in order, filtered. */
  after(seq: number, limit: number, filter: EventFilter = { caseId: null, kinds: null }): Promise<EventRow[]> {
    const kinds = filter.kinds ?? [];
    const kindClause = kinds.length === 0 ? "" : ` AND kind IN (${kinds.map(() => "?").join(", ")})`;
    return this.#sql.all<EventRow>(`SELECT * FROM events WHERE seq > ? AND (CAST(? AS TEXT) IS NULL OR case_id = ?)${kindClause} ORDER BY seq LIMIT ?`, [
      seq,
      filter.caseId,
      filter.caseId,
      ...kinds,
      limit,
    ]);
  }

  /** Events of one kind about one case, in order. */
  ofCase(caseId: string, kind: string): Promise<EventRow[]> {
    return this.#sql.all<EventRow>("SELECT * FROM events WHERE case_id = ? AND kind = ? ORDER BY seq", [caseId, kind]);
  }

  /** The newest event's seq (-1 when there is none). */
  async latestSeq(): Promise<number> {
    return (await this.#sql.get<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM events"))?.seq ?? -1;
  }

  /** A webhook endpoint's cursor, if it has one. */
  webhookCursor(endpoint: string): Promise<WebhookCursorRow | undefined> {
    return this.#sql.get<WebhookCursorRow>("SELECT * FROM webhook_cursors WHERE endpoint = ?", [endpoint]);
  }

  /** Every webhook cursor. */
  webhookCursors(): Promise<WebhookCursorRow[]> {
    return this.#sql.all<WebhookCursorRow>("SELECT * FROM webhook_cursors ORDER BY endpoint");
  }

  /** Starts an endpoint's cursor at `seq` (no-op if it has one). */
  startWebhookCursor(endpoint: string, seq: number, at: string): Promise<unknown> {
    return this.#sql.run("INSERT INTO webhook_cursors (endpoint, delivered_seq, updated_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [endpoint, seq, at]);
  }

  /** Event `seq` was answered 2xx by `endpoint` (false if the cursor had moved on). */
  async webhookDelivered(endpoint: string, seq: number, at: string): Promise<boolean> {
    const moved = await this.#sql.run(
      "UPDATE webhook_cursors SET delivered_seq = ?, attempts = 0, next_attempt_at = 0, last_error = NULL, updated_at = ? WHERE endpoint = ? AND delivered_seq < ?",
      [seq, at, endpoint, seq],
    );
    return moved.changes > 0;
  }

  /** An attempt at the endpoint's next event failed; retry at `nextAttemptAt` (epoch ms). */
  webhookFailed(endpoint: string, error: string, nextAttemptAt: number, at: string): Promise<unknown> {
    return this.#sql.run("UPDATE webhook_cursors SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE endpoint = ?", [
      nextAttemptAt,
      error,
      at,
      endpoint,
    ]);
  }

  /** The shared secret `name`, if stored. */
  async secret(name: string): Promise<Buffer | undefined> {
    return (await this.#sql.get<{ secret: Buffer }>("SELECT secret FROM api_secrets WHERE name = ?", [name]))?.secret;
  }

  /** Stores secret `name` unless one is stored (the first instance's wins). */
  insertSecret(name: string, secret: Buffer, at: string): Promise<unknown> {
    return this.#sql.run("INSERT INTO api_secrets (name, secret, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [name, secret, at]);
  }
}
