/**
 * Rows of the `envelopes` and `outbox` tables, written inside the caller's
 * transaction.
 */
import type { SealedEnvelope } from "../envelope/seal.js";
import type { OpenedEnvelope } from "../envelope/open.js";
import type { GatewayContext } from "../context.js";

/** Stores an envelope we sealed and queues it for delivery. */
export function storeOutboundEnvelope(ctx: GatewayContext, sealed: SealedEnvelope, document: string, now: Date): void {
  const { header } = sealed;
  ctx.db
    .prepare(
      `INSERT INTO envelopes (envelope_id, case_id, direction, type, from_authority, to_authority, in_reply_to, created_at, stored_at, digest, wire, document, signer_kid)
       VALUES (?, ?, 'outbound', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      sealed.envelopeId,
      header.caseId,
      header.type,
      header.from,
      header.to,
      header.inReplyTo ?? null,
      header.createdAt,
      now.toISOString(),
      sealed.envelopeDigest,
      JSON.stringify(sealed.envelope),
      document,
      ctx.identity.signer.kid,
    );
  ctx.db
    .prepare("INSERT INTO outbox (envelope_id, peer, state, attempts, next_attempt_at, created_at) VALUES (?, ?, 'pending', 0, ?, ?)")
    .run(sealed.envelopeId, header.to, now.getTime(), now.toISOString());
}

/** Stores an envelope we received and opened. */
export function storeInboundEnvelope(ctx: GatewayContext, opened: OpenedEnvelope, wire: string, document: string, storedAt: string): void {
  const { header } = opened;
  ctx.db
    .prepare(
      `INSERT INTO envelopes (envelope_id, case_id, direction, type, from_authority, to_authority, in_reply_to, created_at, stored_at, digest, wire, document, signer_kid)
       VALUES (?, ?, 'inbound', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      opened.envelopeId,
      header.caseId,
      header.type,
      header.from,
      header.to,
      header.inReplyTo ?? null,
      header.createdAt,
      storedAt,
      opened.envelopeDigest,
      wire,
      document,
      opened.signer.kid,
    );
}
