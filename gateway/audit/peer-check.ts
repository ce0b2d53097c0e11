/**
 * What the peers cosigned of this gateway's log, compared with what the
 * log holds — before a gateway serves anything, and before an operator
 * starts a new epoch.
 *
 * Each peer, as this log's witness, answers `GET /peer/v1/witness/state`
 * with the last checkpoint it cosigned in each epoch. Those notes are this
 * log's own checkpoints: they are believed only when they verify with one of
 * this authority's `log` keys (a peer cannot make a gateway think it lost
 * what it never signed). The log is behind a peer when that peer cosigned,
 * in the epoch the log is in, more entries than the log holds, or another
 * root at a size it holds, or when the peer already follows a later epoch:
 * entries were lost (a restore from an older backup, a disk rolled back).
 * Such a log must not be extended silently — every new checkpoint would be
 * a fork of what the peer cosigned.
 */
import type { KeyObject } from "node:crypto";
import type { Store } from "../store/store.js";
import type { Peer, PeerDirectory } from "../peers/directory.js";
import type { PeerClient } from "../delivery/peer-client.js";
import { GatewayError } from "../errors.js";
import { verifyCheckpoint } from "./checkpoint.js";
import { noteOrigin, parseLogOrigin } from "./epoch-origin.js";
import { currentEpoch } from "./epochs.js";
import { treeRoot } from "./merkle.js";
import { withStoredTree } from "./stored-tree.js";

/** What the comparison needs: the store, this authority and its log keys, the peers and a client. */
export interface LogPeers {
  readonly store: Store;
  readonly authority: string;
  /** Public `log` keys of this authority (current and previous). */
  readonly logKeys: readonly KeyObject[];
  readonly peers: PeerDirectory;
  readonly client: PeerClient;
}

/** One peer's view of this log, verified. */
export interface PeerView {
  readonly peer: string;
  readonly reachable: boolean;
  /** Why it could not be asked. */
  readonly error?: string;
  /** The epoch of this log the peer follows. */
  readonly following?: number;
  /** What it cosigned in the epoch this log is in (size 0: nothing). */
  readonly cosigned?: { readonly size: number; readonly root: Buffer; readonly note: string };
  /** Its open (unresolved) alarms about this log. */
  readonly openAlarms?: number;
}

/** The comparison of this log with every peer's view. */
export interface LogComparison {
  readonly epoch: number;
  readonly origin: string;
  readonly size: number;
  readonly peers: readonly PeerView[];
  /** Peers that cosigned what the log no longer holds, with what. */
  readonly behind: ReadonlyArray<{ readonly peer: string; readonly size: number; readonly reason: string }>;
}

/** Asks `peer` what it cosigned of this log (PEER_UNREACHABLE, or AUDIT_SIGNATURE_INVALID for a note this log did not sign). */
export async function fetchPeerView(deps: LogPeers, peer: Peer, origin: string): Promise<PeerView> {
  const answer = await deps.client.request(peer, "GET", "/peer/v1/witness/state");
  if (answer.status !== 200) throw new GatewayError("PEER_UNREACHABLE", `${peer.authority} answered ${answer.status} to the witness state request`, { details: { peer: peer.authority, status: answer.status } });
  let state: { current?: { epoch?: unknown }; logs?: unknown; alarms?: unknown };
  try {
    state = JSON.parse(answer.body.toString("utf8")) as typeof state;
  } catch {
    throw new GatewayError("PEER_UNREACHABLE", `${peer.authority} answered the witness state request with something other than JSON`, { details: { peer: peer.authority } });
  }
  const following = typeof state.current?.epoch === "number" && Number.isSafeInteger(state.current.epoch) ? state.current.epoch : 1;
  let cosigned: PeerView["cosigned"] = { size: 0, root: Buffer.alloc(0), note: "" };
  for (const log of Array.isArray(state.logs) ? (state.logs as Array<{ note?: unknown }>) : []) {
    if (typeof log?.note !== "string" || noteOrigin(log.note) !== origin) continue;
    // The peer's word is checked against our own key: only what this log signed counts.
    const verified = verifyWithAny(deps.logKeys, log.note, origin);
    if (verified === undefined) throw new GatewayError("AUDIT_SIGNATURE_INVALID", `${peer.authority} reports a checkpoint of this log that no log key of ${deps.authority} signed`, { details: { peer: peer.authority } });
    cosigned = { size: verified.size, root: verified.rootHash, note: log.note };
  }
  const openAlarms = Array.isArray(state.alarms) ? (state.alarms as Array<{ resolvedAt?: unknown }>).filter((a) => a?.resolvedAt === null).length : 0;
  return { peer: peer.authority, reachable: true, following, cosigned, openAlarms };
}

/** Compares the log with every peer's view (unreachable peers are listed, not fatal here). */
export async function compareWithPeers(deps: LogPeers): Promise<LogComparison> {
  const { epoch, origin, size } = await deps.store.read(async (tx) => ({ ...(await currentEpoch(tx, deps.authority)), size: await tx.audit.leafCount() }));
  const peers = await Promise.all(
    deps.peers.all().map(async (peer): Promise<PeerView> => {
      try {
        return await fetchPeerView(deps, peer, origin);
      } catch (error) {
        return { peer: peer.authority, reachable: false, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  const behind: Array<{ peer: string; size: number; reason: string }> = [];
  for (const view of peers) {
    if (!view.reachable) continue;
    if ((view.following ?? 1) > epoch) {
      behind.push({ peer: view.peer, size: view.cosigned?.size ?? 0, reason: `${view.peer} already follows epoch ${view.following} of this log; the database is of epoch ${epoch}, from before it` });
      continue;
    }
    const cosigned = view.cosigned;
    if (cosigned === undefined || cosigned.size === 0) continue;
    if (cosigned.size > size) {
      behind.push({ peer: view.peer, size: cosigned.size, reason: `${view.peer} cosigned ${cosigned.size} entries of ${origin}; the log holds ${size}: entries ${size} to ${cosigned.size - 1} were lost` });
      continue;
    }
    const root = await deps.store.read((tx) => withStoredTree(tx, size, (reader) => treeRoot(reader, cosigned.size)));
    if (!root.equals(cosigned.root)) {
      behind.push({ peer: view.peer, size: cosigned.size, reason: `${view.peer} cosigned another tree of ${cosigned.size} entries of ${origin} than the log holds: it was rewritten or restored and extended` });
    }
  }
  return { epoch, origin, size, peers, behind };
}

/**
 * The start-up check: throws AUDIT_LOG_BEHIND_PEERS (saying what was found
 * and what to run) when a peer cosigned what the log no longer holds; when
 * `restored`, also AUDIT_PEER_CHECK_FAILED for a peer that could not be
 * asked (a restored log must be compared with every peer before it serves).
 * Returns the comparison otherwise (unreachable peers of a home that was
 * not restored are the caller's to log).
 */
export async function checkLogAgainstPeers(deps: LogPeers, options: { readonly restored: boolean; readonly home: string }): Promise<LogComparison> {
  const comparison = await compareWithPeers(deps);
  if (comparison.behind.length > 0) {
    const first = comparison.behind[0]!;
    throw new GatewayError(
      "AUDIT_LOG_BEHIND_PEERS",
      `${first.reason}. This gateway will not serve a log that forks what its peers cosigned. Run: valise audit new-epoch --home ${options.home} ` +
        "(it states the loss, signed, and the peers witness a new epoch), start again, then valise peers reconcile PEER brings back what the peers hold",
      { details: { epoch: comparison.epoch, origin: comparison.origin, size: comparison.size, behind: comparison.behind.map((b) => ({ peer: b.peer, size: b.size, reason: b.reason })) } },
    );
  }
  const unreachable = comparison.peers.filter((p) => !p.reachable);
  if (options.restored && unreachable.length > 0) {
    throw new GatewayError(
      "AUDIT_PEER_CHECK_FAILED",
      `this home was restored from a backup and its log must be compared with every peer before it serves; ${unreachable.map((p) => p.peer).join(", ")} could not be asked (${unreachable[0]!.error}). Start again when the peer is reachable`,
      { details: { unreachable: unreachable.map((p) => ({ peer: p.peer, error: p.error ?? null })) } },
    );
  }
  return comparison;
}

function verifyWithAny(keys: readonly KeyObject[], note: string, origin: string): { size: number; rootHash: Buffer } | undefined {
  if (parseLogOrigin(origin) === undefined) return undefined;
  for (const publicKey of keys) {
    try {
      return verifyCheckpoint(note, { origin, publicKey }).checkpoint;
    } catch {
      // another key
    }
  }
  return undefined;
}
