/**
 * The stored lifecycle of cases: the case row's lifecycle columns and the
 * `case_steps` rows, through the store's cases repository. Written inside
 * the caller's transaction, together with the envelope and the audit entries.
 */
import type { Tx } from "../store/store.js";
import type { CaseRow, StepRow } from "../store/repos/cases.js";
import type { Priority } from "../envelope/types.js";
import type { CaseHistory, PlacedStep } from "./placement.js";
import type { CaseStatus, CaseStep } from "./lifecycle.js";
import { parseFacts, type CaseFacts } from "./facts.js";

export type { CaseRow } from "../store/repos/cases.js";
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
  /** Codes only: a refusal's grounds, or why a request could not be executed (unable-to-execute). */
  readonly grounds: readonly string[];
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
    grounds: row.grounds === null ? [] : (JSON.parse(row.grounds) as string[]),
    state: row.state,
    supersededBy: row.superseded_by,
  };
}

/** The case, or undefined. */
export async function readCase(tx: Tx, caseId: string, options: { readonly forUpdate?: boolean } = {}): Promise<CaseRecord | undefined> {
  const row = options.forUpdate === true ? await tx.cases.getForUpdate(caseId) : await tx.cases.get(caseId);
  return row === undefined ? undefined : caseRecordOf(row);
}

/** Every step of a case: by position in the history, the applied one first, then by envelope id. */
export async function stepsOfCase(tx: Tx, caseId: string): Promise<StepRecord[]> {
  return (await tx.cases.steps(caseId)).map(stepOf);
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
export async function stepsByCase(tx: Tx): Promise<Map<string, StepRecord[]>> {
  return grouped(await tx.cases.allSteps());
}

/** Applied steps of the cases whose clocks can still run, grouped by case id, in history order. */
export async function clockedStepsByCase(tx: Tx): Promise<Map<string, StepRecord[]>> {
  return grouped(await tx.cases.clockedSteps());
}

/** The history of a case for {@link placeStep}. */
export function historyOf(record: CaseRecord, steps: readonly StepRecord[]): CaseHistory {
  return { requestEnvelopeId: record.requestEnvelopeId ?? "", steps };
}

/** Stores a step. */
export async function insertStep(tx: Tx, step: StepRecord): Promise<void> {
  await tx.cases.insertStep({
    envelope_id: step.envelopeId,
    case_id: step.caseId,
    seq: step.seq,
    predecessor: step.predecessor,
    step: step.step,
    by_side: step.by,
    from_status: step.from,
    to_status: step.to,
    at: step.at,
    grounds: step.grounds.length === 0 ? null : JSON.stringify(step.grounds),
    state: step.state,
    superseded_by: step.supersededBy,
  });
}

/** Marks applied steps superseded by `winner` (a rollback). */
export async function supersedeSteps(tx: Tx, envelopeIds: readonly string[], winner: string): Promise<void> {
  for (const id of envelopeIds) await tx.cases.supersedeStep(id, winner);
}

/** Moves the case to `status` with `head` as the last applied step. */
export async function moveCase(tx: Tx, caseId: string, status: CaseStatus, head: string, now: Date): Promise<void> {
  await tx.cases.move(caseId, status, head, now.toISOString());
}

/**
 * Records the lifecycle columns of a case just opened with its request
 * envelope (both sides), and when it was received (inbound: now).
 */
export async function recordCaseOpened(tx: Tx, caseId: string, requestEnvelopeId: string, facts: CaseFacts, receivedAt: string | null, reference: string | null = null): Promise<void> {
  await tx.cases.recordOpened(caseId, requestEnvelopeId, JSON.stringify(facts), receivedAt);
  // The requester's file number: what a case system searches by (never a report fact).
  if (reference !== null) await tx.cases.setReference(caseId, reference);
}

/** The requesting authority's own reference in a request document, if it has one. */
export function requesterReference(document: Record<string, unknown>): string | null {
  const reference = document["reference"];
  return typeof reference === "string" && reference.length > 0 ? reference : null;
}
