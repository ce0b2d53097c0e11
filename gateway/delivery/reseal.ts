/**
 * Re-sealing an envelope queued under a sign key that was revoked before it
 * was delivered.
 *
 * Once the peer holds our new CRL it refuses everything signed by the
 * revoked key (`ENVELOPE_SIGNER_REVOKED`), so retrying the same bytes until
 * the give-up time can never succeed. Instead the delivery worker, when such
 * a row comes due, seals the same document again under the current key:
 *
 * - as a new envelope: a new id, because the receiver's replay check refuses
 *   one id with other bytes (`ENVELOPE_REPLAY`); a new `createdAt`, because
 *   the new certificate was not valid at the old one (a status update's `at`,
 *   which the receiver requires to match `createdAt`, moves with it);
 * - in the same case, taking the old envelope's place in it: the case's
 *   request or head, the step in its history, the manifest of an evidence
 *   package. The old envelope is kept (it was audited as sent); its outbox
 *   row becomes `superseded`, naming the new one, and an `envelope.resealed`
 *   audit entry links the two, in the same transaction;
 * - an envelope that follows a re-sealed one (`inReplyTo`) is re-sealed too,
 *   whatever key signed it, so that it follows the new id; one that follows
 *   an envelope still waiting to be re-sealed waits for it (the re-sealing
 *   makes it due again);
 * - the give-up time still counts from when the original was queued.
 *
 * With no usable sign key yet (revoked, not rotated) nothing is sent:
 * `OWN_SIGNER_UNUSABLE` is recorded as a failed attempt and retried, and the
 * rotation's reload wakes the rows again.
 *
 * Limit: if the peer did store the old envelope but its receipt was lost
 * before the revocation, the peer now receives the document twice under two
 * ids; a request is then refused `CASE_CONFLICT`, a status update
 * `CASE_TRANSITION_INVALID`, and the row fails (logged, audited).
 */
import { sealEnvelope } from "../envelope/seal.js";
import { canonicalize } from "../envelope/canonical-json.js";
import type { RoutingHeader } from "../envelope/types.js";
import { appendEntry } from "../audit/append.js";
import type { GatewayContext } from "../context.js";
import type { Db } from "../store/database.js";
import { statement } from "../store/statements.js";
import { storeOutboundEnvelope } from "../exchange/store.js";

/** Why an envelope is re-sealed. */
export type ResealReason = "signer-revoked" | "follows-resealed";

/** An outbox row as the worker sees it. */
export interface QueuedEnvelope {
  readonly envelope_id: string;
  readonly signer_kid: string;
  readonly in_reply_to: string | null;
}

/** A re-sealed envelope. */
export interface ResealedEnvelope {
  readonly envelopeId: string;
  readonly envelopeDigest: string;
  readonly supersedes: string;
}

/** Whether `row` must be re-sealed before delivery, and why. */
export function resealReason(ctx: GatewayContext, row: QueuedEnvelope): ResealReason | undefined {
  if (ctx.identity.isRevokedSigner(row.signer_kid)) return "signer-revoked";
  if (row.in_reply_to !== null && statement(ctx.db, "SELECT 1 FROM outbox WHERE envelope_id = ? AND state = 'superseded'").get(row.in_reply_to) !== undefined) {
    return "follows-resealed";
  }
  return undefined;
}

/** Makes the pending envelopes signed by the keys `kids` due now (a revocation was just seen). Returns how many. */
export async function expediteResealing(ctx: GatewayContext, kids: readonly string[]): Promise<number> {
  if (kids.length === 0) return 0;
  const changes = await ctx.commits.run(
    () =>
      statement(
        ctx.db,
        // Driven by the pending rows (indexed), not by the envelopes table (every envelope ever sent).
        `UPDATE outbox SET next_attempt_at = ? WHERE state = 'pending'
            AND (SELECT e.signer_kid FROM envelopes e WHERE e.envelope_id = outbox.envelope_id) IN (SELECT value FROM json_each(?))`,
      ).run(ctx.now().getTime(), JSON.stringify(kids)).changes,
  );
  ctx.wakeDelivery();
  return changes;
}

interface QueuedRow {
  case_id: string;
  digest: string;
  signer_kid: string;
  wire: string;
  document: string;
  queued_since: string;
}

/**
 * Re-seals the pending envelope `envelopeId` under the current sign key
 * (see the module comment). Returns undefined when the row is no longer
 * pending. Throws `OWN_SIGNER_UNUSABLE` when there is no usable sign key,
 * `PEER_UNKNOWN` when the recipient is no longer a peer.
 */
export async function resealEnvelope(ctx: GatewayContext, envelopeId: string, reason: ResealReason): Promise<ResealedEnvelope | undefined> {
  const old = statement(
    ctx.db,
    `SELECT e.case_id, e.digest, e.signer_kid, b.wire, b.document, o.created_at AS queued_since
       FROM envelopes e JOIN envelope_bodies b USING (envelope_id) JOIN outbox o USING (envelope_id)
      WHERE e.envelope_id = ? AND e.direction = 'outbound' AND o.state = 'pending'`,
  ).get(envelopeId) as QueuedRow | undefined;
  if (old === undefined) return undefined;
  // Our own stored bytes, written when we sealed them: not hostile input.
  const header = JSON.parse(Buffer.from((JSON.parse(old.wire) as { payload: string }).payload, "base64url").toString("utf8")) as RoutingHeader;
  const peer = ctx.peers.get(header.to);
  const signer = ctx.identity.signer;
  const now = ctx.now();
  const createdAt = now.toISOString();
  if (header.inReplyTo !== undefined && awaitsResealing(ctx, header.inReplyTo)) {
    // Re-sealed now, it would follow the old id and need re-sealing again.
    await ctx.commits.run(() => {
      if (!awaitsResealing(ctx, header.inReplyTo!)) return; // re-sealed meanwhile: due now already
      statement(ctx.db, "UPDATE outbox SET next_attempt_at = ? WHERE envelope_id = ? AND state = 'pending'").run(now.getTime() + WAIT_FOR_PREDECESSOR_MS, envelopeId);
    });
    return undefined;
  }
  const inReplyTo = header.inReplyTo === undefined ? undefined : replacementOf(ctx.db, header.inReplyTo);
  const document = JSON.parse(old.document) as Record<string, unknown>;
  const stepTime = header.type === "status-update" ? createdAt : undefined;
  if (stepTime !== undefined) document["at"] = stepTime;
  const sealed = await sealEnvelope({
    document,
    type: header.type,
    from: ctx.authority,
    to: peer.authority,
    caseId: header.caseId,
    ...(inReplyTo === undefined ? {} : { inReplyTo }),
    priority: header.priority,
    createdAt,
    signer,
    recipient: { publicKey: peer.encryptionKey },
  });
  const resealed = await ctx.commits.run(() => {
    // Sealing yielded: the row may have been re-sealed meanwhile.
    const state = statement(ctx.db, "SELECT state FROM outbox WHERE envelope_id = ?").get(envelopeId) as { state: string } | undefined;
    if (state?.state !== "pending") return false;
    storeOutboundEnvelope(ctx, sealed, canonicalize(document), now, old.queued_since);
    statement(ctx.db, "UPDATE outbox SET state = 'superseded', superseded_by = ?, finished_at = ?, last_error = NULL WHERE envelope_id = ?").run(sealed.envelopeId, createdAt, envelopeId);
    takeOver(ctx.db, header.caseId, envelopeId, sealed.envelopeId, stepTime);
    // What followed the old envelope is re-sealed next, not at its next backoff.
    statement(
      ctx.db,
      "UPDATE outbox SET next_attempt_at = ? WHERE state = 'pending' AND (SELECT e.in_reply_to FROM envelopes e WHERE e.envelope_id = outbox.envelope_id) = ?",
    ).run(now.getTime(), envelopeId);
    appendEntry(ctx.db, {
      kind: "envelope.resealed",
      actor: "gateway",
      time: now,
      caseId: header.caseId,
      envelopeId: sealed.envelopeId,
      envelopeDigest: sealed.envelopeDigest,
      details: {
        type: header.type,
        to: peer.authority,
        reason,
        supersedes: envelopeId,
        supersededDigest: old.digest,
        supersededSignerKid: old.signer_kid,
        signerKid: signer.kid,
        ...(inReplyTo === undefined ? {} : { inReplyTo }),
      },
    });
    return true;
  });
  if (!resealed) return undefined;
  ctx.logger.info("envelope re-sealed under the current sign key", {
    caseId: header.caseId,
    envelopeId: sealed.envelopeId,
    supersedes: envelopeId,
    to: peer.authority,
    reason,
  });
  ctx.wakeDelivery();
  return { envelopeId: sealed.envelopeId, envelopeDigest: sealed.envelopeDigest, supersedes: envelopeId };
}

/** How long an envelope waits for the one it follows to be re-sealed (that re-sealing makes it due at once). */
const WAIT_FOR_PREDECESSOR_MS = 1000;

/** Whether `envelopeId` is one of ours, still pending, and to be re-sealed. */
function awaitsResealing(ctx: GatewayContext, envelopeId: string): boolean {
  const row = statement(
    ctx.db,
    "SELECT e.envelope_id, e.signer_kid, e.in_reply_to FROM envelopes e JOIN outbox o USING (envelope_id) WHERE e.envelope_id = ? AND o.state = 'pending'",
  ).get(envelopeId) as QueuedEnvelope | undefined;
  return row !== undefined && resealReason(ctx, row) !== undefined;
}

/** The envelope that now stands for `envelopeId`: itself, or the last of its re-sealed replacements. */
function replacementOf(db: Db, envelopeId: string): string {
  let id = envelopeId;
  for (let hops = 0; hops < 100; hops += 1) {
    const row = statement(db, "SELECT superseded_by FROM outbox WHERE envelope_id = ? AND state = 'superseded'").get(id) as { superseded_by: string | null } | undefined;
    if (row?.superseded_by == null) return id;
    id = row.superseded_by;
  }
  return id;
}

/**
 * The new envelope takes the old one's place in its case: request and head
 * of the case, its step (and the steps that name it), an evidence package's
 * manifest, a deadline alert's hop. `stepTime`: the step's new signed time.
 */
function takeOver(db: Db, caseId: string, oldId: string, newId: string, stepTime: string | undefined): void {
  statement(db, "UPDATE cases SET request_envelope_id = ? WHERE case_id = ? AND request_envelope_id = ?").run(newId, caseId, oldId);
  statement(db, "UPDATE cases SET head_envelope_id = ? WHERE case_id = ? AND head_envelope_id = ?").run(newId, caseId, oldId);
  statement(db, "UPDATE case_steps SET envelope_id = ?, at = COALESCE(?, at) WHERE envelope_id = ?").run(newId, stepTime ?? null, oldId);
  statement(db, "UPDATE case_steps SET predecessor = ? WHERE case_id = ? AND predecessor = ?").run(newId, caseId, oldId);
  statement(db, "UPDATE case_steps SET superseded_by = ? WHERE case_id = ? AND superseded_by = ?").run(newId, caseId, oldId);
  statement(db, "UPDATE evidence_packages SET envelope_id = ? WHERE envelope_id = ?").run(newId, oldId);
  statement(db, "UPDATE case_deadline_alerts SET hop_key = ? WHERE case_id = ? AND hop_key = ?").run(newId, caseId, oldId);
}
