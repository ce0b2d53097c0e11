/**
 * Webhook deliveries (`webhook_deliveries`): one row per event and target,
 * written in the transaction that records what the event reports, and
 * delivered at least once by the webhook sender (gateway/webhooks/sender.ts)
 * under per-row leases, like the outbox.
 */
import type { Sql } from "../sql.js";

/** A webhook delivery to queue. */
export interface NewWebhookDelivery {
  readonly eventId: string;
  readonly target: string;
  readonly url: string;
  readonly kind: string;
  /** The JSON body, exactly as it will be signed and sent on every attempt. */
  readonly body: string;
  readonly at: Date;
}

/** A row claimed for sending. */
export interface DueWebhookDelivery {
  event_id: string;
  target: string;
  url: string;
  kind: string;
  body: string;
  attempts: number;
  created_at: string;
}

/** A row as listed (no body). */
export interface WebhookDeliveryRow {
  event_id: string;
  target: string;
  kind: string;
  state: "pending" | "delivered" | "failed";
  attempts: number;
  last_error: string | null;
  created_at: string;
  finished_at: string | null;
}

/** Webhook deliveries. */
export class WebhooksRepository {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** Queues a delivery; false when this event was already queued for this target (event ids are idempotency keys). */
  async enqueue(d: NewWebhookDelivery): Promise<boolean> {
    const changed = await this.#sql.run(
      `INSERT INTO webhook_deliveries (event_id, target, url, kind, body, state, attempts, next_attempt_at, created_at)
       VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (event_id, target) DO NOTHING`,
      [d.eventId, d.target, d.url, d.kind, d.body, d.at.getTime(), d.at.toISOString()],
    );
    return changed.changes > 0;
  }

  /** Claims up to `limit` due deliveries for `owner` until `now + leaseMs` (rows another instance is claiming are skipped on PostgreSQL). */
  async claimDue(owner: string, now: number, leaseMs: number, limit: number, skip: readonly string[] = []): Promise<DueWebhookDelivery[]> {
    const lock = this.#sql.dialect === "postgres" ? "FOR UPDATE SKIP LOCKED" : "";
    // `skip` holds event_id + "\n" + target of deliveries in flight on this instance.
    const exclude = skip.length === 0 ? "" : `AND (event_id || '\n' || target) NOT IN (${skip.map(() => "?").join(", ")})`;
    const claimed = await this.#sql.all<{ event_id: string; target: string }>(
      `UPDATE webhook_deliveries SET lease_owner = ?, lease_expires_at = ?
        WHERE (event_id, target) IN (SELECT event_id, target FROM webhook_deliveries
                                      WHERE state = 'pending' AND next_attempt_at <= ? AND lease_expires_at <= ? ${exclude}
                                      ORDER BY next_attempt_at LIMIT ? ${lock})
        RETURNING event_id, target`,
      [owner, now + leaseMs, now, now, ...skip, limit],
    );
    const rows: DueWebhookDelivery[] = [];
    for (const { event_id, target } of claimed) {
      const row = await this.#sql.get<DueWebhookDelivery>("SELECT event_id, target, url, kind, body, attempts, created_at FROM webhook_deliveries WHERE event_id = ? AND target = ?", [
        event_id,
        target,
      ]);
      if (row !== undefined) rows.push(row);
    }
    return rows;
  }

  /** When the next pending delivery is due (epoch ms), if any. */
  async nextDue(): Promise<number | undefined> {
    const row = await this.#sql.get<{ next: number | null }>(
      "SELECT MIN(CASE WHEN lease_expires_at > next_attempt_at THEN lease_expires_at ELSE next_attempt_at END) AS next FROM webhook_deliveries WHERE state = 'pending'",
    );
    return row?.next === null || row?.next === undefined ? undefined : Number(row.next);
  }

  /** The receiver answered 2xx. */
  markDelivered(eventId: string, target: string, attempts: number, at: string): Promise<unknown> {
    return this.#sql.run(
      "UPDATE webhook_deliveries SET state = 'delivered', attempts = ?, finished_at = ?, last_error = NULL, lease_owner = NULL, lease_expires_at = 0 WHERE event_id = ? AND target = ? AND state = 'pending'",
      [attempts, at, eventId, target],
    );
  }

  /** Another attempt later. */
  reschedule(eventId: string, target: string, attempts: number, nextAttemptAt: number, error: string): Promise<unknown> {
    return this.#sql.run(
      "UPDATE webhook_deliveries SET attempts = ?, next_attempt_at = ?, last_error = ?, lease_owner = NULL, lease_expires_at = 0 WHERE event_id = ? AND target = ? AND state = 'pending'",
      [attempts, nextAttemptAt, error, eventId, target],
    );
  }

  /** Given up after the give-up time. */
  async markFailed(eventId: string, target: string, attempts: number, error: string, at: string): Promise<boolean> {
    const changed = await this.#sql.run(
      "UPDATE webhook_deliveries SET state = 'failed', attempts = ?, last_error = ?, finished_at = ?, lease_owner = NULL, lease_expires_at = 0 WHERE event_id = ? AND target = ? AND state = 'pending'",
      [attempts, error, at, eventId, target],
    );
    return changed.changes > 0;
  }

  /** Deliveries, newest first (no bodies). */
  list(limit: number): Promise<WebhookDeliveryRow[]> {
    return this.#sql.all<WebhookDeliveryRow>(
      "SELECT event_id, target, kind, state, attempts, last_error, created_at, finished_at FROM webhook_deliveries ORDER BY created_at DESC, event_id, target LIMIT ?",
      [limit],
    );
  }

  /** Pending and failed counts. */
  async health(): Promise<{ pending: number; failed: number }> {
    const row = await this.#sql.get<{ pending: number | null; failed: number | null }>(
      "SELECT SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END) AS pending, SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) AS failed FROM webhook_deliveries",
    );
    return { pending: Number(row?.pending ?? 0), failed: Number(row?.failed ?? 0) };
  }
}
