/**
 * Reading cases: lists (emergency first), one case with its envelope
 * timeline, and a document of a case — a read that is itself audited.
 */
import type { EnvelopeSummary } from "../exchange/store.js";
import type { Tx } from "../store/store.js";
import type { CaseRow } from "../store/repos/cases.js";
import type { GatewayContext } from "../context.js";
import type { Principal } from "../auth/tokens.js";
import { appendEntry, entriesOfCase, type AuditEntry } from "../audit/append.js";
import { GatewayError } from "../errors.js";
import type { GatewayConfig } from "../config/config.js";
import { allowedSteps, sideOf, type CaseStatus, type CaseStep, type Side } from "./lifecycle.js";
import { caseRecordOf, stepsOfCase } from "./history.js";
import { clocksOf } from "./deadlines.js";
import type { CaseClocks } from "./clocks.js";

/** A case as listed. */
export interface CaseSummary {
  readonly caseId: string;
  readonly direction: "outbound" | "inbound";
  readonly kind: string;
  readonly peer: string;
  readonly status: string;
  readonly priority: "normal" | "urgent" | "emergency";
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** One envelope in a case's timeline. */
export interface TimelineEnvelope extends EnvelopeSummary {
  /** The signed receipt: the peer's (outbound) or ours (inbound). */
  readonly receipt: string | null;
  /**
   * Outbound only: where delivery stands. `superseded`: re-sealed under a new
   * sign key as the envelope `supersededBy` (gateway/delivery/reseal.ts);
   * `cancelled`: an operator stopped it (valise outbox cancel).
   */
  readonly delivery?: {
    state: "pending" | "delivered" | "failed" | "superseded" | "cancelled";
    attempts: number;
    lastError: string | null;
    nextAttemptAt: string | null;
    supersededBy?: string;
  };
}

/** One lifecycle step in a case's history (the same on both sides). */
export interface TimelineStep {
  readonly seq: number;
  readonly envelopeId: string;
  readonly step: CaseStep;
  /** The side that took it, and its authority. */
  readonly side: Side;
  readonly by: string;
  readonly from: CaseStatus;
  readonly to: CaseStatus;
  readonly at: string;
  /** A refusal's grounds, or why the request could not be executed (unable-to-execute). */
  readonly grounds: readonly string[];
  /** `superseded`: it lost to a concurrent step of the other side (`supersededBy`). */
  readonly state: "applied" | "superseded";
  readonly supersededBy: string | null;
}

/** A case with its timeline. */
export interface CaseDetail extends CaseSummary {
  /** This gateway's side of the case, and the steps it may take now. */
  readonly side: Side;
  readonly allowedSteps: readonly CaseStep[];
  readonly receivedAt: string | null;
  /** The lifecycle history: applied steps in order, superseded ones beside the step that won. */
  readonly steps: readonly TimelineStep[];
  /** The case's clocks (when computed with a configuration and a time). */
  readonly clocks?: CaseClocks;
  readonly envelopes: readonly TimelineEnvelope[];
  readonly events: readonly AuditEntry[];
}

function summary(row: CaseRow): CaseSummary {
  return {
    caseId: row.case_id,
    direction: row.direction,
    kind: row.kind,
    peer: row.peer,
    status: row.status,
    priority: row.priority,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Cases filtered by direction and status, emergency first, then newest first. */
export async function listCases(tx: Tx, filter: { direction?: string; status?: string; limit?: number } = {}): Promise<CaseSummary[]> {
  if (filter.direction !== undefined && filter.direction !== "outbound" && filter.direction !== "inbound") {
    throw new GatewayError("USAGE", "direction must be outbound or inbound");
  }
  const rows = await tx.cases.list({ direction: filter.direction ?? null, status: filter.status ?? null, limit: Math.min(filter.limit ?? 500, 5000) });
  return rows.map(summary);
}

/**
 * One case with its lifecycle history, envelopes and audit events (and its
 * clocks when `clocks` gives the configuration and the time); `CASE_UNKNOWN` if none.
 */
export async function getCase(tx: Tx, caseId: string, clocks?: { readonly config: GatewayConfig; readonly now: Date }): Promise<CaseDetail> {
  const row = await tx.cases.get(caseId);
  if (row === undefined) throw new GatewayError("CASE_UNKNOWN", `no case ${caseId}`);
  const record = caseRecordOf(row);
  const side = sideOf(record.direction);
  const history = await stepsOfCase(tx, caseId);
  const envelopes = (await tx.envelopes.ofCase(caseId)).map(
    (e): TimelineEnvelope => ({
      envelopeId: e.envelope_id,
      direction: e.direction,
      type: e.type,
      from: e.from_authority,
      to: e.to_authority,
      inReplyTo: e.in_reply_to,
      createdAt: e.created_at,
      storedAt: e.stored_at,
      envelopeDigest: e.digest,
      receipt: e.receipt,
      ...(e.state === null || e.state === undefined
        ? {}
        : {
            delivery: {
              state: e.state,
              attempts: e.attempts ?? 0,
              lastError: e.last_error,
              nextAttemptAt: e.state === "pending" && e.next_attempt_at !== null ? new Date(e.next_attempt_at).toISOString() : null,
              ...(typeof e.superseded_by === "string" ? { supersededBy: e.superseded_by } : {}),
            },
          }),
    }),
  );
  // Every step travelled as an envelope: its sender is the step's author.
  const senders = new Map(envelopes.map((e) => [e.envelopeId, e.from]));
  const steps = history.map(
    (s): TimelineStep => ({
      seq: s.seq,
      envelopeId: s.envelopeId,
      step: s.step,
      side: s.by,
      by: senders.get(s.envelopeId) ?? "",
      from: s.from,
      to: s.to,
      at: s.at,
      grounds: s.grounds,
      state: s.state,
      supersededBy: s.supersededBy,
    }),
  );
  return {
    ...summary(row),
    side,
    allowedSteps: allowedSteps(record.status, side),
    receivedAt: record.receivedAt,
    steps,
    ...(clocks === undefined ? {} : { clocks: clocksOf(record, history, clocks.config, clocks.now) }),
    envelopes,
    events: await entriesOfCase(tx, caseId),
  };
}

/**
 * The business document of an envelope of a case. The read is written to
 * the audit log (who, what, when) and committed before the content leaves.
 */
export async function readDocument(ctx: GatewayContext, caseId: string, envelopeId: string, principal: Principal): Promise<unknown> {
  const row = await ctx.store.read((tx) => tx.envelopes.documentOf(caseId, envelopeId));
  if (row === undefined) throw new GatewayError("NOT_FOUND", `no document ${envelopeId} in case ${caseId}`);
  await ctx.store.transaction((tx) =>
    appendEntry(tx, {
      kind: "access.read",
      actor: `token:${principal.name}`,
      time: ctx.now(),
      caseId,
      envelopeId,
      envelopeDigest: row.digest,
      details: { what: "document", role: principal.role, tokenId: principal.tokenId },
    }),
  );
  return withoutItemKeys(JSON.parse(row.document) as unknown);
}

/**
 * A document as a caseworker may read it: every item key withheld — of an
 * evidence manifest's items and of a document's attachments (the gateway
 * decrypts; a key handed out would let a copy of the sealed store be opened
 * outside the audited download path).
 */
function withoutItemKeys(document: unknown): unknown {
  const withheld = (list: unknown): unknown =>
    Array.isArray(list)
      ? list.map((item: { encryption?: Record<string, unknown> }) =>
          item?.encryption === undefined ? item : { ...item, encryption: { ...item.encryption, key: "(withheld)", noncePrefix: "(withheld)" } },
        )
      : list;
  const shown = document as { kind?: unknown; items?: unknown; attachments?: unknown };
  if (typeof shown !== "object" || shown === null) return document;
  return {
    ...shown,
    ...(shown.kind === "evidence-manifest" && Array.isArray(shown.items) ? { items: withheld(shown.items) } : {}),
    ...(Array.isArray(shown.attachments) ? { attachments: withheld(shown.attachments) } : {}),
  };
}
