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
import type { Tx } from "../store/store.js";
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
export async function resealReason(ctx: GatewayContext, tx: Tx, row: QueuedEnvelope): Promise<ResealReason | undefined> {
  if (ctx.identity.isRevokedSigner(row.signer_kid)) return "signer-revoked";
  if (row.in_reply_to !== null && (await tx.outbox.isSuperseded(row.in_reply_to))) return "follows-resealed";
  return undefined;
}

/** Makes the pending envelopes signed by the keys `kids` due now (a revocation was just seen). Returns how many. */
export async function expediteResealing(ctx: GatewayContext, kids: readonly string[]): Promise<number> {
  if (kids.length === 0) return 0;
  const changes = await ctx.store.transaction((tx) => tx.outbox.expediteSignedBy(kids, ctx.now().getTime()));
  ctx.wakeDelivery();
  return changes;
}

/**
 * Re-seals the pending envelope `envelopeId` under the current sign key
 * (see the module comment). Returns undefined when the row is no longer
 * pending. Throws `OWN_SIGNER_UNUSABLE` when there is no usable sign key,
 * `PEER_UNKNOWN` when the recipient is no longer a peer.
 */
export async function resealEnvelope(ctx: GatewayContext, envelopeId: string, reason: ResealReason): Promise<ResealedEnvelope | undefined> {
  const old = await ctx.store.read((tx) => tx.outbox.pendingWithBody(envelopeId));
  if (old === undefined) return undefined;
  // Our own stored bytes, written when we sealed them: not hostile input.
  const header = JSON.parse(Buffer.from((JSON.parse(old.wire) as { payload: string }).payload, "base64url").toString("utf8")) as RoutingHeader;
  const peer = ctx.peers.get(header.to);
  const signer = ctx.identity.signer;
  const now = ctx.now();
  const createdAt = now.toISOString();
  const predecessor = header.inReplyTo;
  if (predecessor !== undefined && (await ctx.store.read((tx) => awaitsResealing(ctx, tx, predecessor)))) {
    // Re-sealed now, it would follow the old id and need re-sealing again.
    await ctx.store.transaction(async (tx) => {
      if (!(await awaitsResealing(ctx, tx, predecessor))) return; // re-sealed meanwhile: due now already
      await tx.outbox.delay(envelopeId, now.getTime() + WAIT_FOR_PREDECESSOR_MS);
    });
    return undefined;
  }
  const inReplyTo = predecessor === undefined ? undefined : await ctx.store.read((tx) => replacementOf(tx, predecessor));
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
  const resealed = await ctx.store.transaction(async (tx) => {
    // Sealing yielded: the row may have been re-sealed meanwhile (by this or another instance).
    if ((await tx.outbox.state(envelopeId)) !== "pending") return false;
    await storeOutboundEnvelope(tx, sealed, canonicalize(document), now, old.queued_since);
    await tx.outbox.supersede(envelopeId, sealed.envelopeId, createdAt);
    await tx.cases.replaceEnvelope(header.caseId, envelopeId, sealed.envelopeId, stepTime ?? null);
    await tx.evidence.replaceManifest(envelopeId, sealed.envelopeId);
    // What followed the old envelope is re-sealed next, not at its next backoff.
    await tx.outbox.expediteFollowers(envelopeId, now.getTime());
    await appendEntry(tx, {
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
async function awaitsResealing(ctx: GatewayContext, tx: Tx, envelopeId: string): Promise<boolean> {
  const row = await tx.outbox.pending(envelopeId);
  return row !== undefined && (await resealReason(ctx, tx, row)) !== undefined;
}

/** The envelope that now stands for `envelopeId`: itself, or the last of its re-sealed replacements. */
async function replacementOf(tx: Tx, envelopeId: string): Promise<string> {
  let id = envelopeId;
  for (let hops = 0; hops < 100; hops += 1) {
    const next = await tx.outbox.supersededBy(id);
    if (next === null) return id;
    id = next;
  }
  return id;
}
