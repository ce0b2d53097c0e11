/**
 * `valise audit new-epoch`: freeze the epoch a log lost entries of and start
 * the next one, openly (gateway/audit/epoch-statement.ts).
 *
 * 1. Ask every peer what it cosigned of this log (gateway/audit/peer-check.ts).
 * 2. A loss is when a peer cosigned, in the current epoch, more entries than
 *    the log holds or another root at a size it holds. Without one the
 *    command is refused (AUDIT_EPOCH_NOT_NEEDED) unless forced, and a forced
 *    epoch says so in its statement, for every peer to see.
 * 3. In one transaction: the statement is appended at the next index (after
 *    every entry the database holds), the epoch recorded (audit_epochs), and
 *    the new epoch's first checkpoint signed with the `log` key under the new
 *    origin.
 * 4. The statement, that checkpoint and the proofs are submitted to every
 *    peer (`POST /peer/v1/log/epochs`); each peer's cosignature is verified
 *    and kept. A peer that cannot be reached now is sent the statement by the
 *    gateway's witness job when it first answers that it does not know the
 *    epoch (gateway/audit/witness-client.ts).
 */
import type { KeyObject } from "node:crypto";
import type { Peer } from "../peers/directory.js";
import type { Tx } from "../store/store.js";
import { GatewayError } from "../errors.js";
import type { JsonValue } from "../envelope/canonical-json.js";
import { appendEntry, type AuditEntry } from "./append.js";
import { verifyCosignature, witnessName } from "./cosignature.js";
import { epochOrigin, noteOrigin } from "./epoch-origin.js";
import { EPOCH_STATEMENT_KIND, type EpochStatement, type EpochSubmission } from "./epoch-statement.js";
import { currentEpoch } from "./epochs.js";
import { consistencyProof, inclusionProof, treeRoot } from "./merkle.js";
import { appendSignatureLines } from "./note.js";
import { compareWithPeers, fetchPeerView, type LogPeers } from "./peer-check.js";
import { signLogHead } from "./signed-head.js";
import { withStoredTree } from "./stored-tree.js";
import { peerLogKeys } from "./witness.js";

/** What starting an epoch needs beyond the peers. */
export interface NewEpochInput extends LogPeers {
  /** The current `log` private key (signs the new epoch's first checkpoint). */
  readonly logKey: KeyObject;
  readonly now: Date;
  /** Start it without a detected loss (marked forced in the statement). */
  readonly force: boolean;
  /** Who starts it (written into the statement; a name, never a secret). */
  readonly operator: string;
  readonly reason: string;
  /** What the restore brought back, when the home was restored (its marker). */
  readonly restored?: { readonly size: number; readonly root: string; readonly backupCreatedAt: string };
}

/** One peer's answer to the statement. */
export interface EpochAnnouncement {
  readonly peer: string;
  readonly outcome: "accepted" | "already-accepted" | "refused" | "unreachable";
  readonly code?: string;
  readonly reason?: string;
  readonly alarmsResolved?: readonly number[];
}

/** What was started. */
export interface NewEpochResult {
  readonly epoch: number;
  readonly origin: string;
  readonly statementIndex: number;
  readonly statement: EpochStatement;
  readonly checkpointSize: number;
  readonly peers: readonly EpochAnnouncement[];
}

/** Starts the next epoch of the log; see the module comment. */
export async function startNewEpoch(input: NewEpochInput): Promise<NewEpochResult> {
  const comparison = await compareWithPeers(input);
  const unreachable = comparison.peers.filter((p) => !p.reachable).map((p) => p.peer);
  const reachable = comparison.peers.filter((p) => p.reachable);
  // The largest checkpoint of this epoch any peer cosigned.
  let previous: { size: number; root: Buffer; cosignedBy: string[] } | null = null;
  for (const view of reachable) {
    const c = view.cosigned;
    if (c === undefined || c.size === 0) continue;
    if (previous === null || c.size > previous.size) previous = { size: c.size, root: c.root, cosignedBy: [witnessName(view.peer)] };
    else if (c.size === previous.size && c.root.equals(previous.root)) previous.cosignedBy.push(witnessName(view.peer));
  }
  const lossFound = comparison.behind.length > 0;
  if (!lossFound && !input.force) {
    if (reachable.length === 0 && comparison.peers.length > 0) {
      throw new GatewayError("AUDIT_PEER_CHECK_FAILED", `no peer could be asked what it cosigned of this log (${unreachable.join(", ")}); start the epoch when one answers, or --force it`, {
        details: { unreachable },
      });
    }
    throw new GatewayError("AUDIT_EPOCH_NOT_NEEDED", `no peer has cosigned more of ${comparison.origin} than the ${comparison.size} entries it holds: nothing was lost; pass --force to start a new epoch anyway (peers see it as forced)`, {
      details: { origin: comparison.origin, size: comparison.size, peers: reachable.map((p) => ({ peer: p.peer, cosigned: p.cosigned?.size ?? 0 })) },
    });
  }

  const started = await input.store.transaction(async (tx) => {
    const epoch = await currentEpoch(tx, input.authority);
    const held = await tx.audit.leafCount();
    const heldRoot = await withStoredTree(tx, held, (reader) => treeRoot(reader, held));
    // What the restore brought back counts only if the database still starts with it (on PostgreSQL the
    // operator's dump may be older than the archive's manifest): otherwise the held entries are the base.
    const restored =
      input.restored !== undefined && input.restored.size <= held && (await withStoredTree(tx, held, (reader) => treeRoot(reader, input.restored!.size))).toString("base64") === input.restored.root
        ? input.restored
        : undefined;
    const base = restored?.size ?? held;
    // The anchor: the largest checkpoint of this epoch still held, at most what the peers cosigned.
    const anchorRow = await tx.audit.checkpointAtMost(Math.min(base, held, previous?.size ?? held));
    const anchor = anchorRow !== undefined && noteOrigin(anchorRow.note) === epoch.origin ? { size: anchorRow.size, root: anchorRow.root.toString("base64") } : null;
    const lost =
      previous === null
        ? null
        : previous.size > base
          ? range(base, previous.size - 1)
          : (await withStoredTree(tx, held, (reader) => treeRoot(reader, previous.size))).equals(previous.root)
            ? null
            : range(anchor?.size ?? 0, previous.size - 1);
    const next = epoch.epoch + 1;
    const origin = epochOrigin(input.authority, next);
    const statement: EpochStatement = {
      epoch: next,
      origin,
      previousOrigin: epoch.origin,
      held: { size: held, root: heldRoot.toString("base64") },
      restored: restored === undefined ? null : { size: restored.size, root: restored.root, backupCreatedAt: restored.backupCreatedAt },
      anchor,
      previous: previous === null ? null : { size: previous.size, root: previous.root.toString("base64"), cosignedBy: previous.cosignedBy },
      lost,
      forced: lost === null,
      reason: input.reason,
      operator: input.operator,
      unreachable,
    };
    const entry = await appendEntry(tx, { kind: EPOCH_STATEMENT_KIND, actor: "operator", time: input.now, details: statement as unknown as { [key: string]: JsonValue } });
    await tx.epochs.insert({ epoch: next, origin, startIndex: entry.index, statement: JSON.stringify(entry), createdAt: input.now.toISOString() });
    const checkpoint = await signLogHead(tx, { authority: input.authority, logKey: input.logKey, now: input.now }, entry.index + 1);
    return { statement, entry, checkpointSize: checkpoint.size };
  });

  const peers: EpochAnnouncement[] = [];
  for (const peer of input.peers.all()) {
    if (unreachable.includes(peer.authority)) {
      peers.push({ peer: peer.authority, outcome: "unreachable" });
      continue;
    }
    peers.push(await announceEpoch(input, peer, input.now));
  }
  return { epoch: started.statement.epoch, origin: started.statement.origin, statementIndex: started.entry.index, statement: started.statement, checkpointSize: started.checkpointSize, peers };
}

/**
 * Submits the current epoch's statement to `peer` and keeps its
 * cosignature of the epoch's first checkpoint (verified with the peer's
 * `log` key). Never throws for the peer's answer: the outcome says it.
 */
export async function announceEpoch(deps: LogPeers, peer: Peer, now: Date): Promise<EpochAnnouncement> {
  const built = await deps.store.read((tx) => epochSubmission(tx, deps.authority));
  if (built === undefined) return { peer: peer.authority, outcome: "refused", code: "AUDIT_EPOCH_INVALID", reason: "the log is in its first epoch" };
  // What this peer cosigned of the previous epoch: when the new epoch still holds it, a proof says so.
  const previousOrigin = (built.submission.entry.details as unknown as EpochStatement).previousOrigin;
  let submission: EpochSubmission = built.submission;
  try {
    const view = await fetchPeerView(deps, peer, previousOrigin);
    const size = view.cosigned?.size ?? 0;
    if (size > 0 && size <= built.checkpointSize) {
      const proof = await deps.store.read((tx) => withStoredTree(tx, built.checkpointSize, (reader) => consistencyProof(reader, size, built.checkpointSize)));
      submission = { ...submission, cosignedSize: size, cosignedProof: proof.map((hash) => hash.toString("base64")) };
    }
  } catch (error) {
    return { peer: peer.authority, outcome: "unreachable", reason: error instanceof Error ? error.message : String(error) };
  }
  let answer;
  try {
    answer = await deps.client.request(peer, "POST", "/peer/v1/log/epochs", Buffer.from(JSON.stringify(submission), "utf8"));
  } catch (error) {
    return { peer: peer.authority, outcome: "unreachable", reason: error instanceof Error ? error.message : String(error) };
  }
  let body: { epoch?: unknown; cosignature?: unknown; alarmsResolved?: unknown; alreadyAccepted?: unknown; error?: { code?: unknown; message?: unknown } } = {};
  try {
    body = JSON.parse(answer.body.toString("utf8")) as typeof body;
  } catch {
    // judged by the status below
  }
  if (answer.status !== 200) {
    return { peer: peer.authority, outcome: "refused", code: typeof body.error?.code === "string" ? body.error.code : `HTTP ${answer.status}`, reason: String(body.error?.message ?? "").slice(0, 500) };
  }
  const alarmsResolved = Array.isArray(body.alarmsResolved) ? body.alarmsResolved.filter((id): id is number => Number.isSafeInteger(id)) : [];
  if (body.alreadyAccepted === true) return { peer: peer.authority, outcome: "already-accepted", alarmsResolved };
  // The cosignature is the peer's word: kept only if it verifies over our own checkpoint.
  const line = typeof body.cosignature === "string" ? body.cosignature : "";
  const witness = witnessName(peer.authority);
  const verified = peerLogKeys(peer).some((publicKey) => {
    try {
      verifyCosignature(appendSignatureLines(built.submission.checkpoint, line), { name: witness, publicKey });
      return true;
    } catch {
      return false;
    }
  });
  if (!verified) return { peer: peer.authority, outcome: "refused", code: "WITNESS_REFUSED", reason: "the peer accepted the epoch but returned no valid cosignature", alarmsResolved };
  await deps.store.transaction((tx) => tx.audit.insertCosignature({ size: built.checkpointSize, witness, line, receivedAt: now.toISOString() }));
  return { peer: peer.authority, outcome: "accepted", alarmsResolved };
}

/** The submission that opens the current epoch (undefined in epoch 1): its statement, first checkpoint and proofs. */
export async function epochSubmission(tx: Tx, authority: string): Promise<{ submission: EpochSubmission; checkpointSize: number } | undefined> {
  const row = await tx.epochs.current();
  if (row === undefined) return undefined;
  const entry = JSON.parse(row.statement) as AuditEntry;
  const checkpoint = await tx.audit.checkpoint(row.startIndex + 1);
  if (checkpoint === undefined || noteOrigin(checkpoint.note) !== row.origin) {
    throw new GatewayError("AUDIT_LOG_TAMPERED", `the first checkpoint of ${row.origin} is missing`, { details: { origin: row.origin, authority } });
  }
  const statement = entry.details as unknown as EpochStatement;
  const size = checkpoint.size;
  const leaves = await tx.audit.leafCount();
  const proofs = await withStoredTree(tx, leaves, (reader) => ({
    inclusion: inclusionProof(reader, entry.index, size),
    held: consistencyProof(reader, statement.held.size, size),
    anchor: consistencyProof(reader, statement.anchor?.size ?? 0, size),
  }));
  const b64 = (hashes: Buffer[]): string[] => hashes.map((hash) => hash.toString("base64"));
  return {
    submission: { entry, checkpoint: checkpoint.note, inclusionProof: b64(proofs.inclusion), heldProof: b64(proofs.held), anchorProof: b64(proofs.anchor) },
    checkpointSize: size,
  };
}

function range(from: number, to: number): { from: number; to: number; count: number } {
  return { from, to, count: to - from + 1 };
}
