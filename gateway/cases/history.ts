/**
 * The stored lifecycle of cases: the case row's lifecycle columns and the
 * `case_steps` rows (migration 005). Written inside the caller's
 * transaction, together with the envelope and the audit entries.
 */
import type { Db } from "../store/database.js";
import { statement } from "../store/statements.js";
import type { Priority } from "../envelope/types.js";
import type { CaseHistory, PlacedStep } from "./placement.js";
import type { CaseStatus, CaseStep, RefusalGround, Side } from "./lifecycle.js";
import { parseFacts, type CaseFacts } from "./facts.js";

/** A case row with its lifecycle columns. */
export interface CaseRecord {
  readonly caseId: string;
  readonly direction: "outbound" | "inbound";
  readonly kind: string;
  readonly peer: string;
  readonly status: CaseStatus;
  readonly priority: Priority;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly requestEnvelopeId: string | null;
  readonly headEnvelopeId: string | null;
  readonly receivedAt: string | null;
  readonly facts: CaseFacts;
}

/** One status update of a case, as stored. */
export interface StepRecord extends PlacedStep {
  readonly caseId: string;
  readonly step: CaseStep;
  /** The step's time, as its author signed it. */
  readonly at: string;
  /** Refusal grounds (codes only). */
  readonly grounds: readonly RefusalGround[];
}

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
}

interface StepRow {
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

/** A `cases` row as a {@link CaseRecord}. */
export function caseRecordOf(row: CaseRow): CaseRecord {
  return {
    caseId: row.case_id,
    direction: row.direction,
    kind: row.kind,
    peer: row.peer,
    status: row.status as CaseStatus,
    priority: row.priority,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    requestEnvelopeId: row.request_envelope_id,
    headEnvelopeId: row.head_envelope_id,
    receivedAt: row.received_at,
    facts: parseFacts(row.facts),
  };
}

function stepOf(row: StepRow): StepRecord {
  return {
    envelopeId: row.envelope_id,
    caseId: row.case_id,
    seq: row.seq,
    predecessor: row.predecessor,
    step: row.step as CaseStep,
    by: row.by_side,
    from: row.from_status as CaseStatus,
    to: row.to_status as CaseStatus,
    at: row.at,
    grounds: row.grounds === null ? [] : (JSON.parse(row.grounds) as RefusalGround[]),
    state: row.state,
    supersededBy: row.superseded_by,
  };
}

/** The case, or undefined. */
export function readCase(db: Db, caseId: string): CaseRecord | undefined {
  const row = statement(db, "SELECT * FROM cases WHERE case_id = ?").get(caseId) as CaseRow | undefined;
  return row === undefined ? undefined : caseRecordOf(row);
}

/** Every step of a case: by position in the history, the applied one first, then by envelope id. */
export function stepsOfCase(db: Db, caseId: string): StepRecord[] {
  return (
    statement(db, "SELECT * FROM case_steps WHERE case_id = ? ORDER BY seq, CASE state WHEN 'applied' THEN 0 ELSE 1 END, envelope_id").all(caseId) as StepRow[]
  ).map(stepOf);
}

/** Steps in history order: by position, the applied one first, then by envelope id. */
function historyOrder(a: StepRecord, b: StepRecord): number {
  return a.seq - b.seq || (a.state === b.state ? 0 : a.state === "applied" ? -1 : 1) || (a.envelopeId < b.envelopeId ? -1 : a.envelopeId > b.envelopeId ? 1 : 0);
}

/** Rows grouped by case id, each group in history order (sorted here: cheaper than sorting every row in SQL). */
function grouped(rows: readonly StepRow[]): Map<string, StepRecord[]> {
  const byCase = new Map<string, StepRecord[]>();
  for (const row of rows) {
    const list = byCase.get(row.case_id);
    if (list === undefined) byCase.set(row.case_id, [stepOf(row)]);
    else list.push(stepOf(row));
  }
  for (const list of byCase.values()) if (list.length > 1) list.sort(historyOrder);
  return byCase;
}

/** Every step of every case, grouped by case id, each list ordered as {@link stepsOfCase}. */
export function stepsByCase(db: Db): Map<string, StepRecord[]> {
  return grouped(statement(db, "SELECT * FROM case_steps").all() as StepRow[]);
}

/** Statuses in which a case can still have a running clock (see gateway/cases/clocks.ts). */
export const CLOCKED_STATUSES_SQL = "status NOT IN ('closed', 'withdrawn', 'refused', 'submitted')";

/** The history of a case for {@link placeStep}. */
export function historyOf(record: CaseRecord, steps: readonly StepRecord[]): CaseHistory {
  return { requestEnvelopeId: record.requestEnvelopeId ?? "", steps };
}

/** Stores a step. */
export function insertStep(db: Db, step: StepRecord): void {
  statement(
    db,
    `INSERT INTO case_steps (envelope_id, case_id, seq, predecessor, step, by_side, from_status, to_status, at, grounds, state, superseded_by)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    step.envelopeId,
    step.caseId,
    step.seq,
    step.predecessor,
    step.step,
    step.by,
    step.from,
    step.to,
    step.at,
    step.grounds.length === 0 ? null : JSON.stringify(step.grounds),
    step.state,
    step.supersededBy,
  );
}

/** Marks applied steps superseded by `winner` (a rollback). */
export function supersedeSteps(db: Db, envelopeIds: readonly string[], winner: string): void {
  for (const id of envelopeIds) {
    statement(db, "UPDATE case_steps SET state = 'superseded', superseded_by = ? WHERE envelope_id = ? AND state = 'applied'").run(winner, id);
  }
}

/** Moves the case to `status` with `head` as the last applied step. */
export function moveCase(db: Db, caseId: string, status: CaseStatus, head: string, now: Date): void {
  statement(db, "UPDATE cases SET status = ?, head_envelope_id = ?, updated_at = ? WHERE case_id = ?").run(status, head, now.toISOString(), caseId);
}

/**
 * Records the lifecycle columns of a case just opened with its request
 * envelope (both sides), and when it was received (inbound: now).
 */
export function recordCaseOpened(db: Db, caseId: string, requestEnvelopeId: string, facts: CaseFacts, receivedAt: string | null): void {
  statement(db, "UPDATE cases SET request_envelope_id = ?, head_envelope_id = ?, facts = ?, received_at = COALESCE(?, received_at) WHERE case_id = ?").run(
    requestEnvelopeId,
    requestEnvelopeId,
    JSON.stringify(facts),
    receivedAt,
    caseId,
  );
}
