/**
 * Rows of the `envelopes`, `envelope_bodies` and `outbox` tables, written
 * inside the caller's transaction.
 */
import type { SealedEnvelope } from "../envelope/seal.js";
import type { OpenedEnvelope } from "../envelope/open.js";
import type { GatewayContext } from "../context.js";
import type { Priority, RoutingHeader } from "../envelope/types.js";
import { statement } from "../store/statements.js";

/** What every view of a stored envelope shows (timelines, custody): its routing and digest, never its content. */
export interface EnvelopeSummary {
  readonly envelopeId: string;
  readonly direction: "outbound" | "inbound";
  readonly type: string;
  readonly from: string;
  readonly to: string;
  readonly inReplyTo: string | null;
  readonly createdAt: string;
  readonly storedAt: string;
  readonly envelopeDigest: string;
}

/** One envelope as stored, whichever way it travelled. */
interface StoredEnvelope {
  readonly direction: "outbound" | "inbound";
  readonly header: RoutingHeader;
  readonly envelopeId: string;
  readonly envelopeDigest: string;
  readonly signerKid: string;
  readonly storedAt: string;
  /** The wire form (flattened JWS JSON) and the document (canonical JSON). */
  readonly wire: string;
  readonly document: string;
}

/**
 * Stores an envelope we sealed and queues it for delivery. `queuedSince`:
 * when its delivery started (the give-up time counts from there); now by
 * default, the original envelope's for a re-sealed one.
 */
export function storeOutboundEnvelope(ctx: GatewayContext, sealed: SealedEnvelope, document: string, now: Date, queuedSince: string = now.toISOString()): void {
  storeEnvelope(ctx, {
    direction: "outbound",
    header: sealed.header,
    envelopeId: sealed.envelopeId,
    envelopeDigest: sealed.envelopeDigest,
    signerKid: signerKidOf(sealed),
    storedAt: now.toISOString(),
    wire: JSON.stringify(sealed.envelope),
    document,
  });
  statement(ctx.db, "INSERT INTO outbox (envelope_id, peer, state, attempts, next_attempt_at, created_at, rank) VALUES (?, ?, 'pending', 0, ?, ?, ?)").run(
    sealed.envelopeId,
    sealed.header.to,
    now.getTime(),
    queuedSince,
    DELIVERY_RANK[sealed.header.priority],
  );
}

/** The kid the envelope was signed with (its outer protected header: the key may have been rotated since). */
function signerKidOf(sealed: SealedEnvelope): string {
  const header = JSON.parse(Buffer.from(sealed.envelope.protected, "base64url").toString("utf8")) as { kid?: unknown };
  if (typeof header.kid !== "string") throw new Error("a sealed envelope has no kid");
  return header.kid;
}

/** Stores an envelope we received and opened. */
export function storeInboundEnvelope(ctx: GatewayContext, opened: OpenedEnvelope, wire: string, document: string, storedAt: string): void {
  storeEnvelope(ctx, {
    direction: "inbound",
    header: opened.header,
    envelopeId: opened.envelopeId,
    envelopeDigest: opened.envelopeDigest,
    signerKid: opened.signer.kid,
    storedAt,
    wire,
    document,
  });
}

/** Delivery order of the outbox: emergency first. */
const DELIVERY_RANK: Readonly<Record<Priority, number>> = { emergency: 0, urgent: 1, normal: 2 };

function storeEnvelope(ctx: GatewayContext, envelope: StoredEnvelope): void {
  const { header } = envelope;
  statement(
    ctx.db,
    `INSERT INTO envelopes (envelope_id, case_id, direction, type, from_authority, to_authority, in_reply_to, created_at, stored_at, digest, signer_kid)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    envelope.envelopeId,
    header.caseId,
    envelope.direction,
    header.type,
    header.from,
    header.to,
    header.inReplyTo ?? null,
    header.createdAt,
    envelope.storedAt,
    envelope.envelopeDigest,
    envelope.signerKid,
  );
  statement(ctx.db, "INSERT INTO envelope_bodies (envelope_id, wire, document) VALUES (?, ?, ?)").run(envelope.envelopeId, envelope.wire, envelope.document);
}
