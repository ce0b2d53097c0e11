/**
 * The witness side of log epochs, served on the peer API (mutual TLS; the
 * peer is the TLS client):
 *
 * - `acceptEpoch`: a peer opens a new epoch of its own log with a statement
 *   (gateway/audit/epoch-statement.ts). Checked against what this witness
 *   cosigned, then, in one transaction holding the log's witness lock: the
 *   epoch is recorded (`peer_epochs`), every open alarm about the peer's
 *   earlier epochs is closed by it (a `log_alarm_resolutions` row beside the
 *   alarm, which stays), the new epoch's checkpoint becomes the witnessed
 *   state of its origin, and a `log.epoch.accepted` entry goes into this
 *   gateway's log. The answer carries this witness's cosignature of the
 *   checkpoint. A statement already accepted is answered again, unchanged.
 * - `witnessState`: what this witness holds of the caller's log — the last
 *   checkpoint cosigned in each epoch, the epoch it follows, its alarms —
 *   so a restored gateway can compare its log with it before it serves.
 */
import type { GatewayContext } from "../context.js";
import type { Peer } from "../peers/directory.js";
import { canonicalize, type JsonValue } from "../envelope/canonical-json.js";
import { appendEntry } from "./append.js";
import { cosignCheckpoint, witnessName } from "./cosignature.js";
import { epochOrigin } from "./epoch-origin.js";
import { parseEpochSubmission, verifyEpochSubmission } from "./epoch-statement.js";
import { emptyRoot } from "./merkle.js";
import { peerLogKeys } from "./witness.js";

/** The answer to an accepted statement. */
export interface EpochAccepted {
  readonly epoch: number;
  readonly origin: string;
  /** This witness's cosignature line over the new epoch's checkpoint (empty when it was accepted before). */
  readonly cosignature: string;
  readonly alarmsResolved: readonly number[];
  readonly alreadyAccepted: boolean;
}

/** Handles a peer's epoch statement. Throws AUDIT_EPOCH_INVALID (422) and the store's codes. */
export async function acceptEpoch(ctx: GatewayContext, peer: Peer, body: Buffer): Promise<EpochAccepted> {
  const submission = parseEpochSubmission(body);
  const now = ctx.now();
  const outcome = await ctx.store.transaction(async (tx) => {
    const current = await tx.epochs.peerCurrent(peer.authority);
    const currentEpoch = current === undefined ? { epoch: 1, origin: epochOrigin(peer.authority, 1) } : { epoch: current.epoch, origin: current.origin };
    // A retried submission of the epoch already accepted gets the same answer, without a second record.
    if (current !== undefined && (JSON.parse(current.statement) as { entry?: string }).entry === canonicalize(submission.entry as unknown as JsonValue)) {
      return { epoch: current.epoch, origin: current.origin, cosignature: "", alarmsResolved: [], alreadyAccepted: true };
    }
    await tx.peerLogs.lockWitnessed(currentEpoch.origin);
    const witnessed = await tx.peerLogs.witnessed(currentEpoch.origin);
    const anchorSize = (submission.entry.details as { anchor?: { size?: unknown } } | undefined)?.anchor?.size;
    const anchor = typeof anchorSize === "number" ? await tx.peerLogs.checkpoint(currentEpoch.origin, anchorSize) : undefined;
    const verified = verifyEpochSubmission(submission, {
      authority: peer.authority,
      logKeys: peerLogKeys(peer),
      current: currentEpoch,
      cosigned: { size: witnessed?.size ?? 0, root: witnessed?.root ?? emptyRoot() },
      anchorRoot: anchor?.root,
    });
    const { statement, checkpoint } = verified;
    const stamp = now.toISOString();
    await tx.epochs.insertPeerEpoch({
      authority: peer.authority,
      epoch: statement.epoch,
      origin: statement.origin,
      previousOrigin: statement.previousOrigin,
      startIndex: verified.entry.index,
      forced: statement.forced ? 1 : 0,
      lostFrom: statement.lost?.from ?? null,
      lostTo: statement.lost?.to ?? null,
      statement: JSON.stringify({ entry: canonicalize(submission.entry as unknown as JsonValue), checkpoint: submission.checkpoint }),
      acceptedAt: stamp,
    });
    // Every open alarm about the peer's earlier epochs: closed by this statement, kept.
    const resolved = new Set((await tx.epochs.resolutions()).map((r) => r.alarmId));
    const earlier = new Set([epochOrigin(peer.authority, 1), ...(await tx.epochs.peerEpochs(peer.authority)).filter((e) => e.epoch < statement.epoch).map((e) => e.origin)]);
    const alarmsResolved: number[] = [];
    for (const alarm of await tx.peerLogs.alarms()) {
      if (!earlier.has(alarm.origin) || resolved.has(alarm.id)) continue;
      await tx.epochs.resolveAlarm({ alarmId: alarm.id, origin: statement.origin, resolvedAt: stamp, reason: `closed by ${statement.origin}'s statement (${statement.forced ? "forced" : `lost ${statement.lost?.from}..${statement.lost?.to}`})` });
      alarmsResolved.push(alarm.id);
    }
    const cosignature = cosignCheckpoint(checkpoint.text, { name: witnessName(ctx.authority), privateKey: ctx.identity.logKey }, Math.floor(now.getTime() / 1000));
    await tx.peerLogs.setWitnessed({ origin: statement.origin, size: checkpoint.checkpoint.size, root: checkpoint.checkpoint.rootHash, note: submission.checkpoint, updatedAt: stamp });
    await tx.peerLogs.recordCheckpoint({ origin: statement.origin, size: checkpoint.checkpoint.size, root: checkpoint.checkpoint.rootHash, note: submission.checkpoint, receivedAt: stamp });
    await appendEntry(tx, {
      kind: "log.epoch.accepted",
      actor: `peer:${peer.authority}`,
      time: now,
      details: {
        peer: peer.authority,
        epoch: statement.epoch,
        origin: statement.origin,
        previousOrigin: statement.previousOrigin,
        statementIndex: verified.entry.index,
        held: statement.held.size,
        lost: statement.lost === null ? null : { from: statement.lost.from, to: statement.lost.to, count: statement.lost.count },
        forced: statement.forced,
        cosignedBefore: witnessed?.size ?? 0,
        alarmsResolved,
      },
    });
    return { epoch: statement.epoch, origin: statement.origin, cosignature, alarmsResolved, alreadyAccepted: false };
  });
  if (!outcome.alreadyAccepted) {
    ctx.logger.warn("a peer started a new epoch of its log", { peer: peer.authority, epoch: outcome.epoch, origin: outcome.origin, alarmsResolved: outcome.alarmsResolved });
  }
  return outcome;
}

/** What this witness holds of `peer`'s log. */
export interface WitnessState {
  readonly authority: string;
  /** The epoch this witness follows. */
  readonly current: { readonly epoch: number; readonly origin: string };
  /** The last checkpoint cosigned, per epoch origin (notes as the peer's log signed them). */
  readonly logs: ReadonlyArray<{ readonly origin: string; readonly size: number; readonly root: string; readonly note: string }>;
  readonly alarms: ReadonlyArray<{ readonly id: number; readonly origin: string; readonly reason: string; readonly detectedAt: string; readonly resolvedAt: string | null }>;
}

/** The witness state of `peer`'s log, for the peer itself. */
export async function witnessState(ctx: GatewayContext, peer: Peer): Promise<WitnessState> {
  return ctx.store.read(async (tx) => {
    const epochs = await tx.epochs.peerEpochs(peer.authority);
    const origins = [epochOrigin(peer.authority, 1), ...epochs.map((e) => e.origin)];
    const logs = [];
    for (const origin of origins) {
      const row = await tx.peerLogs.witnessed(origin);
      if (row !== undefined) logs.push({ origin, size: row.size, root: row.root.toString("base64"), note: row.note });
    }
    const resolutions = new Map((await tx.epochs.resolutions()).map((r) => [r.alarmId, r.resolvedAt]));
    const alarms = (await tx.peerLogs.alarms())
      .filter((a) => origins.includes(a.origin))
      .map((a) => ({ id: a.id, origin: a.origin, reason: a.reason, detectedAt: a.detectedAt, resolvedAt: resolutions.get(a.id) ?? null }));
    const last = epochs.at(-1);
    return { authority: peer.authority, current: last === undefined ? { epoch: 1, origin: origins[0]! } : { epoch: last.epoch, origin: last.origin }, logs, alarms };
  });
}
