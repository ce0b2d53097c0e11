/**
 * Signing a checkpoint of this gateway's own log and storing it. Shared by
 * the running gateway (`Checkpointer`) and the CLI (every operator command
 * that appends an entry, and `valise audit export`), which may both sign
 * the same log at the same time: the CLI holds the log key as well.
 *
 * Two signers are safe because the tree is append-only and its nodes never
 * change once stored: the root of the first `size` leaves is the same
 * whoever computes it and whenever, so two checkpoints of one size never
 * have two roots (with the same key they are even the same note: Ed25519
 * is deterministic). `audit_checkpoints` keeps one row per size (the first
 * stored wins), and a signer that finds one of its size uses it.
 *
 * The CLI signs only a log that still extends what the log key signed
 * before ({@link assertExtendsSigned}): a database whose tree was rewritten
 * behind the gateway's back is never signed again, since a second signed
 * history would be a fork — the very thing witnesses and auditors look for.
 */
import type { KeyObject } from "node:crypto";
import type { Tx } from "../store/store.js";
import { GatewayError } from "../errors.js";
import { formatCheckpoint, signCheckpoint } from "./checkpoint.js";
import { currentEpoch } from "./epochs.js";
import { treeRoot } from "./merkle.js";
import { withStoredTree } from "./stored-tree.js";

/** A stored checkpoint. */
export interface StoredCheckpoint {
  readonly size: number;
  readonly root: Buffer;
  /** The signed note (C2SP tlog-checkpoint). */
  readonly note: string;
}

/** What signs checkpoints outside the gateway: the authority's current `log` key, and the time to record. */
export interface LogSigner {
  readonly authority: string;
  readonly logKey: KeyObject;
  readonly now: Date;
}

function checkpointOf(row: { size: number; root: Buffer; note: string } | undefined): StoredCheckpoint | undefined {
  return row === undefined ? undefined : { size: row.size, root: row.root, note: row.note };
}

/** The newest stored checkpoint, if any. */
export async function latestCheckpoint(tx: Tx): Promise<StoredCheckpoint | undefined> {
  return checkpointOf(await tx.audit.checkpoint());
}

/** The stored checkpoint of exactly `size` entries, if any. */
export async function storedCheckpoint(tx: Tx, size: number): Promise<StoredCheckpoint | undefined> {
  return checkpointOf(await tx.audit.checkpoint(size));
}

/** Signs (does not store) the checkpoint of the first `size` entries of the stored tree. */
export async function signTreeHead(tx: Tx, size: number, origin: string, logKey: KeyObject): Promise<StoredCheckpoint> {
  const root = await withStoredTree(tx, size, (reader) => treeRoot(reader, size));
  const note = signCheckpoint(formatCheckpoint({ origin, size, rootHash: root, extensions: [] }), { name: origin, privateKey: logKey });
  return { size, root, note };
}

/**
 * Throws `AUDIT_LOG_TAMPERED` unless the stored tree of `size` entries
 * extends every checkpoint stored so far: the largest one of at most `size`
 * entries still has the tree's root at its size, and none is larger than
 * the tree (truncation). A cheap check (a few lookups), not the full
 * entry-by-entry one the gateway makes at start (`checkLogIntegrity`): an
 * entry edited without its leaf still fails any auditor's verification.
 */
export async function assertExtendsSigned(tx: Tx, size: number): Promise<void> {
  const leaves = await tx.audit.leafCount();
  const tampered = (index: number, reason: string): GatewayError =>
    new GatewayError("AUDIT_LOG_TAMPERED", `the audit log does not match what was signed: ${reason} (index ${index}); not signing it again`, { details: { index, reason } });
  const largest = await latestCheckpoint(tx);
  if (largest !== undefined && largest.size > leaves) throw tampered(leaves, `log truncated below the signed checkpoint of size ${largest.size}`);
  const prior = checkpointOf(await tx.audit.checkpointAtMost(size));
  if (prior === undefined) return;
  let root: Buffer;
  try {
    root = await withStoredTree(tx, leaves, (reader) => treeRoot(reader, prior.size));
  } catch (cause) {
    // A missing node: rows deleted behind the triggers' back.
    throw tampered(Math.max(0, prior.size - 1), `the tree lacks nodes below the signed checkpoint of size ${prior.size} (${(cause as { code?: string }).code ?? "error"})`);
  }
  if (!root.equals(prior.root)) throw tampered(Math.max(0, prior.size - 1), `the tree's root differs from the signed checkpoint of size ${prior.size}`);
}

/**
 * A stored checkpoint of exactly `size` entries (default: every committed
 * entry): the one already stored, else a new one signed with `signer.logKey`
 * and stored. Call inside a transaction (the size, the check and the insert
 * must see one state). Throws `AUDIT_LOG_TAMPERED` (nothing is signed) when
 * the tree does not extend the checkpoints stored before.
 *
 * @example
 * const checkpoint = await store.transaction((tx) => signLogHead(tx, { authority, logKey, now }));
 */
export async function signLogHead(tx: Tx, signer: LogSigner, size?: number): Promise<StoredCheckpoint> {
  const headSize = size ?? (await tx.audit.leafCount());
  const stored = await storedCheckpoint(tx, headSize);
  if (stored !== undefined) return stored;
  await assertExtendsSigned(tx, headSize);
  const signed = await signTreeHead(tx, headSize, (await currentEpoch(tx, signer.authority)).origin, signer.logKey);
  await tx.audit.insertCheckpoint({ size: signed.size, root: signed.root, note: signed.note, createdAt: signer.now.toISOString() });
  return signed;
}
