/**
 * A peer delivers an envelope: it is opened (every check of DESIGN.md), its
 * document checked against its routing header (envelope/document-binding.ts:
 * only the four document types travel; a request's parties and urgency are
 * the header's) and validated against the shared schema, and stored with its
 * audit entry in one durable transaction; only then is a signed receipt
 * returned. A request must name the version of our requirements profile in
 * force (gateway/requirements/check.ts) and is re-checked against it; the
 * receipt says whether it complies, and only then does its clock start.
 * Redelivery of the same bytes — also one racing the first delivery —
 * returns the same receipt; the same id with other bytes is refused
 * (`ENVELOPE_REPLAY`).
 */
import { openEnvelope, type OpenedEnvelope } from "../envelope/open.js";
import { checkDocumentBinding, checkEnvelopeType } from "../envelope/document-binding.js";
import { signReceipt } from "../envelope/receipt.js";
import { canonicalize } from "../envelope/canonical-json.js";
import { DEFAULT_CLOCK_SKEW_MS } from "../envelope/limits.js";
import { appendEntry, type AuditEntry } from "../audit/append.js";
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import type { Peer } from "../peers/directory.js";
import { REQUEST_KINDS } from "./submit.js";
import { storeInboundEnvelope } from "./store.js";
import { inboundSchemaName } from "./versions.js";
import type { Tx } from "../store/store.js";
import { recordInboundCaseDocument } from "../cases/inbound.js";
import { MANIFEST_TYPE, recordInboundPackage } from "../evidence/manifest.js";
import { checkInboundRequirements, type InboundCompliance } from "../requirements/check.js";
import type { ReceiptRequirements } from "../envelope/receipt.js";
import { recordInboundAttachments } from "../attachments/attach.js";

/** How long a sender may keep retrying by default: envelopes this old are still accepted. */
export const DEFAULT_GIVE_UP_SECONDS = 7 * 24 * 3600;

/** The answer to a delivery. */
export interface Delivery {
  /** 201 for a new envelope, 200 for a redelivery of one already stored. */
  readonly status: 200 | 201;
  readonly receipt: string;
  readonly envelopeId: string;
}

/**
 * Receives `body` (the request body) from `peer`, the authority the mutual-TLS
 * client certificate was validated for.
 */
export async function receiveEnvelope(ctx: GatewayContext, body: Buffer, peer: Peer): Promise<Delivery> {
  const now = ctx.now();
  // Before anything is stored: a gateway whose own sign key is revoked cannot
  // sign the receipt (OWN_SIGNER_UNUSABLE, 503), and the sender retries later.
  const signer = ctx.identity.signer;
  const opened = await openEnvelope(body, {
    self: ctx.authority,
    decryptionKeys: ctx.identity.decryptionKeys,
    trustFor: (authority) => ctx.peers.trustFor(authority),
    now,
    clockSkewMs: (ctx.config.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_MS / 1000) * 1000,
    // A sender's outbox retries with the original createdAt until it gives up.
    maxAgeMs: (ctx.config.delivery?.giveUpAfterSeconds ?? DEFAULT_GIVE_UP_SECONDS) * 1000,
    tlsClientAuthority: peer.authority,
    seen: async (id) => (await ctx.store.read((tx) => tx.envelopes.inbound(id)))?.digest,
    // Only the four document types travel; anything else is refused before signature work.
    checkType: checkEnvelopeType,
    validateDocument: (type, document, header) => {
      // The document must agree with the header it was routed by, then with its schema.
      checkDocumentBinding(header, document);
      // Read with the schema of the version the document names, if this gateway reads it (never upgraded, never rewritten).
      ctx.validator.assertDocument(inboundSchemaName(ctx.config, type, document), document);
    },
    parsedCertificates: ctx.certificateCache,
  });
  if (opened.duplicate) return { status: 200, receipt: await storedReceipt(ctx, opened.envelopeId), envelopeId: opened.envelopeId };

  const storedAt = now.toISOString();
  // Checked against the profile version in force before anything is stored: an outdated request is refused with the version required.
  const compliance = requirementsOf(ctx, opened);
  let entry: AuditEntry;
  try {
    const recorded = await ctx.store.transaction((tx) => recordInbound(tx, ctx, opened, body, storedAt, compliance));
    // Another delivery of the same bytes was stored while this one was opened: the same receipt.
    if (recorded === "duplicate") return { status: 200, receipt: await storedReceipt(ctx, opened.envelopeId), envelopeId: opened.envelopeId };
    entry = recorded;
  } catch (error) {
    // Two deliveries of one id raced past `seen` (on two instances, neither saw the other's uncommitted rows): the first one won.
    if (error instanceof GatewayError && error.code === "STORE_DUPLICATE") {
      const stored = await ctx.store.read((tx) => tx.envelopes.inbound(opened.envelopeId));
      if (stored?.digest === opened.envelopeDigest) {
        return { status: 200, receipt: await storedReceipt(ctx, opened.envelopeId), envelopeId: opened.envelopeId };
      }
      throw new GatewayError("ENVELOPE_REPLAY", "an envelope with this id and other content was already received", {
        details: { envelopeId: opened.envelopeId },
      });
    }
    throw error;
  }
  const receipt = await signReceipt(
    {
      envelopeId: opened.envelopeId,
      envelopeDigest: opened.envelopeDigest,
      from: opened.header.from,
      to: ctx.authority,
      receivedAt: storedAt,
      log: await ctx.checkpoints.positionOf(entry),
      ...(compliance === undefined ? {} : { requirements: { version: compliance.version, compliant: compliance.compliant } }),
    },
    signer,
  );
  // Kept so a redelivery gets the same bytes; not needed for durability (the
  // receipt can be re-signed from the stored row), so it is not awaited.
  ctx.store
    .transaction((tx) => tx.envelopes.setReceipt(opened.envelopeId, receipt))
    .catch((error: unknown) => ctx.logger.error("storing an issued receipt failed", { envelopeId: opened.envelopeId, error: String(error) }));
  ctx.metrics.envelopesReceived.inc({ type: opened.header.type });
  ctx.logger.info("envelope received", {
    envelopeId: opened.envelopeId,
    caseId: opened.header.caseId,
    from: opened.header.from,
    type: opened.header.type,
    envelopeDigest: opened.envelopeDigest,
  });
  return { status: 201, receipt, envelopeId: opened.envelopeId };
}

/**
 * Stores an opened envelope with its case, audit entry and lifecycle, inside
 * the group transaction; `"duplicate"` when the same envelope was stored since
 * it was opened. Concurrent deliveries of one envelope (a sender retrying while
 * its first attempt is still in flight, or two sender processes) both pass the
 * `seen` check in openEnvelope; whichever transaction runs second must find the
 * first one's envelope here, before the case check: otherwise it would refuse
 * its own request as CASE_CONFLICT, and its sender would give up on an envelope
 * the receiver holds.
 */
async function recordInbound(tx: Tx, ctx: GatewayContext, opened: OpenedEnvelope, body: Buffer, storedAt: string, compliance: InboundCompliance | undefined): Promise<AuditEntry | "duplicate"> {
  const { header } = opened;
  const stored = await tx.envelopes.get(opened.envelopeId);
  if (stored !== undefined) {
    if (stored.digest === opened.envelopeDigest) return "duplicate";
    throw new GatewayError("ENVELOPE_REPLAY", "an envelope with this id and other content was already received", {
      details: { envelopeId: opened.envelopeId },
    });
  }
  const existing = await tx.cases.get(header.caseId);
  if ((REQUEST_KINDS as readonly string[]).includes(header.type)) {
    if (existing !== undefined) {
      throw new GatewayError("CASE_CONFLICT", "a case with this id already exists", { details: { caseId: header.caseId } });
    }
    await tx.cases.insert({ caseId: header.caseId, direction: "inbound", kind: header.type, peer: header.from, status: "received", priority: header.priority, at: storedAt });
  } else if (existing === undefined || existing.peer !== header.from) {
    // A peer may only add to cases it shares with us.
    throw new GatewayError("CASE_UNKNOWN", "no case with this id is shared with the sender", { details: { caseId: header.caseId } });
  }
  await storeInboundEnvelope(tx, opened, body.toString("utf8"), canonicalize(opened.document), storedAt);
  // An evidence manifest opens its items for upload, in the same transaction.
  if (header.type === MANIFEST_TYPE) await recordInboundPackage(tx, opened, storedAt);
  const entry = await appendEntry(tx, {
    kind: "envelope.received",
    actor: `peer:${header.from}`,
    time: new Date(storedAt),
    caseId: header.caseId,
    envelopeId: opened.envelopeId,
    envelopeDigest: opened.envelopeDigest,
    details: { type: header.type, from: header.from, signerKid: opened.signer.kid, signer: opened.signer.fingerprint },
  });
  if (compliance !== undefined) {
    await appendEntry(tx, {
      kind: "requirements.checked",
      actor: "gateway",
      time: new Date(storedAt),
      caseId: header.caseId,
      envelopeId: opened.envelopeId,
      envelopeDigest: opened.envelopeDigest,
      details: { version: compliance.version, compliant: compliance.compliant, failedRules: [...compliance.failedRules] },
    });
  }
  // The case lifecycle: a request's facts, or a status update placed in the
  // case's history; one that does not fit is refused and all of this rolls back.
  // A request that does not meet our requirements starts no clock.
  await recordInboundCaseDocument(tx, ctx, opened, storedAt, compliance?.compliant === false ? null : storedAt);
  // Attachments the document carries open their items for upload, in the same transaction.
  await recordInboundAttachments(tx, opened, storedAt);
  return entry;
}

/** A request's compliance with our requirements profile; refuses a request of another version. */
function requirementsOf(ctx: GatewayContext, opened: OpenedEnvelope): InboundCompliance | undefined {
  const { header } = opened;
  if (!(REQUEST_KINDS as readonly string[]).includes(header.type)) {
    if (header.requirements !== undefined) throw new GatewayError("ENVELOPE_MALFORMED", "only a request names a requirements profile version");
    return undefined;
  }
  return checkInboundRequirements(ctx, header, header.type, opened.document);
}

/** The compliance stated in a stored request's `requirements.checked` entry, for its receipt. */
function receiptRequirements(entry: string | undefined): ReceiptRequirements | undefined {
  if (entry === undefined) return undefined;
  const details = (JSON.parse(entry) as AuditEntry).details as { version?: unknown; compliant?: unknown };
  return typeof details.version === "number" && typeof details.compliant === "boolean" ? { version: details.version, compliant: details.compliant } : undefined;
}

/** The receipt issued for a stored envelope (re-signed if it was not kept). */
async function storedReceipt(ctx: GatewayContext, envelopeId: string): Promise<string> {
  const { row, entry, checked } = await ctx.store.read(async (tx) => ({
    row: await tx.envelopes.inbound(envelopeId),
    entry: (await tx.audit.entriesOfEnvelope(envelopeId, "envelope.received"))[0],
    checked: (await tx.audit.entriesOfEnvelope(envelopeId, "requirements.checked"))[0],
  }));
  const requirements = receiptRequirements(checked);
  if (row === undefined) throw new GatewayError("INTERNAL", "a duplicate envelope is not in the store");
  if (row.receipt !== null) return row.receipt;
  if (entry === undefined) throw new GatewayError("INTERNAL", "a stored envelope has no audit entry");
  return signReceipt(
    {
      envelopeId,
      envelopeDigest: row.digest,
      from: row.from_authority,
      to: ctx.authority,
      receivedAt: row.stored_at,
      log: await ctx.checkpoints.positionOf(JSON.parse(entry) as AuditEntry),
      ...(requirements === undefined ? {} : { requirements }),
    },
    ctx.identity.signer,
  );
}
