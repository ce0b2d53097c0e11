/**
 * The case lifecycle of what a peer delivers, run inside the transaction
 * that stores the envelope (gateway/exchange/receive.ts): a new request opens
 * its case's history and records its report facts; a status update is placed
 * in the case's history (gateway/cases/placement.ts) — applied, kept
 * superseded, or refused, in which case nothing of the delivery is stored
 * and the sender is told why.
 *
 * The document is hostile until placed: it was opened and validated against
 * the status-update schema, but its step, its status and the step it claims
 * to follow are the sender's word, checked here against our own history.
 */
import type { OpenedEnvelope } from "../envelope/open.js";
import { parseTimestamp } from "../envelope/routing-header.js";
import { DEFAULT_CLOCK_SKEW_MS } from "../envelope/limits.js";
import { appendEntry } from "../audit/append.js";
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import { hintFor } from "../../schemas/hints.js";
import { REQUEST_KINDS } from "../exchange/submit.js";
import { otherSide, sideOf, type CaseStatus, type RefusalGround } from "./lifecycle.js";
import { placeStep } from "./placement.js";
import { historyOf, insertStep, moveCase, readCase, recordCaseOpened, requesterReference, stepsOfCase, supersedeSteps } from "./history.js";
import { requestFacts } from "./facts.js";
import { checkStepForCase, stepCodes, type StepDocument } from "./instrument-steps.js";
import type { Tx } from "../store/store.js";

/** The fields of a status update the lifecycle reads. */
export interface StatusUpdateDocument extends StepDocument {
  readonly kind: "status-update";
  readonly schemaVersion?: number;
  readonly caseId: string;
  readonly status: CaseStatus;
  readonly at: string;
  readonly grounds?: ReadonlyArray<{ readonly ground: RefusalGround; readonly explanation: string; readonly assistanceItems?: readonly number[] }>;
  readonly delivered?: unknown;
}

/**
 * Records the lifecycle side of an inbound envelope just stored. Throws
 * (rolling the delivery back) when a status update does not fit the case.
 * A request's clocks start at `clockStart` (null: not yet — it does not meet
 * our requirements profile).
 */
export async function recordInboundCaseDocument(tx: Tx, ctx: GatewayContext, opened: OpenedEnvelope, storedAt: string, clockStart: string | null = storedAt): Promise<void> {
  const { header } = opened;
  if ((REQUEST_KINDS as readonly string[]).includes(header.type)) {
    await recordCaseOpened(tx, header.caseId, opened.envelopeId, requestFacts(header.type, opened.document), clockStart, requesterReference(opened.document));
  } else if (header.type === "status-update") {
    await placeInboundStep(tx, ctx, opened, storedAt);
  }
}

function invalidField(path: string, message: string): GatewayError {
  return new GatewayError("DOCUMENT_INVALID", `the status-update document is invalid: ${message}`, {
    details: { schema: "status-update", errors: [{ path, code: "invalid", message, hint: hintFor("status-update", path, "invalid") }] },
  });
}

async function placeInboundStep(tx: Tx, ctx: GatewayContext, opened: OpenedEnvelope, storedAt: string): Promise<void> {
  const { header } = opened;
  const document = opened.document as unknown as StatusUpdateDocument;
  if (document.caseId !== header.caseId) throw invalidField("/caseId", `"caseId" is ${document.caseId}, but the envelope belongs to case ${header.caseId}`);
  const skew = (ctx.config.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_MS / 1000) * 1000;
  const at = parseTimestamp(document.at);
  if (at === undefined || Math.abs(at - Date.parse(header.createdAt)) > skew) {
    throw invalidField("/at", `"at" (${document.at}) is not the envelope's time (${header.createdAt}) within the allowed clock skew`);
  }
  if (header.inReplyTo === undefined) {
    throw new GatewayError("CASE_TRANSITION_INVALID", "a status update must name the step it follows (inReplyTo)", { details: { step: document.step } });
  }
  const record = await readCase(tx, header.caseId, { forUpdate: true });
  if (record === undefined || record.requestEnvelopeId === null) throw new GatewayError("CASE_UNKNOWN", `no case ${header.caseId} with a request`);
  const by = otherSide(sideOf(record.direction));
  // The grounds, items and steps the case's instrument allows: the peer's word is checked, not trusted.
  checkStepForCase(record, document, document.schemaVersion ?? 1);
  const steps = await stepsOfCase(tx, record.caseId);
  const history = historyOf(record, steps);
  const known = header.inReplyTo === history.requestEnvelopeId || history.steps.some((s) => s.envelopeId === header.inReplyTo);
  if (!known && (await tx.envelopes.exists(header.inReplyTo))) {
    // Not one not received yet (that would be CASE_STEP_EARLY): an envelope that is no step of this case.
    throw new GatewayError("CASE_TRANSITION_INVALID", "a status update must follow the request or a status update of its case", {
      details: { step: document.step, predecessor: header.inReplyTo },
    });
  }
  const placement = placeStep(history, {
    envelopeId: opened.envelopeId,
    predecessor: header.inReplyTo,
    step: document.step,
    by,
    status: document.status,
    payload: { delivered: document.delivered, partial: document.partial },
  });
  const now = new Date(storedAt);
  const actor = `peer:${header.from}`;
  // The peer's step stands over ours (the requesting side's, taken concurrently): ours are rolled back first.
  const rolledBack = placement.outcome === "applied" ? steps.filter((s) => placement.supersedes.includes(s.envelopeId)) : [];
  await supersedeSteps(tx, rolledBack.map((s) => s.envelopeId), opened.envelopeId);
  await insertStep(tx, {
    envelopeId: opened.envelopeId,
    caseId: record.caseId,
    seq: placement.seq,
    predecessor: header.inReplyTo,
    step: document.step,
    by,
    from: placement.from,
    to: placement.to,
    at: document.at,
    grounds: stepCodes(document),
    state: placement.outcome,
    supersededBy: placement.outcome === "superseded" ? placement.supersededBy : null,
  });
  const common = { caseId: record.caseId, envelopeId: opened.envelopeId, envelopeDigest: opened.envelopeDigest };
  if (placement.outcome === "superseded") {
    await appendEntry(tx, {
      kind: "status.superseded",
      actor,
      time: now,
      ...common,
      details: { step: document.step, from: placement.from, to: placement.to, side: by, by: header.from, seq: placement.seq, supersededBy: placement.supersededBy },
    });
    ctx.logger.info("status update superseded by a concurrent step", { caseId: record.caseId, envelopeId: opened.envelopeId, step: document.step, supersededBy: placement.supersededBy });
    return;
  }
  for (const step of rolledBack) {
    await appendEntry(tx, {
      kind: "status.superseded",
      actor,
      time: now,
      caseId: record.caseId,
      envelopeId: step.envelopeId,
      details: { step: step.step, from: step.from, to: step.to, side: step.by, seq: step.seq, supersededBy: opened.envelopeId },
    });
  }
  await moveCase(tx, record.caseId, placement.to, opened.envelopeId, now);
  await appendEntry(tx, {
    kind: "status.changed",
    actor,
    time: now,
    ...common,
    details: {
      step: document.step,
      from: placement.from,
      to: placement.to,
      side: by,
      by: header.from,
      seq: placement.seq,
      ...(stepCodes(document).length === 0 ? {} : { [document.step === "unable-to-execute" ? "reasons" : "grounds"]: stepCodes(document) }),
      ...(placement.supersedes.length === 0 ? {} : { supersedes: [...placement.supersedes] }),
    },
  });
  ctx.logger.info("case status changed", { caseId: record.caseId, envelopeId: opened.envelopeId, step: document.step, from: placement.from, to: placement.to, by: header.from });
}
