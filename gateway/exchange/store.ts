/**
 * Rows of the `envelopes` and `outbox` tables, written inside the caller's
 * transaction.
 */
import type { SealedEnvelope } from "../envelope/seal.js";
import type { OpenedEnvelope } from "../envelope/open.js";
import type { GatewayContext } from "../context.js";
import type { Priority } from "../envelope/types.js";
import { statement } from "../store/statements.js";

/** Stores an envelope we sealed and queues it for delivery. */
export function storeOutboundEnvelope(ctx: GatewayContext, sealed: SealedEnvelope, document: string, now: Date): void {
  const { header } = sealed;
  statement(ctx.db, 
      `INSERT INTO envelopes (envelope_id, case_id, direction, type, from_authority, to_authority, in_reply_to, created_at, stored_at, digest, signer_kid)
       VALUES (?, ?, 'outbound', ?, ?, ?, ?, ?, ?, ?, ?)`,
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
      ctx.identity.signer.kid,
    );
  storeBody(ctx, sealed.envelopeId, JSON.stringify(sealed.envelope), document);
  statement(ctx.db, "INSERT INTO outbox (envelope_id, peer, state, attempts, next_attempt_at, created_at, rank) VALUES (?, ?, 'pending', 0, ?, ?, ?)")
    .run(sealed.envelopeId, header.to, now.getTime(), now.toISOString(), DELIVERY_RANK[header.priority]);
}

/** Stores an envelope we received and opened. */
export function storeInboundEnvelope(ctx: GatewayContext, opened: OpenedEnvelope, wire: string, document: string, storedAt: string): void {
  const { header } = opened;
  statement(ctx.db, 
      `INSERT INTO envelopes (envelope_id, case_id, direction, type, from_authority, to_authority, in_reply_to, created_at, stored_at, digest, signer_kid)
       VALUES (?, ?, 'inbound', ?, ?, ?, ?, ?, ?, ?, ?)`,
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
      opened.signer.kid,
    );
  storeBody(ctx, opened.envelopeId, wire, document);
}

/** Delivery order of the outbox: emergency first. */
const DELIVERY_RANK: Readonly<Record<Priority, number>> = { emergency: 0, urgent: 1, normal: 2 };

function storeBody(ctx: GatewayContext, envelopeId: string, wire: string, document: string): void {
  statement(ctx.db, "INSERT INTO envelope_bodies (envelope_id, wire, document) VALUES (?, ?, ?)").run(envelopeId, wire, document);
}
