/**
 * The requesting side learns that its request arrived: the peer's verified
 * receipt moves the case from `submitted` to `received`, and its signed
 * `receivedAt` becomes the time the case's clocks start from — the same
 * instant the requested side recorded, so both sides run the same clocks.
 * Called by the delivery worker inside the transaction storing the receipt.
 */
import type { Tx } from "../store/store.js";
import { appendEntry } from "../audit/append.js";
import { REQUEST_KINDS } from "../exchange/submit.js";

/** A receipt for an envelope of a case, verified. */
export interface DeliveredEnvelope {
  readonly caseId: string;
  readonly envelopeId: string;
  readonly envelopeDigest: string;
  /** The envelope's type (only a request's receipt starts the clocks). */
  readonly type: string;
  /** The receipt's receivedAt (signed by the peer). */
  readonly receivedAt: string;
  readonly peer: string;
  readonly now: Date;
  /** False when the receipt says the request does not meet the peer's requirements profile: the clocks do not start (default true). */
  readonly clockStarts?: boolean;
}

/** Records what a receipt means for the case (nothing for envelopes other than the request). */
export async function recordDelivered(tx: Tx, delivered: DeliveredEnvelope): Promise<void> {
  if (!(REQUEST_KINDS as readonly string[]).includes(delivered.type)) return;
  // The peer may already have acted on it (its first step overtook our receipt): then the status has moved on.
  const moved = await tx.cases.markReceived(delivered.caseId, delivered.clockStarts === false ? null : delivered.receivedAt, delivered.now.toISOString());
  if (!moved) return;
  await appendEntry(tx, {
    kind: "status.changed",
    actor: `peer:${delivered.peer}`,
    time: delivered.now,
    caseId: delivered.caseId,
    envelopeId: delivered.envelopeId,
    envelopeDigest: delivered.envelopeDigest,
    details: { cause: "receipt", from: "submitted", to: "received", receivedAt: delivered.receivedAt },
  });
}
