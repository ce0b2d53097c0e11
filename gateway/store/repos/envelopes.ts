/**
 * Envelopes as they travelled (`envelopes`, `envelope_bodies`) and the
 * outbox of those still to deliver, with per-row leases so that two
 * instances never deliver the same envelope at once.
 */
import type { Sql } from "../sql.js";

/** An envelope to store (sent or received). */
export interface NewEnvelope {
  readonly envelopeId: string;
  readonly caseId: string;
  readonly direction: "outbound" | "inbound";
  readonly type: string;
  readonly from: string;
  readonly to: string;
  readonly inReplyTo: string | null;
  readonly createdAt: string;
  readonly storedAt: string;
  readonly digest: string;
  readonly signerKid: string;
  readonly wire: string;
  readonly document: string;
}

/** A row of `envelopes`. */
export interface EnvelopeRow {
  envelope_id: string;
  case_id: string;
  direction: "outbound" | "inbound";
  type: string;
  from_authority: string;
  to_authority: string;
  in_reply_to: string | null;
  created_at: string;
  stored_at: string;
  digest: string;
  signer_kid: string;
  receipt: string | null;
}

/** An envelope row with its delivery state (outbound ones). */
export interface EnvelopeWithDelivery extends EnvelopeRow {
  state: OutboxState | null;
  attempts: number | null;
  last_error: string | null;
  next_attempt_at: number | null;
  superseded_by: string | null;
}

/** Where an outbound envelope stands: waiting or being retried, receipted, given up by the gateway, or stopped by an operator. */
export type OutboxState = "pending" | "delivered" | "failed" | "superseded" | "cancelled";

/** An outbox row as operators see it (`valise outbox list|show`). */
export interface OutboxRow {
  envelope_id: string;
  case_id: string;
  type: string;
  peer: string;
  state: OutboxState;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: string;
  finished_at: string | null;
  retry_from: string | null;
  lease_owner: string | null;
  lease_expires_at: number;
}

/** An outbox row claimed for delivery. */
export interface DueEnvelope {
  envelope_id: string;
  peer: string;
  attempts: number;
  created_at: string;
  /** When an operator last retried it (the give-up clock runs from here), or null. */
  retry_from: string | null;
  digest: string;
  case_id: string;
  type: string;
  signer_kid: string;
  in_reply_to: string | null;
}

/** Envelopes and their bodies. */
export class EnvelopesRepository {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** Stores an envelope and its body (`STORE_DUPLICATE` if the id exists). */
  async insert(e: NewEnvelope): Promise<void> {
    await this.#sql.run(
      `INSERT INTO envelopes (envelope_id, case_id, direction, type, from_authority, to_authority, in_reply_to, created_at, stored_at, digest, signer_kid)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [e.envelopeId, e.caseId, e.direction, e.type, e.from, e.to, e.inReplyTo, e.createdAt, e.storedAt, e.digest, e.signerKid],
    );
    await this.#sql.run("INSERT INTO envelope_bodies (envelope_id, wire, document) VALUES (?, ?, ?)", [e.envelopeId, e.wire, e.document]);
  }

  /** The envelope row, if any. */
  get(envelopeId: string): Promise<EnvelopeRow | undefined> {
    return this.#sql.get<EnvelopeRow>("SELECT * FROM envelopes WHERE envelope_id = ?", [envelopeId]);
  }

  /** An inbound envelope's digest, storage time, receipt and sender. */
  inbound(envelopeId: string): Promise<{ digest: string; stored_at: string; receipt: string | null; from_authority: string } | undefined> {
    return this.#sql.get("SELECT digest, stored_at, receipt, from_authority FROM envelopes WHERE envelope_id = ? AND direction = 'inbound'", [envelopeId]);
  }

  /** Whether an envelope with this id is stored. */
  async exists(envelopeId: string): Promise<boolean> {
    return (await this.#sql.get("SELECT 1 AS one FROM envelopes WHERE envelope_id = ?", [envelopeId])) !== undefined;
  }

  /** The wire form (flattened JWS JSON) of an envelope. */
  async wire(envelopeId: string): Promise<string | undefined> {
    return (await this.#sql.get<{ wire: string }>("SELECT wire FROM envelope_bodies WHERE envelope_id = ?", [envelopeId]))?.wire;
  }

  /** The business document and digest of an envelope of a case. */
  documentOf(caseId: string, envelopeId: string): Promise<{ document: string; digest: string; type: string } | undefined> {
    return this.#sql.get(
      "SELECT b.document, e.digest, e.type FROM envelopes e JOIN envelope_bodies b ON b.envelope_id = e.envelope_id WHERE e.envelope_id = ? AND e.case_id = ?",
      [envelopeId, caseId],
    );
  }

  /** The envelope with its wire form and document. */
  withBody(envelopeId: string): Promise<(EnvelopeRow & { wire: string; document: string }) | undefined> {
    return this.#sql.get("SELECT e.*, b.wire, b.document FROM envelopes e JOIN envelope_bodies b ON b.envelope_id = e.envelope_id WHERE e.envelope_id = ?", [envelopeId]);
  }

  /** The envelopes of a case with their delivery state, in the order stored. */
  ofCase(caseId: string): Promise<EnvelopeWithDelivery[]> {
    return this.#sql.all<EnvelopeWithDelivery>(
      `SELECT e.*, o.state, o.attempts, o.last_error, o.next_attempt_at, o.superseded_by
         FROM envelopes e LEFT JOIN outbox o ON o.envelope_id = e.envelope_id
        WHERE e.case_id = ? ORDER BY e.stored_at, e.envelope_id`,
      [caseId],
    );
  }

  /** The envelopes of a case, metadata only (never bodies), in the order stored. */
  ofCaseMetadata(caseId: string): Promise<EnvelopeRow[]> {
    return this.#sql.all<EnvelopeRow>("SELECT * FROM envelopes WHERE case_id = ? ORDER BY stored_at, envelope_id", [caseId]);
  }

  /** Envelopes of one direction that hold a receipt, in the order stored. */
  withReceipts(direction: "outbound" | "inbound"): Promise<EnvelopeRow[]> {
    return this.#sql.all<EnvelopeRow>("SELECT * FROM envelopes WHERE direction = ? AND receipt IS NOT NULL ORDER BY stored_at, envelope_id", [direction]);
  }

  /** Records the receipt of an envelope (issued for inbound, verified for outbound). */
  setReceipt(envelopeId: string, receipt: string): Promise<unknown> {
    return this.#sql.run("UPDATE envelopes SET receipt = ? WHERE envelope_id = ?", [receipt, envelopeId]);
  }
}

/** The outbox: envelopes to deliver, claimed under a lease. */
export class OutboxRepository {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** Queues an envelope for delivery. */
  /** Queues an envelope for delivery, due at `at`; `createdAt` (default `at`) is when its delivery started (the give-up time counts from there). */
  async enqueue(o: { envelopeId: string; peer: string; rank: number; at: Date; createdAt?: string }): Promise<void> {
    await this.#sql.run("INSERT INTO outbox (envelope_id, peer, state, attempts, next_attempt_at, created_at, rank) VALUES (?, ?, 'pending', 0, ?, ?, ?)", [
      o.envelopeId,
      o.peer,
      o.at.getTime(),
      o.createdAt ?? o.at.toISOString(),
      o.rank,
    ]);
  }

  /**
   * Claims up to `limit` due envelopes for `owner` until `now + leaseMs`:
   * pending, due at `now` (the gateway's clock), and not leased by a live
   * instance at `leaseNow` (the wall clock). On PostgreSQL rows another
   * instance is claiming are skipped, not waited for.
   */
  async claimDue(owner: string, now: number, leaseMs: number, limit: number, skip: readonly string[] = [], leaseNow = now): Promise<DueEnvelope[]> {
    const lock = this.#sql.dialect === "postgres" ? "FOR UPDATE SKIP LOCKED" : "";
    const exclude = skip.length === 0 ? "" : `AND envelope_id NOT IN (${skip.map(() => "?").join(", ")})`;
    const claimed = await this.#sql.all<{ envelope_id: string }>(
      `UPDATE outbox SET lease_owner = ?, lease_expires_at = ?
        WHERE envelope_id IN (SELECT envelope_id FROM outbox
                               WHERE state = 'pending' AND next_attempt_at <= ? AND lease_expires_at <= ? ${exclude}
                               ORDER BY rank, next_attempt_at LIMIT ? ${lock})
        RETURNING envelope_id`,
      [owner, leaseNow + leaseMs, now, leaseNow, ...skip, limit],
    );
    if (claimed.length === 0) return [];
    return this.#sql.all<DueEnvelope>(
      `SELECT o.envelope_id, o.peer, o.attempts, o.created_at, o.retry_from, e.digest, e.case_id, e.type, e.signer_kid, e.in_reply_to
         FROM outbox o JOIN envelopes e ON e.envelope_id = o.envelope_id
        WHERE o.envelope_id IN (${claimed.map(() => "?").join(", ")}) ORDER BY o.rank, o.next_attempt_at`,
      claimed.map((row) => row.envelope_id),
    );
  }

  /** Extends the leases `owner` holds on these envelopes. */
  renew(owner: string, envelopeIds: readonly string[], until: number): Promise<unknown> {
    if (envelopeIds.length === 0) return Promise.resolve();
    return this.#sql.run(`UPDATE outbox SET lease_expires_at = ? WHERE lease_owner = ? AND envelope_id IN (${envelopeIds.map(() => "?").join(", ")})`, [
      until,
      owner,
      ...envelopeIds,
    ]);
  }

  /** When the next pending envelope is due (epoch ms), if any. */
  async nextDue(): Promise<number | undefined> {
    const row = await this.#sql.get<{ next: number | null }>("SELECT MIN(CASE WHEN lease_expires_at > next_attempt_at THEN lease_expires_at ELSE next_attempt_at END) AS next FROM outbox WHERE state = 'pending'");
    return row?.next ?? undefined;
  }

  /**
   * Marks an envelope delivered; false if it was neither pending nor
   * cancelled (another instance finished it). A cancelled envelope whose
   * delivery was already in flight is delivered all the same: the peer's
   * verified receipt says it holds the envelope, whatever the operator meant.
   */
  async markDelivered(envelopeId: string, at: string): Promise<boolean> {
    const changed = await this.#sql.run(
      "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, finished_at = ?, last_error = NULL, lease_owner = NULL, lease_expires_at = 0 WHERE envelope_id = ? AND state IN ('pending', 'cancelled')",
      [at, envelopeId],
    );
    return changed.changes > 0;
  }

  /** Gives up on a pending envelope; false if it was not pending. */
  async markFailed(envelopeId: string, attempts: number, error: string, at: string): Promise<boolean> {
    const changed = await this.#sql.run(
      "UPDATE outbox SET state = 'failed', attempts = ?, last_error = ?, finished_at = ?, lease_owner = NULL, lease_expires_at = 0 WHERE envelope_id = ? AND state = 'pending'",
      [attempts, error, at, envelopeId],
    );
    return changed.changes > 0;
  }

  /** Schedules the next attempt and releases the lease. */
  reschedule(envelopeId: string, attempts: number, nextAttemptAt: number, error: string): Promise<unknown> {
    return this.#sql.run(
      "UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ?, lease_owner = NULL, lease_expires_at = 0 WHERE envelope_id = ? AND state = 'pending'",
      [attempts, nextAttemptAt, error, envelopeId],
    );
  }

  /** The delivery state of an envelope. */
  get(envelopeId: string): Promise<{ state: string; attempts: number; last_error: string | null; peer: string } | undefined> {
    return this.#sql.get("SELECT state, attempts, last_error, peer FROM outbox WHERE envelope_id = ?", [envelopeId]);
  }

  /** Outbox rows with their case and type, newest first; only `state` (and `peer`) when given. */
  list(filter: { states?: readonly OutboxState[]; peer?: string; after?: readonly [string, string]; limit: number }): Promise<OutboxRow[]> {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (filter.states !== undefined) {
      where.push(`o.state IN (${filter.states.map(() => "?").join(", ")})`);
      params.push(...filter.states);
    }
    if (filter.peer !== undefined) {
      where.push("o.peer = ?");
      params.push(filter.peer);
    }
    if (filter.after !== undefined) {
      // After the last row of the previous page, in this list's order.
      where.push("(o.created_at < ? OR (o.created_at = ? AND o.envelope_id > ?))");
      params.push(filter.after[0], filter.after[0], filter.after[1]);
    }
    return this.#sql.all<OutboxRow>(
      `SELECT o.envelope_id, e.case_id, e.type, o.peer, o.state, o.attempts, o.next_attempt_at, o.last_error, o.created_at, o.finished_at, o.retry_from, o.lease_owner, o.lease_expires_at
         FROM outbox o JOIN envelopes e ON e.envelope_id = o.envelope_id
        ${where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`}
        ORDER BY o.created_at DESC, o.envelope_id LIMIT ?`,
      [...params, filter.limit],
    );
  }

  /** One outbox row with its case and type. */
  show(envelopeId: string): Promise<OutboxRow | undefined> {
    return this.#sql.get<OutboxRow>(
      `SELECT o.envelope_id, e.case_id, e.type, o.peer, o.state, o.attempts, o.next_attempt_at, o.last_error, o.created_at, o.finished_at, o.retry_from, o.lease_owner, o.lease_expires_at
         FROM outbox o JOIN envelopes e ON e.envelope_id = o.envelope_id WHERE o.envelope_id = ?`,
      [envelopeId],
    );
  }

  /**
   * An operator's retry: a failed or pending envelope becomes due at `at`
   * (epoch ms), and its give-up clock restarts then. False when the
   * envelope is delivered or cancelled.
   */
  async retry(envelopeId: string, at: number): Promise<boolean> {
    const changed = await this.#sql.run(
      "UPDATE outbox SET state = 'pending', next_attempt_at = ?, retry_from = ?, finished_at = NULL WHERE envelope_id = ? AND state IN ('pending', 'failed')",
      [at, new Date(at).toISOString(), envelopeId],
    );
    return changed.changes > 0;
  }

  /** An operator's cancel: a pending or failed envelope is not delivered any more. False when it is delivered or cancelled. */
  async cancel(envelopeId: string, at: string): Promise<boolean> {
    const changed = await this.#sql.run(
      "UPDATE outbox SET state = 'cancelled', finished_at = ?, lease_owner = NULL, lease_expires_at = 0 WHERE envelope_id = ? AND state IN ('pending', 'failed')",
      [at, envelopeId],
    );
    return changed.changes > 0;
  }

  /** The oldest pending envelope (the outbox is stuck when it is old), if any. */
  oldestPending(): Promise<{ envelope_id: string; peer: string; created_at: string; retry_from: string | null; attempts: number; last_error: string | null } | undefined> {
    return this.#sql.get(
      "SELECT envelope_id, peer, created_at, retry_from, attempts, last_error FROM outbox WHERE state = 'pending' ORDER BY COALESCE(retry_from, created_at), envelope_id LIMIT 1",
    );
  }

  /** Pending and failed counts and since when the oldest pending envelope waits (created, or retried by an operator). */
  async health(): Promise<{ pending: number; failed: number; oldest: string | null }> {
    const row = await this.#sql.get<{ pending: number | null; failed: number | null; oldest: string | null }>(
      `SELECT SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END) AS pending, SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) AS failed,
              MIN(CASE WHEN state = 'pending' THEN COALESCE(retry_from, created_at) END) AS oldest FROM outbox`,
    );
    return { pending: row?.pending ?? 0, failed: row?.failed ?? 0, oldest: row?.oldest ?? null };
  }

  /** Whether the envelope's outbox row was superseded by a re-sealed one. */
  async isSuperseded(envelopeId: string): Promise<boolean> {
    return (await this.#sql.get("SELECT 1 AS one FROM outbox WHERE envelope_id = ? AND state = 'superseded'", [envelopeId])) !== undefined;
  }

  /** The envelope that replaced a superseded one, if any. */
  async supersededBy(envelopeId: string): Promise<string | null> {
    return (await this.#sql.get<{ superseded_by: string | null }>("SELECT superseded_by FROM outbox WHERE envelope_id = ? AND state = 'superseded'", [envelopeId]))?.superseded_by ?? null;
  }

  /** A pending outbound envelope with what re-sealing needs (its body and when it was first queued). */
  pendingWithBody(envelopeId: string): Promise<{ case_id: string; digest: string; signer_kid: string; in_reply_to: string | null; wire: string; document: string; queued_since: string } | undefined> {
    return this.#sql.get(
      `SELECT e.case_id, e.digest, e.signer_kid, e.in_reply_to, b.wire, b.document, o.created_at AS queued_since
         FROM envelopes e JOIN envelope_bodies b ON b.envelope_id = e.envelope_id JOIN outbox o ON o.envelope_id = e.envelope_id
        WHERE e.envelope_id = ? AND e.direction = 'outbound' AND o.state = 'pending'`,
      [envelopeId],
    );
  }

  /** The state of an envelope's outbox row. */
  async state(envelopeId: string): Promise<string | undefined> {
    return (await this.#sql.get<{ state: string }>("SELECT state FROM outbox WHERE envelope_id = ?", [envelopeId]))?.state;
  }

  /** Makes pending envelopes due at `at`: those signed by one of `kids`. Returns how many. */
  async expediteSignedBy(kids: readonly string[], at: number): Promise<number> {
    if (kids.length === 0) return 0;
    // Driven by the pending rows (indexed), not by every envelope ever sent.
    const changed = await this.#sql.run(
      `UPDATE outbox SET next_attempt_at = ? WHERE state = 'pending'
          AND envelope_id IN (SELECT e.envelope_id FROM envelopes e WHERE e.envelope_id = outbox.envelope_id AND e.signer_kid IN (${kids.map(() => "?").join(", ")}))`,
      [at, ...kids],
    );
    return changed.changes;
  }

  /** Makes pending envelopes that follow `envelopeId` (inReplyTo) due at `at`. */
  expediteFollowers(envelopeId: string, at: number): Promise<unknown> {
    return this.#sql.run(
      "UPDATE outbox SET next_attempt_at = ? WHERE state = 'pending' AND envelope_id IN (SELECT e.envelope_id FROM envelopes e WHERE e.envelope_id = outbox.envelope_id AND e.in_reply_to = ?)",
      [at, envelopeId],
    );
  }

  /** Delays a pending envelope to `at` and releases its lease (nothing was attempted). */
  delay(envelopeId: string, at: number): Promise<unknown> {
    return this.#sql.run("UPDATE outbox SET next_attempt_at = ?, lease_owner = NULL, lease_expires_at = 0 WHERE envelope_id = ? AND state = 'pending'", [at, envelopeId]);
  }

  /** Marks an envelope superseded by its re-sealed replacement. */
  supersede(envelopeId: string, by: string, at: string): Promise<unknown> {
    return this.#sql.run("UPDATE outbox SET state = 'superseded', superseded_by = ?, finished_at = ?, last_error = NULL, lease_owner = NULL, lease_expires_at = 0 WHERE envelope_id = ?", [
      by,
      at,
      envelopeId,
    ]);
  }

  /** A pending outbound envelope's signer and predecessor. */
  pending(envelopeId: string): Promise<{ envelope_id: string; signer_kid: string; in_reply_to: string | null } | undefined> {
    return this.#sql.get(
      "SELECT e.envelope_id, e.signer_kid, e.in_reply_to FROM envelopes e JOIN outbox o ON o.envelope_id = e.envelope_id WHERE e.envelope_id = ? AND o.state = 'pending'",
      [envelopeId],
    );
  }

  /** Envelopes delivered and failed, by state. */
  async finishedCounts(): Promise<{ delivered: number; failed: number }> {
    const rows = await this.#sql.all<{ state: string; n: number }>("SELECT state, COUNT(*) AS n FROM outbox WHERE state <> 'pending' GROUP BY state");
    return { delivered: rows.find((r) => r.state === "delivered")?.n ?? 0, failed: rows.find((r) => r.state === "failed")?.n ?? 0 };
  }

  /** Every finished envelope with its state and when it finished. */
  finished(): Promise<Array<{ envelope_id: string; state: string; finished_at: string }>> {
    return this.#sql.all("SELECT envelope_id, state, finished_at FROM outbox WHERE state <> 'pending'");
  }

  /** Number of pending envelopes. */
  async pendingCount(): Promise<number> {
    return (await this.#sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'"))?.n ?? 0;
  }
}
