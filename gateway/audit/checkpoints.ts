/**
 * Signed checkpoints of this gateway's audit log, and the log position a
 * receipt carries: the entry, a checkpoint that covers it and the inclusion
 * proof — so the sender holds the receiver's signed word that the envelope
 * is in its log, and the receiver cannot later drop it unnoticed.
 */
import type { KeyObject } from "node:crypto";
import type { Db } from "../store/database.js";
import type { GroupCommit } from "../store/group-commit.js";
import { GatewayError } from "../errors.js";
import { canonicalize } from "../envelope/canonical-json.js";
import type { ReceiptLogPosition } from "../envelope/receipt.js";
import { auditTree, type AuditEntry } from "./append.js";
import { checkpointOrigin, formatCheckpoint, signCheckpoint, verifyCheckpoint } from "./checkpoint.js";
import { inclusionProof, leafHash, treeRoot } from "./merkle.js";
import { verifyInclusion } from "./merkle-verify.js";
import { statement } from "../store/statements.js";

/** A stored checkpoint. */
export interface StoredCheckpoint {
  readonly size: number;
  readonly root: Buffer;
  /** The signed note (C2SP tlog-checkpoint). */
  readonly note: string;
}

/** Signs and stores checkpoints of one gateway's log. */
export class Checkpointer {
  readonly #db: Db;
  readonly #commits: GroupCommit;
  readonly #origin: string;
  readonly #logKey: () => KeyObject;
  readonly #now: () => Date;
  #latest: StoredCheckpoint | undefined;

  /** `logKey`: the key, or a function giving the current one (a running gateway's key follows rotations). */
  constructor(db: Db, commits: GroupCommit, authority: string, logKey: KeyObject | (() => KeyObject), now: () => Date) {
    this.#db = db;
    this.#commits = commits;
    this.#origin = checkpointOrigin(authority);
    this.#logKey = typeof logKey === "function" ? logKey : () => logKey;
    this.#now = now;
    this.#latest = latestCheckpoint(db);
  }

  /** `valise/<AUTHORITY>`. */
  get origin(): string {
    return this.#origin;
  }

  /** The newest checkpoint, if any. */
  latest(): StoredCheckpoint | undefined {
    return this.#latest;
  }

  /**
   * A checkpoint of at least `minSize` entries: the latest if it is big
   * enough, else a new one over every committed entry. Call only after the
   * entries are committed.
   */
  covering(minSize: number): StoredCheckpoint {
    if (this.#latest !== undefined && this.#latest.size >= minSize) return this.#latest;
    return this.sign();
  }

  /** Signs and stores a checkpoint of the whole committed log (no-op when nothing was added). */
  sign(): StoredCheckpoint {
    const tree = auditTree(this.#db);
    const size = tree.leafCount;
    if (this.#latest !== undefined && this.#latest.size === size) return this.#latest;
    const root = treeRoot(tree, size);
    const note = signCheckpoint(formatCheckpoint({ origin: this.#origin, size, rootHash: root, extensions: [] }), {
      name: this.#origin,
      privateKey: this.#logKey(),
    });
    // Stored with the next group commit: a receipt does not wait for it (the
    // entries it covers are already durable, and the peer keeps the note).
    const createdAt = this.#now().toISOString();
    void this.#commits
      .run(() => statement(this.#db, "INSERT OR IGNORE INTO audit_checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?)").run(size, root, note, createdAt))
      .catch(() => undefined); // a failing commit is reported by the writes it carries
    this.#latest = { size, root, note };
    return this.#latest;
  }

  /** The receipt log position of `entry`. */
  positionOf(entry: AuditEntry): ReceiptLogPosition {
    const checkpoint = this.covering(entry.index + 1);
    return {
      origin: this.#origin,
      index: entry.index,
      checkpoint: checkpoint.note,
      inclusionProof: inclusionProof(auditTree(this.#db), entry.index, checkpoint.size).map((hash) => hash.toString("base64")),
      entry: entry as unknown as Record<string, unknown>,
    };
  }
}

/** The newest stored checkpoint of `db`, if any. */
export function latestCheckpoint(db: Db): StoredCheckpoint | undefined {
  return statement(db, "SELECT size, root, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1").get() as StoredCheckpoint | undefined;
}

/** A position in a receiver's log, as a receipt carries it (envelope and item receipts alike). */
export interface LogPosition {
  readonly origin: string;
  readonly index: number;
  readonly checkpoint: string;
  readonly inclusionProof: readonly string[];
  readonly entry?: Record<string, unknown>;
}

/**
 * Verifies that `position.entry` is in the log of `receiver`: the position
 * names that log, the entry sits at the stated index and is the one the
 * caller expects (`recordsIt`), the checkpoint is signed by one of the log's
 * keys (current or rotated), and the inclusion proof leads from the entry to
 * the checkpoint's root. Returns the verified checkpoint.
 * Throws AUDIT_* codes (signature, origin, proof) or RECEIPT_MISMATCH (`what` names the event).
 */
export function verifyEntryInLog(
  position: LogPosition,
  expected: {
    receiver: string;
    logKeys: readonly KeyObject[];
    /** What the entry must record, e.g. "the reception of this envelope". */
    what: string;
    recordsIt: (entry: Partial<AuditEntry>) => boolean;
    /** Notes already verified against `logKeys` (an auditor checks thousands of receipts carrying the same few checkpoints). */
    verifiedNotes?: Map<string, { size: number; root: Buffer }>;
  },
): { size: number; root: Buffer; note: string } {
  const origin = checkpointOrigin(expected.receiver);
  if (position.origin !== origin) {
    throw new GatewayError("AUDIT_ORIGIN_MISMATCH", "the receipt names another log", { details: { origin: position.origin, expected: origin } });
  }
  const entry = position.entry as Partial<AuditEntry> | undefined;
  if (entry === undefined || entry.index !== position.index || !expected.recordsIt(entry)) {
    throw new GatewayError("RECEIPT_MISMATCH", `the receipt's log entry does not record ${expected.what}`, { details: { index: position.index } });
  }
  let lastError: unknown;
  for (const publicKey of expected.logKeys) {
    try {
      const known = expected.verifiedNotes?.get(position.checkpoint);
      const checkpoint = known === undefined ? verifyCheckpoint(position.checkpoint, { origin, publicKey }).checkpoint : { size: known.size, rootHash: known.root };
      expected.verifiedNotes?.set(position.checkpoint, { size: checkpoint.size, root: checkpoint.rootHash });
      const proof = position.inclusionProof.map((hash) => Buffer.from(hash, "base64"));
      verifyInclusion(leafHash(Buffer.from(canonicalize(entry), "utf8")), position.index, checkpoint.size, proof, checkpoint.rootHash);
      return { size: checkpoint.size, root: checkpoint.rootHash, note: position.checkpoint };
    } catch (error) {
      if ((error as { code?: string }).code !== "AUDIT_SIGNATURE_INVALID") throw error;
      lastError = error; // signed by another (rotated) log key: try the next one
    }
  }
  throw lastError ?? new GatewayError("AUDIT_SIGNATURE_INVALID", "no log key of the receiver is known");
}

/**
 * Verifies an envelope receipt's log position: {@link verifyEntryInLog} with
 * an `envelope.received` entry naming this envelope and its digest.
 */
export function verifyLogPosition(
  position: ReceiptLogPosition,
  expected: {
    receiver: string;
    envelopeId: string;
    envelopeDigest: string;
    logKeys: readonly KeyObject[];
    verifiedNotes?: Map<string, { size: number; root: Buffer }>;
  },
): { size: number; root: Buffer; note: string } {
  return verifyEntryInLog(position, {
    receiver: expected.receiver,
    logKeys: expected.logKeys,
    ...(expected.verifiedNotes === undefined ? {} : { verifiedNotes: expected.verifiedNotes }),
    what: "the reception of this envelope",
    recordsIt: (entry) => entry.kind === "envelope.received" && entry.envelopeId === expected.envelopeId && entry.envelopeDigest === expected.envelopeDigest,
  });
}
