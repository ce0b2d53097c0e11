/**
 * Cases, their lifecycle steps and the deadline alerts already raised
 * (`cases`, `case_steps`, `case_deadline_alerts`).
 */
import type { Sql } from "../sql.js";
import type { Priority } from "../../envelope/types.js";
import type { Side } from "../../cases/lifecycle.js";

/** A row of `cases`. */
export interface CaseRow {
  case_id: string;
  direction: "outbound" | "inbound";
  kind: string;
  peer: string;
  status: string;
  priority: Priority;
  created_at: string;
  updated_at: string;
  request_envelope_id: string | null;
  head_envelope_id: string | null;
  received_at: string | null;
  facts: string;
  reference: string | null;
}

/** A row of `case_steps`. */
export interface StepRow {
  envelope_id: string;
  case_id: string;
  seq: number;
  predecessor: string;
  step: string;
  by_side: Side;
  from_status: string;
  to_status: string;
  at: string;
  grounds: string | null;
  state: "applied" | "superseded";
  superseded_by: string | null;
}

/** A case as it opens. */
export interface NewCase {
  readonly caseId: string;
  readonly direction: "outbound" | "inbound";
  readonly kind: string;
  readonly peer: string;
  readonly status: string;
  readonly priority: Priority;
  readonly at: string;
}

/** Filters and position of one page of cases (see {@link CasesRepository.page}). */
export interface CasePageQuery {
  readonly direction: string | null;
  readonly status: string | null;
  readonly peer: string | null;
  readonly priority: string | null;
  readonly reference: string | null;
  /** Only cases changed at or after this time (RFC 3339). */
  readonly updatedSince: string | null;
  /** Only these cases (e.g. the overdue ones); null for any. */
  readonly caseIds: readonly string[] | null;
  /** The sort key of the previous page's last case: priority rank, created_at, case_id. */
  readonly after: readonly [number, string, string] | null;
  readonly limit: number;
}

/** Statuses in which a case can still have a running clock (see gateway/cases/clocks.ts). */
const CLOCKED = "status NOT IN ('closed', 'withdrawn', 'refused', 'unable-to-execute', 'submitted')";

// Emergency first, then urgent, then normal.
const PRIORITY_ORDER = "CASE priority WHEN 'emergency' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END";

/** Cases, steps and deadline alerts. */
export class CasesRepository {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** Opens a case (`STORE_DUPLICATE` if the id exists). */
  async insert(c: NewCase): Promise<void> {
    await this.#sql.run(
      "INSERT INTO cases (case_id, direction, kind, peer, status, priority, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      [c.caseId, c.direction, c.kind, c.peer, c.status, c.priority, c.at, c.at],
    );
  }

  /** The case row, if any. */
  get(caseId: string): Promise<CaseRow | undefined> {
    return this.#sql.get<CaseRow>("SELECT * FROM cases WHERE case_id = ?", [caseId]);
  }

  /**
   * The case row, locked until the transaction ends (PostgreSQL: FOR
   * UPDATE): read it first in a transaction that moves the case, so two
   * instances cannot both move it from the same head. (SQLite serializes writers.)
   */
  getForUpdate(caseId: string): Promise<CaseRow | undefined> {
    return this.#sql.get<CaseRow>(`SELECT * FROM cases WHERE case_id = ?${this.#sql.dialect === "postgres" ? " FOR UPDATE" : ""}`, [caseId]);
  }

  /** Cases filtered by direction and status, emergency first, then newest first. */
  list(filter: { readonly direction: string | null; readonly status: string | null; readonly limit: number }): Promise<CaseRow[]> {
    return this.#sql.all<CaseRow>(
      `SELECT * FROM cases WHERE (CAST(? AS TEXT) IS NULL OR direction = ?) AND (CAST(? AS TEXT) IS NULL OR status = ?)
        ORDER BY ${PRIORITY_ORDER}, created_at DESC LIMIT ?`,
      [filter.direction, filter.direction, filter.status, filter.status, filter.limit],
    );
  }

  /**
   * One page of cases in the order of {@link list} (emergency first, then
   * newest first, then by id), after the sort key `after`. Every part of the
   * key is fixed when the case opens, so paging neither skips nor repeats a
   * case while cases change.
   */
  page(q: CasePageQuery): Promise<Array<CaseRow & { rank: number }>> {
    const params: Array<string | number | null> = [q.direction, q.direction, q.status, q.status, q.peer, q.peer, q.priority, q.priority, q.reference, q.reference, q.updatedSince, q.updatedSince];
    let where = `(CAST(? AS TEXT) IS NULL OR direction = ?) AND (CAST(? AS TEXT) IS NULL OR status = ?) AND (CAST(? AS TEXT) IS NULL OR peer = ?)
      AND (CAST(? AS TEXT) IS NULL OR priority = ?) AND (CAST(? AS TEXT) IS NULL OR reference = ?) AND (CAST(? AS TEXT) IS NULL OR updated_at >= ?)`;
    if (q.caseIds !== null) {
      where += q.caseIds.length === 0 ? " AND 1 = 0" : ` AND case_id IN (${q.caseIds.map(() => "?").join(", ")})`;
      params.push(...q.caseIds);
    }
    if (q.after !== null) {
      const [rank, createdAt, caseId] = q.after;
      where += ` AND (${PRIORITY_ORDER} > ? OR (${PRIORITY_ORDER} = ? AND (created_at < ? OR (created_at = ? AND case_id > ?))))`;
      params.push(rank, rank, createdAt, createdAt, caseId);
    }
    params.push(q.limit);
    return this.#sql.all<CaseRow & { rank: number }>(`SELECT *, ${PRIORITY_ORDER} AS rank FROM cases WHERE ${where} ORDER BY rank, created_at DESC, case_id LIMIT ?`, params);
  }

  /** Records the requesting authority's reference of a case. */
  setReference(caseId: string, reference: string): Promise<unknown> {
    return this.#sql.run("UPDATE cases SET reference = ? WHERE case_id = ?", [reference, caseId]);
  }

  /** Every case, oldest first (reports). */
  all(): Promise<CaseRow[]> {
    return this.#sql.all<CaseRow>("SELECT * FROM cases ORDER BY created_at, case_id");
  }

  /** Cases whose clocks can still run (received, not closed, withdrawn or refused). */
  clocked(): Promise<CaseRow[]> {
    return this.#sql.all<CaseRow>(`SELECT * FROM cases WHERE ${CLOCKED} AND received_at IS NOT NULL`);
  }

  /** Records the request envelope, the facts and (inbound) when it was received. */
  recordOpened(caseId: string, requestEnvelopeId: string, facts: string, receivedAt: string | null): Promise<unknown> {
    return this.#sql.run("UPDATE cases SET request_envelope_id = ?, head_envelope_id = ?, facts = ?, received_at = COALESCE(?, received_at) WHERE case_id = ?", [
      requestEnvelopeId,
      requestEnvelopeId,
      facts,
      receivedAt,
      caseId,
    ]);
  }

  /** Moves the case to `status` with `head` as the last applied step. */
  move(caseId: string, status: string, head: string, at: string): Promise<unknown> {
    return this.#sql.run("UPDATE cases SET status = ?, head_envelope_id = ?, updated_at = ? WHERE case_id = ?", [status, head, at, caseId]);
  }

  /** The peer's receipt of our request: when it was received (null: its clocks do not start), and `submitted` becomes `received` (false if the case had moved on). */
  async markReceived(caseId: string, receivedAt: string | null, at: string): Promise<boolean> {
    await this.#sql.run("UPDATE cases SET received_at = COALESCE(received_at, ?) WHERE case_id = ?", [receivedAt, caseId]);
    const moved = await this.#sql.run("UPDATE cases SET status = 'received', updated_at = ? WHERE case_id = ? AND status = 'submitted'", [at, caseId]);
    return moved.changes > 0;
  }

  /** Every step of a case: by position in the history, the applied one first, then by envelope id. */
  steps(caseId: string): Promise<StepRow[]> {
    return this.#sql.all<StepRow>("SELECT * FROM case_steps WHERE case_id = ? ORDER BY seq, CASE state WHEN 'applied' THEN 0 ELSE 1 END, envelope_id", [caseId]);
  }

  /** Every step of every case, unordered. */
  allSteps(): Promise<StepRow[]> {
    return this.#sql.all<StepRow>("SELECT * FROM case_steps");
  }

  /** Applied steps of the cases whose clocks can run. */
  clockedSteps(): Promise<StepRow[]> {
    return this.#sql.all<StepRow>(`SELECT s.* FROM case_steps s JOIN cases c ON c.case_id = s.case_id WHERE s.state = 'applied' AND c.${CLOCKED}`);
  }

  /** Stores a step. */
  insertStep(row: StepRow): Promise<unknown> {
    return this.#sql.run(
      `INSERT INTO case_steps (envelope_id, case_id, seq, predecessor, step, by_side, from_status, to_status, at, grounds, state, superseded_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [row.envelope_id, row.case_id, row.seq, row.predecessor, row.step, row.by_side, row.from_status, row.to_status, row.at, row.grounds, row.state, row.superseded_by],
    );
  }

  /** Marks an applied step superseded by `winner`. */
  supersedeStep(envelopeId: string, winner: string): Promise<unknown> {
    return this.#sql.run("UPDATE case_steps SET state = 'superseded', superseded_by = ? WHERE envelope_id = ? AND state = 'applied'", [winner, envelopeId]);
  }

  /**
   * A re-sealed envelope takes its original's place in the case: the case's
   * request and head, its step (and the steps naming it), a deadline
   * alert's hop. `stepTime`: the step's new signed time.
   */
  async replaceEnvelope(caseId: string, oldId: string, newId: string, stepTime: string | null): Promise<void> {
    await this.#sql.run("UPDATE cases SET request_envelope_id = ? WHERE case_id = ? AND request_envelope_id = ?", [newId, caseId, oldId]);
    await this.#sql.run("UPDATE cases SET head_envelope_id = ? WHERE case_id = ? AND head_envelope_id = ?", [newId, caseId, oldId]);
    await this.#sql.run("UPDATE case_steps SET envelope_id = ?, at = COALESCE(?, at) WHERE envelope_id = ?", [newId, stepTime, oldId]);
    await this.#sql.run("UPDATE case_steps SET predecessor = ? WHERE case_id = ? AND predecessor = ?", [newId, caseId, oldId]);
    await this.#sql.run("UPDATE case_steps SET superseded_by = ? WHERE case_id = ? AND superseded_by = ?", [newId, caseId, oldId]);
    await this.#sql.run("UPDATE case_deadline_alerts SET hop_key = ? WHERE case_id = ? AND hop_key = ?", [newId, caseId, oldId]);
  }

  /** Deadline alerts already raised for cases whose clocks can run. */
  raisedAlerts(): Promise<Array<{ case_id: string; clock: string; hop_key: string }>> {
    return this.#sql.all(`SELECT a.case_id, a.clock, a.hop_key FROM case_deadline_alerts a JOIN cases c ON c.case_id = a.case_id WHERE c.${CLOCKED}`);
  }

  /** Records a missed deadline; false if it was recorded before. */
  async raiseAlert(a: { caseId: string; clock: string; key: string; dueAt: string; detectedAt: string }): Promise<boolean> {
    const inserted = await this.#sql.run(
      "INSERT INTO case_deadline_alerts (case_id, clock, hop_key, due_at, detected_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
      [a.caseId, a.clock, a.key, a.dueAt, a.detectedAt],
    );
    return inserted.changes > 0;
  }
}
