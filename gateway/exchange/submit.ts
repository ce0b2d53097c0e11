/**
 * A caseworker's system submits a request: validated against the shared
 * schema (every failing field with a hint), then against the requested
 * authority's requirements profile when one is held (gateway/requirements/:
 * every failing rule with the peer's explanation), sealed to the requested
 * authority, and — in one transaction — a new case, the envelope, its outbox
 * row and the audit entry. The 201 goes out only after that commit.
 */
import { randomUUID } from "node:crypto";
import { sealEnvelope } from "../envelope/seal.js";
import type { Priority } from "../envelope/types.js";
import { appendEntry } from "../audit/append.js";
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import type { Principal } from "../auth/tokens.js";
import type { FieldError } from "../../schemas/validate.js";
import { storeOutboundEnvelope } from "./store.js";
import { acceptedDocumentVersions, outboundRequestVersion } from "./versions.js";
import { checkDocumentBinding } from "../envelope/document-binding.js";
import type { Tx } from "../store/store.js";
import { recordCaseOpened, requesterReference } from "../cases/history.js";
import { requestFacts } from "../cases/facts.js";
import { checkOutboundRequirements } from "../requirements/check.js";
import { prepareAttachments, recordOutboundAttachments } from "../attachments/attach.js";

/** Document kinds that open a case. */
export const REQUEST_KINDS = ["mla-request", "preservation-request"] as const;
/** A document kind that opens a case. */
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** The answer to a submission. */
export interface Submission {
  readonly caseId: string;
  readonly envelopeId: string;
  readonly envelopeDigest: string;
  readonly status: "submitted";
}

function invalid(errors: FieldError[]): GatewayError {
  return new GatewayError("DOCUMENT_INVALID", `the request has ${errors.length} problem(s); see details.errors`, { details: { errors } });
}

/** How the caller reads refusals. */
export interface SubmitOptions {
  /** Languages of the caller (Accept-Language), most wanted first: the requested authority's explanations come in the first it has. */
  readonly languages?: readonly string[];
}

/**
 * Submits an MLA or preservation request on behalf of `principal`, in the
 * version of the forms it is written in (schemas/versions.ts), which the
 * requested authority must read (its trust bundle says which).
 * Throws `DOCUMENT_INVALID` (422) listing every failing field, then
 * `REQUIREMENTS_NOT_MET` (422) listing every rule of the requested
 * authority's profile the request fails.
 * `withinCommit` runs inside the transaction that opens the case (the local
 * API stores its Idempotency-Key answer there, with the case it names).
 */
export async function submitRequest(
  ctx: GatewayContext,
  document: unknown,
  principal: Principal,
  withinCommit: (tx: Tx, submission: Submission) => Promise<void> = async () => {},
  options: SubmitOptions = {},
): Promise<Submission> {
  const kind = (document as { kind?: unknown } | null)?.kind;
  if (typeof document !== "object" || document === null || Array.isArray(document) || !(REQUEST_KINDS as readonly unknown[]).includes(kind)) {
    throw invalid([
      {
        path: "/kind",
        code: "enum",
        message: `kind must be one of ${REQUEST_KINDS.join(", ")}`,
        hint: "Say what you are sending: \"mla-request\" for a request for mutual legal assistance, \"preservation-request\" for an expedited preservation (quick freeze).",
      },
    ]);
  }
  // The version the document is written in decides its schema: version 1 documents are still accepted, as written.
  const requested = (document as { requestedAuthority?: unknown }).requestedAuthority;
  const addressee = typeof requested === "string" ? ctx.peers.find(requested) : undefined;
  const version = outboundRequestVersion(ctx.config, addressee ?? { authority: "", documentVersions: acceptedDocumentVersions(ctx.config) }, kind as RequestKind, document as Record<string, unknown>);
  if ("errors" in version) throw invalid(version.errors);
  // Uploaded files named as attachments become sealed entries (refused here if not ready).
  const attachments = await prepareAttachments(ctx, principal, (document as { attachments?: unknown }).attachments);
  if (attachments !== undefined) document = { ...(document as Record<string, unknown>), attachments: attachments.entries };
  const request = ctx.validator.assertDocument<{
    kind: RequestKind;
    requestingAuthority: string;
    requestedAuthority: string;
    urgency: { level: Priority };
  }>(version.schema, document);
  const problems: FieldError[] = [];
  if (request.requestingAuthority !== ctx.authority) {
    problems.push({
      path: "/requestingAuthority",
      code: "not-allowed",
      message: `requestingAuthority must be this gateway's authority, ${ctx.authority}`,
      hint: `This gateway sends on behalf of ${ctx.authority} only; put ${ctx.authority} as the requesting authority.`,
    });
  }
  const peer = ctx.peers.find(request.requestedAuthority);
  if (peer === undefined) {
    problems.push({
      path: "/requestedAuthority",
      code: "unknown-peer",
      message: `${request.requestedAuthority} is not a peer of this gateway`,
      hint: `Address the request to a central authority this gateway exchanges with: ${ctx.peers.all().map((p) => p.authority).join(", ") || "none yet (an operator adds peers with valise peers add)"}.`,
    });
  }
  if (problems.length > 0 || peer === undefined) throw invalid(problems);
  // What the requested state itself requires, before anything is sealed; the version checked travels in the routing header.
  const requirements = checkOutboundRequirements(ctx, peer.authority, request.kind, request as unknown as Record<string, unknown>, options.languages ?? []);

  const caseId = randomUUID();
  const now = ctx.now();
  // The receiver refuses a document that contradicts its routing header; so does the sender, before sealing.
  checkDocumentBinding({ type: request.kind, from: ctx.authority, to: peer.authority, priority: request.urgency.level }, request as unknown as Record<string, unknown>);
  const sealed = await sealEnvelope({
    document: request as unknown as Record<string, unknown>,
    type: request.kind,
    from: ctx.authority,
    to: peer.authority,
    caseId,
    priority: request.urgency.level,
    createdAt: now.toISOString(),
    ...(requirements === undefined ? {} : { requirements }),
    signer: ctx.identity.signer,
    recipient: { publicKey: peer.encryptionKey },
  });
  const submission: Submission = { caseId, envelopeId: sealed.envelopeId, envelopeDigest: sealed.envelopeDigest, status: "submitted" };
  await ctx.store.transaction(async (tx) => {
    await tx.cases.insert({ caseId, direction: "outbound", kind: request.kind, peer: peer.authority, status: "submitted", priority: request.urgency.level, at: now.toISOString() });
    await storeOutboundEnvelope(tx, sealed, sealed.documentJson, now);
    await recordOutboundAttachments(tx, attachments, { caseId, peer: peer.authority, envelopeId: sealed.envelopeId, envelopeDigest: sealed.envelopeDigest, at: now, actor: `token:${principal.name}` });
    await recordCaseOpened(tx, caseId, sealed.envelopeId, requestFacts(request.kind, request as unknown as Record<string, unknown>), null, requesterReference(request as unknown as Record<string, unknown>));
    await appendEntry(tx, {
      kind: "envelope.sent",
      actor: `token:${principal.name}`,
      time: now,
      caseId,
      envelopeId: sealed.envelopeId,
      envelopeDigest: sealed.envelopeDigest,
      details: { type: request.kind, to: peer.authority, priority: request.urgency.level, ...(requirements === undefined ? {} : { requirements }) },
    });
    await withinCommit(tx, submission);
  });
  ctx.wakeDelivery();
  ctx.logger.info("request submitted", { caseId, envelopeId: sealed.envelopeId, to: peer.authority, kind: request.kind });
  return submission;
}
