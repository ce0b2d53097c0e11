/**
 * What an auditor may read of this gateway's log: signed checkpoints with
 * the witnesses' cosignatures, entries by range, and RFC 9162 inclusion and
 * consistency proofs. Entries are digests and metadata, never content.
 * Arguments come from query strings: every one is range-checked here.
 */
import type { Db } from "../store/database.js";
import { GatewayError } from "../errors.js";
import { statement } from "../store/statements.js";
import { auditTree, readEntries, type AuditEntry } from "./append.js";
import { consistencyProof, inclusionProof, leafHash, treeRoot } from "./merkle.js";
import { appendSignatureLines } from "./note.js";
import { canonicalize } from "../envelope/canonical-json.js";

/** A witness's cosignature of one of our checkpoints. */
export interface StoredCosignature {
  /** `valise-witness/<AUTHORITY-ID>`. */
  readonly witness: string;
  /** The signed-note signature line (`— name base64\n`). */
  readonly line: string;
  readonly receivedAt: string;
}

/** A signed checkpoint with the cosignatures gathered for it. */
export interface CosignedCheckpoint {
  readonly size: number;
  /** Base64 of the root hash. */
  readonly rootHash: string;
  /** The checkpoint as the log signed it. */
  readonly note: string;
  /** The same note with every cosignature line appended (what a C2SP verifier takes). */
  readonly cosignedNote: string;
  readonly createdAt: string;
  readonly cosignatures: readonly StoredCosignature[];
}

/** Most entries one request may read. */
export const MAX_ENTRIES_PER_READ = 10_000;

interface CheckpointRow {
  size: number;
  root: Buffer;
  note: string;
  created_at: string;
}

function cosigned(db: Db, row: CheckpointRow): CosignedCheckpoint {
  const cosignatures = (
    statement(db, "SELECT witness, line, received_at FROM audit_cosignatures WHERE size = ? ORDER BY witness").all(row.size) as Array<{
      witness: string;
      line: string;
      received_at: string;
    }>
  ).map((c) => ({ witness: c.witness, line: c.line, receivedAt: c.received_at }));
  return {
    size: row.size,
    rootHash: row.root.toString("base64"),
    note: row.note,
    cosignedNote: cosignatures.reduce((note, c) => appendSignatureLines(note, c.line), row.note),
    createdAt: row.created_at,
    cosignatures,
  };
}

/**
 * The checkpoint of `size` (default: the newest) with its cosignatures.
 * `NOT_FOUND` when no checkpoint of that size was signed.
 */
export function auditCheckpoint(db: Db, size?: number): CosignedCheckpoint {
  if (size !== undefined) checkSize(size, "size");
  const row = (
    size === undefined
      ? statement(db, "SELECT size, root, note, created_at FROM audit_checkpoints ORDER BY size DESC LIMIT 1").get()
      : statement(db, "SELECT size, root, note, created_at FROM audit_checkpoints WHERE size = ?").get(size)
  ) as CheckpointRow | undefined;
  if (row === undefined) {
    throw new GatewayError("NOT_FOUND", size === undefined ? "no checkpoint has been signed yet" : `no checkpoint of size ${size} was signed`, {
      details: size === undefined ? {} : { size },
    });
  }
  return cosigned(db, row);
}

/** Every signed checkpoint, smallest first, with cosignatures (for exports). */
export function allCheckpoints(db: Db): CosignedCheckpoint[] {
  return (statement(db, "SELECT size, root, note, created_at FROM audit_checkpoints ORDER BY size").all() as CheckpointRow[]).map((row) => cosigned(db, row));
}

/** Number of entries in the log. */
export function logSize(db: Db): number {
  return auditTree(db).leafCount;
}

/** Entries `[from, from + count)` and the log size. `USAGE` for a bad range. */
export function auditEntries(db: Db, from: number, count: number): { entries: AuditEntry[]; size: number; next: number | null } {
  checkSize(from, "from");
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_ENTRIES_PER_READ) {
    throw new GatewayError("USAGE", `count must be an integer from 1 to ${MAX_ENTRIES_PER_READ}`, { details: { count } });
  }
  const size = logSize(db);
  const entries = readEntries(db, from, from + count);
  const end = from + entries.length;
  return { entries, size, next: end < size ? end : null };
}

/** An inclusion proof, with what it proves. */
export interface InclusionAnswer {
  readonly index: number;
  readonly size: number;
  readonly entry: AuditEntry;
  /** Base64 of `SHA-256(0x00 ‖ canonical entry)`. */
  readonly leafHash: string;
  /** Base64 of the root of the first `size` entries. */
  readonly rootHash: string;
  /** RFC 9162 audit path, base64 of each hash. */
  readonly proof: readonly string[];
  /** The signed checkpoint of that size, when there is one. */
  readonly checkpoint: CosignedCheckpoint | null;
}

/**
 * The inclusion proof of entry `index` in the tree of `size` entries
 * (default: the newest checkpoint's size, else the whole log). `USAGE` when
 * `index >= size` or `size` exceeds the log.
 */
export function auditInclusion(db: Db, index: number, size?: number): InclusionAnswer {
  checkSize(index, "index");
  const tree = auditTree(db);
  const treeSize = size ?? newestCheckpointSize(db) ?? tree.leafCount;
  checkSize(treeSize, "size");
  if (treeSize > tree.leafCount) throw new GatewayError("USAGE", `size exceeds the log (${tree.leafCount} entries)`, { details: { size: treeSize, logSize: tree.leafCount } });
  if (index >= treeSize) throw new GatewayError("USAGE", "index must be below size", { details: { index, size: treeSize } });
  const [entry] = readEntries(db, index, index + 1);
  if (entry === undefined) throw new GatewayError("STORE_CORRUPT", `the audit log lacks entry ${index}`, { details: { index } });
  return {
    index,
    size: treeSize,
    entry,
    leafHash: leafHash(Buffer.from(canonicalize(entry), "utf8")).toString("base64"),
    rootHash: treeRoot(tree, treeSize).toString("base64"),
    proof: inclusionProof(tree, index, treeSize).map((hash) => hash.toString("base64")),
    checkpoint: checkpointOfSize(db, treeSize),
  };
}

/** A consistency proof between two tree sizes. */
export interface ConsistencyAnswer {
  readonly oldSize: number;
  readonly newSize: number;
  readonly oldRootHash: string;
  readonly newRootHash: string;
  readonly proof: readonly string[];
  readonly oldCheckpoint: CosignedCheckpoint | null;
  readonly newCheckpoint: CosignedCheckpoint | null;
}

/** The RFC 9162 consistency proof from `oldSize` to `newSize`. `USAGE` for sizes out of order or beyond the log. */
export function auditConsistency(db: Db, oldSize: number, newSize: number): ConsistencyAnswer {
  checkSize(oldSize, "old");
  checkSize(newSize, "new");
  const tree = auditTree(db);
  if (oldSize > newSize || newSize > tree.leafCount) {
    throw new GatewayError("USAGE", `need old <= new <= ${tree.leafCount} (the log size)`, { details: { old: oldSize, new: newSize, logSize: tree.leafCount } });
  }
  return {
    oldSize,
    newSize,
    oldRootHash: treeRoot(tree, oldSize).toString("base64"),
    newRootHash: treeRoot(tree, newSize).toString("base64"),
    proof: consistencyProof(tree, oldSize, newSize).map((hash) => hash.toString("base64")),
    oldCheckpoint: checkpointOfSize(db, oldSize),
    newCheckpoint: checkpointOfSize(db, newSize),
  };
}

function newestCheckpointSize(db: Db): number | undefined {
  return (statement(db, "SELECT MAX(size) AS size FROM audit_checkpoints").get() as { size: number | null }).size ?? undefined;
}

function checkpointOfSize(db: Db, size: number): CosignedCheckpoint | null {
  const row = statement(db, "SELECT size, root, note, created_at FROM audit_checkpoints WHERE size = ?").get(size) as CheckpointRow | undefined;
  return row === undefined ? null : cosigned(db, row);
}

// Query-string numbers are hostile: NaN, negatives, fractions and huge
// values would reach SQL and the proof arithmetic.
function checkSize(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new GatewayError("USAGE", `${name} must be a non-negative integer`, { details: { [name]: String(value) } });
}
