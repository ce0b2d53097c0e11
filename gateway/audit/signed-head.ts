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
import type { Db } from "../store/database.js";
import { GatewayError } from "../errors.js";
import { statement } from "../store/statements.js";
import { auditTree } from "./append.js";
import { checkpointOrigin, formatCheckpoint, signCheckpoint } from "./checkpoint.js";
import { treeRoot } from "./merkle.js";

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

/** The newest stored checkpoint of `db`, if any. */
export function latestCheckpoint(db: Db): StoredCheckpoint | undefined {
  return statement(db, "SELECT size, root, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1").get() as StoredCheckpoint | undefined;
}

/** The stored checkpoint of exactly `size` entries, if any. */
export function storedCheckpoint(db: Db, size: number): StoredCheckpoint | undefined {
  return statement(db, "SELECT size, root, note FROM audit_checkpoints WHERE size = ?").get(size) as StoredCheckpoint | undefined;
}

/** Signs (does not store) the checkpoint of the first `size` entries of `db`'s stored tree. */
export function signTreeHead(db: Db, size: number, origin: string, logKey: KeyObject): StoredCheckpoint {
  const root = treeRoot(auditTree(db), size);
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
export function assertExtendsSigned(db: Db, size: number): void {
  const tree = auditTree(db);
  const leaves = tree.leafCount;
  const tampered = (index: number, reason: string): GatewayError =>
    new GatewayError("AUDIT_LOG_TAMPERED", `the audit log does not match what was signed: ${reason} (index ${index}); not signing it again`, { details: { index, reason } });
  const largest = latestCheckpoint(db);
  if (largest !== undefined && largest.size > leaves) throw tampered(leaves, `log truncated below the signed checkpoint of size ${largest.size}`);
  const prior = statement(db, "SELECT size, root, note FROM audit_checkpoints WHERE size <= ? ORDER BY size DESC LIMIT 1").get(size) as StoredCheckpoint | undefined;
  if (prior === undefined) return;
  let root: Buffer;
  try {
    root = treeRoot(tree, prior.size);
  } catch (cause) {
    // A missing node: rows deleted behind the triggers' back.
    throw tampered(Math.max(0, prior.size - 1), `the tree lacks nodes below the signed checkpoint of size ${prior.size} (${(cause as { code?: string }).code ?? "error"})`);
  }
  if (!root.equals(prior.root)) throw tampered(Math.max(0, prior.size - 1), `the tree's root differs from the signed checkpoint of size ${prior.size}`);
}

/**
 * A stored checkpoint of exactly `size` entries (default: every committed
 * entry): the one already stored, else a new one signed with `signer.logKey`
 * and stored. Call inside an immediate transaction (the size, the check and
 * the insert must see one state). Throws `AUDIT_LOG_TAMPERED` (nothing is
 * signed) when the tree does not extend the checkpoints stored before.
 *
 * @example
 * const checkpoint = db.transaction(() => signLogHead(db, { authority, logKey, now })).immediate();
 */
export function signLogHead(db: Db, signer: LogSigner, size: number = auditTree(db).leafCount): StoredCheckpoint {
  const stored = storedCheckpoint(db, size);
  if (stored !== undefined) return stored;
  assertExtendsSigned(db, size);
  const signed = signTreeHead(db, size, checkpointOrigin(signer.authority), signer.logKey);
  statement(db, "INSERT INTO audit_checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?)").run(signed.size, signed.root, signed.note, signer.now.toISOString());
  return signed;
}
