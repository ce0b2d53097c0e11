/**
 * Rows of the `envelopes`, `envelope_bodies` and `outbox` tables, written
 * inside the caller's transaction.
 */
import type { SealedEnvelope } from "../envelope/seal.js";
import type { OpenedEnvelope } from "../envelope/open.js";
import type { Priority, RoutingHeader } from "../envelope/types.js";
import type { Tx } from "../store/store.js";

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
export async function storeOutboundEnvelope(tx: Tx, sealed: SealedEnvelope, document: string, now: Date, queuedSince: string = now.toISOString()): Promise<void> {
  await storeEnvelope(tx, {
    direction: "outbound",
    header: sealed.header,
    envelopeId: sealed.envelopeId,
    envelopeDigest: sealed.envelopeDigest,
    signerKid: signerKidOf(sealed),
    storedAt: now.toISOString(),
    wire: JSON.stringify(sealed.envelope),
    document,
  });
  await tx.outbox.enqueue({ envelopeId: sealed.envelopeId, peer: sealed.header.to, rank: DELIVERY_RANK[sealed.header.priority], at: now, createdAt: queuedSince });
}

/** The kid the envelope was signed with (its outer protected header: the key may have been rotated since). */
function signerKidOf(sealed: SealedEnvelope): string {
  const header = JSON.parse(Buffer.from(sealed.envelope.protected, "base64url").toString("utf8")) as { kid?: unknown };
  if (typeof header.kid !== "string") throw new Error("a sealed envelope has no kid");
  return header.kid;
}

/** Stores an envelope we received and opened. */
export async function storeInboundEnvelope(tx: Tx, opened: OpenedEnvelope, wire: string, document: string, storedAt: string): Promise<void> {
  await storeEnvelope(tx, {
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

async function storeEnvelope(tx: Tx, envelope: StoredEnvelope): Promise<void> {
  const { header } = envelope;
  await tx.envelopes.insert({
    envelopeId: envelope.envelopeId,
    caseId: header.caseId,
    direction: envelope.direction,
    type: header.type,
    from: header.from,
    to: header.to,
    inReplyTo: header.inReplyTo ?? null,
    createdAt: header.createdAt,
    storedAt: envelope.storedAt,
    digest: envelope.envelopeDigest,
    signerKid: envelope.signerKid,
    wire: envelope.wire,
    document: envelope.document,
  });
}
