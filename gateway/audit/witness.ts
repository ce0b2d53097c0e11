/**
 * The witness side of C2SP tlog-witness (https://c2sp.org/tlog-witness):
 * this gateway cosigns its peers' checkpoints (C2SP tlog-cosignature) after
 * checking that each one extends the last checkpoint it cosigned for that
 * log. The check and the new state commit in one transaction, so the witness
 * never cosigns two checkpoints of one log that are inconsistent with each
 * other — across concurrent requests and restarts alike.
 *
 * A peer that shows a checkpoint inconsistent with one it showed before
 * (same size and another root, a failing consistency proof, or a root that
 * differs from the checkpoint in one of its receipts) has forked its log:
 * that raises an alarm — a `log_alarms` row with the evidence, a
 * `log.inconsistent` audit entry and an error log line — in the same
 * transaction as the refusal.
 */
import type { KeyObject } from "node:crypto";
import type { GatewayContext } from "../context.js";
import type { Tx } from "../store/store.js";
import type { Peer } from "../peers/directory.js";
import { GatewayError } from "../errors.js";
import { appendEntry } from "./append.js";
import { checkpointOrigin, verifyCheckpoint, VALISE_ORIGIN_PREFIX, type VerifiedCheckpoint } from "./checkpoint.js";
import { cosignCheckpoint, witnessName } from "./cosignature.js";
import { emptyRoot } from "./merkle.js";
import { verifyConsistency } from "./merkle-verify.js";
import { appendSignatureLines } from "./note.js";
import { parseAddCheckpointRequest, type AddCheckpointRequest } from "./witness-request.js";
import { raiseAlert } from "../alerts/alerts.js";
import { checkWitnessedEpoch, epochOrigin, isOriginOf, parseLogOrigin } from "./epoch-origin.js";

/** What a successful add-checkpoint answers: the cosignature line(s), as the spec's 200 body. */
export interface WitnessCosigned {
  readonly size: number;
  /** Signature lines, each ending in a newline. */
  readonly cosignature: string;
}

/** The last checkpoint this gateway cosigned for a log. */
export interface WitnessedLog {
  readonly origin: string;
  readonly size: number;
  readonly root: Buffer;
  readonly note: string;
  readonly updatedAt: string;
}

/** An inconsistency this gateway detected in a peer's log. */
export interface LogAlarm {
  readonly id: number;
  readonly origin: string;
  readonly detectedAt: string;
  readonly reason: string;
}

/** Public `log` keys of `peer` (current and previous): a rotated key still verifies older checkpoints. */
export function peerLogKeys(peer: Peer): KeyObject[] {
  return peer.certificates.filter((c) => c.use === "log").map((c) => c.certificate.publicKey);
}

/**
 * Handles a tlog-witness add-checkpoint request from `peer` (the TLS client
 * identity). Checks, in the spec's order: the body parses (400
 * AUDIT_WITNESS_REQUEST_MALFORMED); the origin is the caller's own log
 * (403 WITNESS_ORIGIN_FORBIDDEN for another peer's log, 404
 * WITNESS_UNKNOWN_LOG otherwise); a current or previous `log` key of the peer
 * signed it (403 AUDIT_SIGNATURE_INVALID); `old` is at most the checkpoint's
 * size (400 WITNESS_OLD_SIZE_INVALID); `old` is the size last cosigned (409
 * WITNESS_CONFLICT, `details.knownSize`); for an equal size the roots are
 * equal (409, and an alarm); the proof verifies against the stored root (422
 * AUDIT_CONSISTENCY_FAILED, and an alarm). Then cosigns and stores the new
 * state, durably, before answering.
 */
export async function addCheckpoint(ctx: GatewayContext, peer: Peer, body: string | Uint8Array): Promise<WitnessCosigned> {
  // The body is hostile: parsed strictly and bounded before anything else.
  const request = parseAddCheckpointRequest(body);
  const verified = verifyPeerCheckpoint(ctx, peer, request.checkpoint);
  const { checkpoint } = verified;
  if (request.oldSize > checkpoint.size) {
    throw new GatewayError("WITNESS_OLD_SIZE_INVALID", "the old size exceeds the checkpoint's size", {
      details: { oldSize: request.oldSize, size: checkpoint.size },
    });
  }
  // Checked and stored in one transaction that holds the log's witness lock:
  // no other request (on any instance) can slip between the consistency check and the update.
  const outcome = await ctx.store.transaction((tx) => witnessInTransaction(ctx, tx, peer, request, verified));
  if (outcome.kind === "cosigned") {
    ctx.logger.debug("cosigned a peer checkpoint", { origin: checkpoint.origin, size: checkpoint.size });
    return { size: checkpoint.size, cosignature: outcome.cosignature };
  }
  if (outcome.kind === "alarm") {
    ctx.logger.error("peer log inconsistent: a checkpoint contradicts what it showed before", {
      peer: peer.authority,
      origin: checkpoint.origin,
      reason: outcome.error.details?.["reason"],
      alarmId: outcome.alarmId,
      knownSize: outcome.knownSize,
      size: checkpoint.size,
    });
  }
  throw outcome.error;
}

type Outcome =
  | { kind: "cosigned"; cosignature: string }
  | { kind: "refused"; error: GatewayError }
  | { kind: "alarm"; error: GatewayError; alarmId: number; knownSize: number };

async function witnessInTransaction(ctx: GatewayContext, tx: Tx, peer: Peer, request: AddCheckpointRequest, verified: VerifiedCheckpoint): Promise<Outcome> {
  const { checkpoint } = verified;
  // Epochs: only the epoch of the peer's log this witness follows is cosigned (a later one needs its statement first).
  const following = await tx.epochs.peerCurrent(peer.authority);
  try {
    checkWitnessedEpoch(parseLogOrigin(checkpoint.origin)?.epoch ?? 1, following ?? { epoch: 1, origin: epochOrigin(peer.authority, 1) }, checkpoint.origin);
  } catch (error) {
    if (error instanceof GatewayError) return { kind: "refused", error };
    throw error;
  }
  await tx.peerLogs.lockWitnessed(checkpoint.origin);
  const known = await witnessedLog(tx, checkpoint.origin);
  const knownSize = known?.size ?? 0;
  const knownRoot = known?.root ?? emptyRoot();
  if (request.oldSize !== knownSize) {
    return { kind: "refused", error: conflict(knownSize, "the old size is not the size last cosigned") };
  }
  const now = ctx.now();
  const alarm = async (error: GatewayError, reason: string, evidence: Record<string, unknown>): Promise<Outcome> => {
    const alarmId = await raiseAlarm(tx, peer, checkpoint.origin, now, reason, { ...evidence, claimed: noteEvidence(checkpoint.size, checkpoint.rootHash, request.checkpoint) });
    await raiseAlert(tx, ctx.config, {
      type: "alert.log.inconsistent",
      key: String(alarmId),
      time: now,
      data: { peer: peer.authority, origin: checkpoint.origin, reason, alarmId, size: checkpoint.size },
    });
    return { kind: "alarm", error, alarmId, knownSize };
  };
  const knownEvidence = known === undefined ? null : noteEvidence(known.size, known.root, known.note);
  if (checkpoint.size === knownSize && !checkpoint.rootHash.equals(knownRoot)) {
    // Two checkpoints of one size with different roots, both signed by the log: a fork.
    return await alarm(conflict(knownSize, "a checkpoint of the cosigned size with another root"), "same size, different root", { known: knownEvidence });
  }
  try {
    verifyConsistency(knownSize, checkpoint.size, knownRoot, checkpoint.rootHash, request.proof);
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return await alarm(error, "consistency proof failed", {
      known: knownEvidence,
      proof: request.proof.map((hash) => hash.toString("base64")),
      failure: String(error.details?.["reason"] ?? error.message),
    });
  }
  // A checkpoint of this size from one of the peer's receipts must have the same root.
  const receipted = await tx.peerLogs.checkpoint(checkpoint.origin, checkpoint.size);
  if (receipted !== undefined && !receipted.root.equals(checkpoint.rootHash)) {
    return await alarm(conflict(knownSize, "a receipt's checkpoint of this size has another root"), "receipt checkpoint differs", {
      known: knownEvidence,
      receipt: noteEvidence(checkpoint.size, receipted.root, receipted.note),
    });
  }

  const cosignature = cosignCheckpoint(verified.text, { name: witnessName(ctx.authority), privateKey: ctx.identity.logKey }, Math.floor(now.getTime() / 1000));
  const stamp = now.toISOString();
  await tx.peerLogs.setWitnessed({ origin: checkpoint.origin, size: checkpoint.size, root: checkpoint.rootHash, note: request.checkpoint, updatedAt: stamp });
  await tx.peerLogs.recordCheckpoint({ origin: checkpoint.origin, size: checkpoint.size, root: checkpoint.rootHash, note: request.checkpoint, receivedAt: stamp });
  return { kind: "cosigned", cosignature };
}

/**
 * Verifies a checkpoint note submitted by `peer`: it must be the peer's own
 * log, signed by one of its `log` keys. Throws WITNESS_ORIGIN_FORBIDDEN,
 * WITNESS_UNKNOWN_LOG, AUDIT_SIGNATURE_INVALID (and the note's parse codes).
 */
export function verifyPeerCheckpoint(ctx: GatewayContext, peer: Peer, note: string): VerifiedCheckpoint {
  const origin = claimedOrigin(note);
  // Any epoch of the peer's own log (valise/<ID>, valise/<ID>/epoch-N); whether this witness follows that epoch is checked with its state.
  const own = isOriginOf(peer.authority, origin) ? origin : checkpointOrigin(peer.authority);
  if (origin !== own) {
    // The TLS identity binds the request: a peer cannot get another log cosigned through us.
    const other = origin.startsWith(VALISE_ORIGIN_PREFIX) ? ctx.peers.find(origin.slice(VALISE_ORIGIN_PREFIX.length)) : undefined;
    if (other !== undefined) {
      throw new GatewayError("WITNESS_ORIGIN_FORBIDDEN", `${peer.authority} may submit only its own log's checkpoints`, {
        details: { origin: origin.slice(0, 128), peer: peer.authority },
      });
    }
    throw new GatewayError("WITNESS_UNKNOWN_LOG", "this gateway does not witness that log", { details: { origin: origin.slice(0, 128) } });
  }
  let lastError: unknown;
  for (const publicKey of peerLogKeys(peer)) {
    try {
      return verifyCheckpoint(note, { origin: own, publicKey });
    } catch (error) {
      if ((error as { code?: string }).code !== "AUDIT_SIGNATURE_INVALID") throw error;
      lastError = error; // maybe signed by the other (rotated) key
    }
  }
  throw lastError ?? new GatewayError("AUDIT_SIGNATURE_INVALID", "no log key of the peer is known", { details: { peer: peer.authority } });
}

/** The origin line of a (parsed, unverified) note: only used to route it to the right key. */
function claimedOrigin(note: string): string {
  const end = note.indexOf("\n");
  return end < 0 ? "" : note.slice(0, end);
}

/** The last checkpoint cosigned for `origin`, if any. */
export function witnessedLog(tx: Tx, origin: string): Promise<WitnessedLog | undefined> {
  return tx.peerLogs.witnessed(origin);
}

/** Alarms raised about `origin` (every origin when omitted), oldest first. */
export function logAlarms(tx: Tx, origin?: string): Promise<LogAlarm[]> {
  return tx.peerLogs.alarms(origin);
}

/**
 * The stored checkpoint of this gateway's log of `size` (the latest when
 * omitted) with every cosignature collected for it appended as signature
 * lines — what peers, auditors and exports are given. Undefined when no
 * such checkpoint is stored.
 */
export async function checkpointWithCosignatures(tx: Tx, size?: number): Promise<string | undefined> {
  const row = await tx.audit.checkpoint(size);
  return row === undefined ? undefined : withCosignatures(tx, row.note, row.size);
}

/** `note` (a checkpoint of this gateway's log of `size`) with its stored cosignature lines appended. */
export async function withCosignatures(tx: Tx, note: string, size: number): Promise<string> {
  const lines = await tx.audit.cosignatures(size);
  return lines.length === 0 ? note : appendSignatureLines(note, lines.map((row) => row.line).join(""));
}

function conflict(knownSize: number, reason: string): GatewayError {
  return new GatewayError("WITNESS_CONFLICT", `${reason}; this witness last cosigned size ${knownSize}`, { details: { knownSize, reason } });
}

function noteEvidence(size: number, root: Buffer, note: string): { size: number; root: string; note: string } {
  return { size, root: root.toString("base64"), note };
}

/**
 * Records the inconsistency (inside the caller's transaction): a log_alarms
 * row with the evidence and a `log.inconsistent` audit entry. The same
 * contradicting checkpoint shown again (a retrying peer) is recorded once.
 */
async function raiseAlarm(tx: Tx, peer: Peer, origin: string, now: Date, reason: string, evidence: Record<string, unknown> & { claimed: { size: number; root: string } }): Promise<number> {
  const seen = (await tx.peerLogs.alarmsWithEvidence(origin, reason)).find((alarm) => {
    const claimed = (JSON.parse(alarm.evidence) as { claimed?: { size?: unknown; root?: unknown } }).claimed;
    return claimed?.size === evidence.claimed.size && claimed?.root === evidence.claimed.root;
  });
  if (seen !== undefined) return seen.id;
  const detectedAt = now.toISOString();
  const id = await tx.peerLogs.raiseAlarm({ origin, detectedAt, reason, evidence: JSON.stringify(evidence) });
  const known = evidence["known"] as { size: number; root: string } | null | undefined;
  await appendEntry(tx, {
    kind: "log.inconsistent",
    actor: `peer:${peer.authority}`,
    time: now,
    details: {
      origin,
      reason,
      alarmId: id,
      claimed: { size: evidence.claimed.size, root: evidence.claimed.root },
      known: known === undefined || known === null ? null : { size: known.size, root: known.root },
    },
  });
  return id;
}
