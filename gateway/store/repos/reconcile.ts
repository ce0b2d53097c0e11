/**
 * What two gateways compare when they reconcile (gateway/reconcile/): the
 * cases, envelopes and lifecycle steps one side holds about its exchanges
 * with one peer, and the writes that bring back what a restore lost.
 */
import type { Sql } from "../sql.js";
import type { CaseRow, StepRow } from "./cases.js";
import type { EnvelopeRow } from "./envelopes.js";

/** Reconciliation queries and writes. */
export class ReconcileRepository {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** Cases shared with `peer`, oldest first. */
  casesWith(peer: string): Promise<CaseRow[]> {
    return this.#sql.all<CaseRow>("SELECT * FROM cases WHERE peer = ? ORDER BY created_at, case_id", [peer]);
  }

  /** Envelopes sent to or received from `peer`, in the order stored. */
  envelopesWith(peer: string): Promise<EnvelopeRow[]> {
    return this.#sql.all<EnvelopeRow>("SELECT * FROM envelopes WHERE from_authority = ? OR to_authority = ? ORDER BY stored_at, envelope_id", [peer, peer]);
  }

  /** Lifecycle steps of the cases shared with `peer`. */
  stepsWith(peer: string): Promise<StepRow[]> {
    return this.#sql.all<StepRow>("SELECT s.* FROM case_steps s JOIN cases c ON c.case_id = s.case_id WHERE c.peer = ? ORDER BY s.case_id, s.seq, s.envelope_id", [peer]);
  }

  /** Opens a case as the peer's copy describes it (mirrored), or does nothing if the id exists. */
  async insertCase(c: CaseRow): Promise<boolean> {
    const inserted = await this.#sql.run(
      `INSERT INTO cases (case_id, direction, kind, peer, status, priority, created_at, updated_at, facts, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [c.case_id, c.direction, c.kind, c.peer, c.status, c.priority, c.created_at, c.updated_at, c.facts, c.received_at],
    );
    return inserted.changes > 0;
  }

  /** Sets a case's status, request, head and times to the peer's copy (once their envelopes are stored). */
  setCaseState(c: Pick<CaseRow, "case_id" | "status" | "request_envelope_id" | "head_envelope_id" | "updated_at" | "received_at">): Promise<unknown> {
    return this.#sql.run(
      "UPDATE cases SET status = ?, request_envelope_id = COALESCE(?, request_envelope_id), head_envelope_id = ?, updated_at = ?, received_at = COALESCE(received_at, ?) WHERE case_id = ?",
      [c.status, c.request_envelope_id, c.head_envelope_id, c.updated_at, c.received_at, c.case_id],
    );
  }

  /** An outbound envelope recovered from the peer: recorded as delivered (the peer's receipt proves it), never sent again. */
  recordDelivered(envelopeId: string, peer: string, createdAt: string, finishedAt: string): Promise<unknown> {
    return this.#sql.run(
      "INSERT INTO outbox (envelope_id, peer, state, attempts, next_attempt_at, created_at, finished_at) VALUES (?, ?, 'delivered', 1, 0, ?, ?) ON CONFLICT DO NOTHING",
      [envelopeId, peer, createdAt, finishedAt],
    );
  }
}
