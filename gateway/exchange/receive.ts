/**
 * A peer delivers an envelope: it is opened (every check of DESIGN.md), its
 * document validated against the shared schema, and stored with its audit
 * entry in one durable transaction; only then is a signed receipt returned.
 * Redelivery of the same bytes returns the same receipt; the same id with
 * other bytes is refused (`ENVELOPE_REPLAY`).
 */
import { openEnvelope, type OpenedEnvelope } from "../envelope/open.js";
import { signReceipt } from "../envelope/receipt.js";
import { canonicalize } from "../envelope/canonical-json.js";
import { DEFAULT_CLOCK_SKEW_MS } from "../envelope/limits.js";
import { appendEntry, type AuditEntry } from "../audit/append.js";
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import type { Peer } from "../peers/directory.js";
import { REQUEST_KINDS } from "./submit.js";
import { storeInboundEnvelope } from "./store.js";
import { statement } from "../store/statements.js";
import { recordInboundCaseDocument } from "../cases/inbound.js";
import { MANIFEST_TYPE, recordInboundPackage } from "../evidence/manifest.js";

/** How long a sender may keep retrying by default: envelopes this old are still accepted. */
export const DEFAULT_GIVE_UP_SECONDS = 7 * 24 * 3600;

/** The answer to a delivery. */
export interface Delivery {
  /** 201 for a new envelope, 200 for a redelivery of one already stored. */
  readonly status: 200 | 201;
  readonly receipt: string;
  readonly envelopeId: string;
}

interface StoredInbound {
  digest: string;
  stored_at: string;
  receipt: string | null;
  from_authority: string;
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
  const findStored = statement(ctx.db, "SELECT digest, stored_at, receipt, from_authority FROM envelopes WHERE envelope_id = ? AND direction = 'inbound'");
  const opened = await openEnvelope(body, {
    self: ctx.authority,
    decryptionKeys: ctx.identity.decryptionKeys,
    trustFor: (authority) => ctx.peers.trustFor(authority),
    now,
    clockSkewMs: (ctx.config.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_MS / 1000) * 1000,
    // A sender's outbox retries with the original createdAt until it gives up.
    maxAgeMs: (ctx.config.delivery?.giveUpAfterSeconds ?? DEFAULT_GIVE_UP_SECONDS) * 1000,
    tlsClientAuthority: peer.authority,
    seen: (id) => (findStored.get(id) as StoredInbound | undefined)?.digest,
    validateDocument: (type, document) => {
      ctx.validator.assertDocument(type, document);
    },
    parsedCertificates: ctx.certificateCache,
  });
  if (opened.duplicate) return { status: 200, receipt: await storedReceipt(ctx, opened.envelopeId), envelopeId: opened.envelopeId };

  const storedAt = now.toISOString();
  let entry: AuditEntry;
  try {
    entry = await ctx.commits.run(() => recordInbound(ctx, opened, body, storedAt));
  } catch (error) {
    // Two deliveries of one id raced past `seen`: the first one won.
    if ((error as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
      const stored = findStored.get(opened.envelopeId) as StoredInbound | undefined;
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
      log: ctx.checkpoints.positionOf(entry),
    },
    signer,
  );
  // Kept so a redelivery gets the same bytes; not needed for durability (the
  // receipt can be re-signed from the stored row), so it is not awaited.
  ctx.commits
    .run(() => statement(ctx.db, "UPDATE envelopes SET receipt = ? WHERE envelope_id = ?").run(receipt, opened.envelopeId))
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

function recordInbound(ctx: GatewayContext, opened: OpenedEnvelope, body: Buffer, storedAt: string): AuditEntry {
  const { header } = opened;
  const existing = statement(ctx.db, "SELECT direction, peer FROM cases WHERE case_id = ?").get(header.caseId) as
    | { direction: string; peer: string }
    | undefined;
  if ((REQUEST_KINDS as readonly string[]).includes(header.type)) {
    if (existing !== undefined) {
      throw new GatewayError("CASE_CONFLICT", "a case with this id already exists", { details: { caseId: header.caseId } });
    }
    statement(ctx.db, 
        "INSERT INTO cases (case_id, direction, kind, peer, status, priority, created_at, updated_at) VALUES (?, 'inbound', ?, ?, 'received', ?, ?, ?)",
      )
      .run(header.caseId, header.type, header.from, header.priority, storedAt, storedAt);
  } else if (existing === undefined || existing.peer !== header.from) {
    // A peer may only add to cases it shares with us.
    throw new GatewayError("CASE_UNKNOWN", "no case with this id is shared with the sender", { details: { caseId: header.caseId } });
  }
  storeInboundEnvelope(ctx, opened, body.toString("utf8"), canonicalize(opened.document), storedAt);
  // An evidence manifest opens its items for upload, in the same transaction.
  if (header.type === MANIFEST_TYPE) recordInboundPackage(ctx, opened, storedAt);
  const entry = appendEntry(ctx.db, {
    kind: "envelope.received",
    actor: `peer:${header.from}`,
    time: new Date(storedAt),
    caseId: header.caseId,
    envelopeId: opened.envelopeId,
    envelopeDigest: opened.envelopeDigest,
    details: { type: header.type, from: header.from, signerKid: opened.signer.kid, signer: opened.signer.fingerprint },
  });
  // The case lifecycle: a request's facts, or a status update placed in the
  // case's history; one that does not fit is refused and all of this rolls back.
  recordInboundCaseDocument(ctx, opened, storedAt);
  return entry;
}

/** The receipt issued for a stored envelope (re-signed if it was not kept). */
async function storedReceipt(ctx: GatewayContext, envelopeId: string): Promise<string> {
  const row = statement(ctx.db, "SELECT digest, stored_at, receipt, from_authority FROM envelopes WHERE envelope_id = ? AND direction = 'inbound'")
    .get(envelopeId) as StoredInbound | undefined;
  if (row === undefined) throw new GatewayError("INTERNAL", "a duplicate envelope is not in the store");
  if (row.receipt !== null) return row.receipt;
  const entry = statement(ctx.db, "SELECT entry FROM audit_entries WHERE envelope_id = ? AND kind = 'envelope.received' ORDER BY idx LIMIT 1").get(envelopeId) as
    | { entry: string }
    | undefined;
  if (entry === undefined) throw new GatewayError("INTERNAL", "a stored envelope has no audit entry");
  return signReceipt(
    {
      envelopeId,
      envelopeDigest: row.digest,
      from: row.from_authority,
      to: ctx.authority,
      receivedAt: row.stored_at,
      log: ctx.checkpoints.positionOf(JSON.parse(entry.entry) as AuditEntry),
    },
    ctx.identity.signer,
  );
}
