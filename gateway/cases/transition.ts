/**
 * A caseworker takes a lifecycle step on a case (POST
 * /api/v1/cases/:caseId/status): the step is checked against the lifecycle
 * for this gateway's side and against the case (its instrument, kind and
 * items: instrument-steps.ts), written as a `status-update` document in the
 * highest version of the forms both sides read, validated against that
 * version's schema, sealed to the peer (following the head of the
 * case's history, `inReplyTo`), and — in one transaction — the case moves,
 * the envelope is queued in the outbox, and the audit log records it. The
 * 201 goes out only after that commit.
 */
import { sealEnvelope } from "../envelope/seal.js";
import { appendEntry } from "../audit/append.js";
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import type { Principal } from "../auth/tokens.js";
import type { FieldError } from "../../schemas/validate.js";
import { hintFor } from "../../schemas/hints.js";
import { storeOutboundEnvelope } from "../exchange/store.js";
import { CASE_STEPS, isCaseStep, lifecycleStatus, nextStatus, sideOf, type CaseStatus, type CaseStep } from "./lifecycle.js";
import { checkStepForCase, stepCodes, type StepDocument } from "./instrument-steps.js";
import { statusUpdateVersion } from "../exchange/versions.js";
import { schemaNameFor } from "../../schemas/versions.js";
import { placeStep } from "./placement.js";
import { historyOf, insertStep, moveCase, readCase, stepsOfCase } from "./history.js";
import type { StatusUpdateDocument } from "./inbound.js";
import type { Tx } from "../store/store.js";
import { prepareAttachments, recordOutboundAttachments } from "../attachments/attach.js";

/** The fields a caseworker may give with a step; the gateway adds kind, caseId, status and at. */
export const STEP_FIELDS = [
  "step",
  "note",
  "grounds",
  "partial",
  "questions",
  "answers",
  "conditions",
  "delivered",
  "executingAuthority",
  "receivedByCompetentAuthorityAt",
  "forwardedTo",
  "delay",
  "postponement",
  "consultation",
  "alternative",
  "unable",
  "extension",
  "followUp",
  "confidentialityIssue",
  "challenge",
  "attachments",
] as const;

/** The answer to a step taken. */
export interface StepTaken {
  readonly caseId: string;
  readonly envelopeId: string;
  readonly envelopeDigest: string;
  readonly step: CaseStep;
  /** The status before and after the step. */
  readonly from: CaseStatus;
  readonly status: CaseStatus;
}

/** Attempts when the case moves (a peer's step arrives) while ours is being sealed. */
export const STEP_ATTEMPTS = 3;

function invalid(errors: FieldError[]): GatewayError {
  return new GatewayError("DOCUMENT_INVALID", `the status update has ${errors.length} problem(s); see details.errors`, { details: { schema: "status-update", errors } });
}

/** Checks the shape of the body before anything else: an object, a known step, only known fields. */
function parseBody(body: unknown): { step: CaseStep; fields: Record<string, unknown> } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalid([{ path: "/step", code: "required", message: 'the body must be a JSON object with a "step"', hint: hintFor("status-update", "/step", "required") }]);
  }
  const fields = body as Record<string, unknown>;
  const problems: FieldError[] = Object.keys(fields)
    .filter((key) => !(STEP_FIELDS as readonly string[]).includes(key))
    .sort()
    .map((key) => ({
      path: `/${key}`,
      code: "not-allowed",
      message: `"${key}" is not a field of a status update${["kind", "caseId", "status", "at"].includes(key) ? " (the gateway sets it)" : ""}`,
      hint: `Give only ${STEP_FIELDS.join(", ")}; the gateway adds the case id, the resulting status and the time.`,
    }));
  if (!isCaseStep(fields["step"])) {
    problems.unshift({
      path: "/step",
      code: fields["step"] === undefined ? "required" : "enum",
      message: `"step" must be one of ${CASE_STEPS.join(", ")}`,
      hint: hintFor("status-update", "/step", "enum"),
    });
  }
  if (problems.length > 0) throw invalid(problems);
  return { step: fields["step"] as CaseStep, fields };
}

/**
 * A step checked and sealed, not yet committed. {@link SealedStep.commit}
 * runs inside a transaction: it applies the step (case moved, history,
 * outbox, audit) unless the case moved while the step was being sealed.
 * This lets a caller commit the step together with its own change (an
 * evidence package delivered, see evidence/delivered.ts).
 */
export interface SealedStep {
  readonly taken: StepTaken;
  /** False, writing nothing, when the case moved since it was read; else applies the step in `tx`. */
  commit(tx: Tx): Promise<boolean>;
}

/**
 * Checks `body.step` against `caseId` as it is now and seals the status
 * update; nothing is written. Throws as {@link takeStep}.
 */
export async function sealStep(ctx: GatewayContext, caseId: string, body: unknown, principal: Principal | { readonly actor: string }): Promise<SealedStep> {
  const { step, fields } = parseBody(body);
  const record = await ctx.store.read((tx) => readCase(tx, caseId));
  if (record === undefined) throw new GatewayError("CASE_UNKNOWN", `no case ${caseId}`);
  if (record.headEnvelopeId === null || record.requestEnvelopeId === null) throw new GatewayError("CASE_UNKNOWN", `case ${caseId} has no request`);
  const side = sideOf(record.direction);
  const from = lifecycleStatus(record.status);
  const payload = { delivered: fields["delivered"], partial: fields["partial"] };
  const status = nextStatus(record.status, step, side, payload);
  // Uploaded files named as attachments (e.g. the answers to a request for more information) become sealed entries.
  const attachments = await prepareAttachments(ctx, principal, fields["attachments"]);
  const peer = ctx.peers.find(record.peer);
  if (peer === undefined) throw new GatewayError("PEER_UNKNOWN", `${record.peer} is no longer a peer of this gateway`);
  // Sealed in the highest version of the forms both sides read; version 1 carries no schemaVersion.
  const version = statusUpdateVersion(ctx.config, peer);
  const now = ctx.now();
  const document = { ...fields, ...(attachments === undefined ? {} : { attachments: attachments.entries }), kind: "status-update", ...(version === 1 ? {} : { schemaVersion: version }), caseId, step, status, at: now.toISOString() };
  checkStepForCase(record, document as StepDocument, version);
  ctx.validator.assertDocument<StatusUpdateDocument>(schemaNameFor("status-update", version), document);
  const predecessor = record.headEnvelopeId;
  const sealed = await sealEnvelope({
    document,
    type: "status-update",
    from: ctx.authority,
    to: peer.authority,
    caseId,
    inReplyTo: predecessor,
    priority: record.priority,
    createdAt: now.toISOString(),
    signer: ctx.identity.signer,
    recipient: { publicKey: peer.encryptionKey },
  });
  return {
    taken: { caseId, envelopeId: sealed.envelopeId, envelopeDigest: sealed.envelopeDigest, step, from, status },
    commit: async (tx) => {
      // Sealing yielded: a peer's step (or another caseworker's, or another instance's) may have moved the case meanwhile.
      const current = await readCase(tx, caseId, { forUpdate: true });
      if (current?.headEnvelopeId !== predecessor || current.status !== record.status) return false;
      const placement = placeStep(historyOf(current, await stepsOfCase(tx, caseId)), {
        envelopeId: sealed.envelopeId,
        predecessor,
        step,
        by: side,
        status,
        payload,
      });
      await storeOutboundEnvelope(tx, sealed, sealed.documentJson, now);
      await recordOutboundAttachments(tx, attachments, { caseId, peer: peer.authority, envelopeId: sealed.envelopeId, envelopeDigest: sealed.envelopeDigest, at: now, actor: "actor" in principal ? principal.actor : `token:${principal.name}` });
      const grounds = stepCodes(document as StepDocument);
      await insertStep(tx, {
        envelopeId: sealed.envelopeId,
        caseId,
        seq: placement.seq,
        predecessor,
        step,
        by: side,
        from,
        to: status,
        at: now.toISOString(),
        grounds,
        state: "applied",
        supersededBy: null,
      });
      await moveCase(tx, caseId, status, sealed.envelopeId, now);
      const actor = "actor" in principal ? principal.actor : `token:${principal.name}`;
      const envelope = { caseId, envelopeId: sealed.envelopeId, envelopeDigest: sealed.envelopeDigest };
      await appendEntry(tx, { kind: "envelope.sent", actor, time: now, ...envelope, details: { type: "status-update", to: peer.authority, priority: record.priority } });
      await appendEntry(tx, {
        kind: "status.changed",
        actor,
        time: now,
        ...envelope,
        details: { step, from, to: status, side, by: ctx.authority, seq: placement.seq, ...(grounds.length === 0 ? {} : { grounds }) },
      });
      return true;
    },
  };
}

/** After a step's commit: the outbox has work, and the log says so. */
export function stepCommitted(ctx: GatewayContext, taken: StepTaken): void {
  ctx.wakeDelivery();
  ctx.logger.info("case status changed", { caseId: taken.caseId, envelopeId: taken.envelopeId, step: taken.step, from: taken.from, to: taken.status, by: ctx.authority });
}

/**
 * Takes `body.step` on `caseId` on behalf of `principal` (or, for a step the
 * gateway takes itself, of `actor`).
 *
 * @throws GatewayError `CASE_UNKNOWN` (404); `CASE_TRANSITION_INVALID` (409,
 *   details name the steps allowed now); `DOCUMENT_INVALID` (422, every
 *   failing field with a hint, e.g. a refusal without grounds);
 *   `CASE_GROUND_NOT_ALLOWED` / `CASE_STEP_NOT_ALLOWED` (422, a ground or
 *   step the case's instrument, kind or the peer's document version does not
 *   allow); `DOCUMENT_VERSION_NOT_ACCEPTED` (422, no version shared with the peer).
 */
export async function takeStep(ctx: GatewayContext, caseId: string, body: unknown, principal: Principal | { readonly actor: string }): Promise<StepTaken> {
  for (let attempt = 1; ; attempt += 1) {
    const sealed = await sealStep(ctx, caseId, body, principal);
    if (await ctx.store.transaction((tx) => sealed.commit(tx))) {
      stepCommitted(ctx, sealed.taken);
      return sealed.taken;
    }
    if (attempt >= STEP_ATTEMPTS) {
      const { step } = sealed.taken;
      throw new GatewayError("CASE_TRANSITION_INVALID", `case ${caseId} kept changing while the step was being sealed; look at it again`, { details: { step } });
    }
  }
}
