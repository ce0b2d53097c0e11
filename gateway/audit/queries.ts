/**
 * What an auditor may read of this gateway's log: signed checkpoints with
 * the witnesses' cosignatures, entries by range, and RFC 9162 inclusion and
 * consistency proofs. Entries are digests and metadata, never content.
 * Arguments come from query strings: every one is range-checked here.
 */
import type { Tx } from "../store/store.js";
import type { CheckpointRow } from "../store/repos/audit.js";
import { GatewayError } from "../errors.js";
import { readEntries, type AuditEntry } from "./append.js";
import { withStoredTree } from "./stored-tree.js";
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

async function cosigned(tx: Tx, row: CheckpointRow): Promise<CosignedCheckpoint> {
  const cosignatures = (await tx.audit.cosignatures(row.size)).map((c) => ({ witness: c.witness, line: c.line, receivedAt: c.received_at }));
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
export async function auditCheckpoint(tx: Tx, size?: number): Promise<CosignedCheckpoint> {
  if (size !== undefined) checkSize(size, "size");
  const row = await tx.audit.checkpoint(size);
  if (row === undefined) {
    throw new GatewayError("NOT_FOUND", size === undefined ? "no checkpoint has been signed yet" : `no checkpoint of size ${size} was signed`, {
      details: size === undefined ? {} : { size },
    });
  }
  return cosigned(tx, row);
}

/** Every signed checkpoint, smallest first, with cosignatures (for exports). */
export async function allCheckpoints(tx: Tx): Promise<CosignedCheckpoint[]> {
  const rows = await tx.audit.checkpoints();
  const out: CosignedCheckpoint[] = [];
  for (const row of rows) out.push(await cosigned(tx, row));
  return out;
}

/** Number of entries in the log. */
export function logSize(tx: Tx): Promise<number> {
  return tx.audit.leafCount();
}

/** Entries `[from, from + count)` and the log size. `USAGE` for a bad range. */
export async function auditEntries(tx: Tx, from: number, count: number): Promise<{ entries: AuditEntry[]; size: number; next: number | null }> {
  checkSize(from, "from");
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_ENTRIES_PER_READ) {
    throw new GatewayError("USAGE", `count must be an integer from 1 to ${MAX_ENTRIES_PER_READ}`, { details: { count } });
  }
  const size = await logSize(tx);
  const entries = await readEntries(tx, from, Math.min(from + count, size));
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
export async function auditInclusion(tx: Tx, index: number, size?: number): Promise<InclusionAnswer> {
  checkSize(index, "index");
  const leafCount = await tx.audit.leafCount();
  const treeSize = size ?? (await tx.audit.checkpoint())?.size ?? leafCount;
  checkSize(treeSize, "size");
  if (treeSize > leafCount) throw new GatewayError("USAGE", `size exceeds the log (${leafCount} entries)`, { details: { size: treeSize, logSize: leafCount } });
  if (index >= treeSize) throw new GatewayError("USAGE", "index must be below size", { details: { index, size: treeSize } });
  const [entry] = await readEntries(tx, index, index + 1);
  if (entry === undefined) throw new GatewayError("STORE_CORRUPT", `the audit log lacks entry ${index}`, { details: { index } });
  const { root, proof } = await withStoredTree(tx, leafCount, (reader) => ({ root: treeRoot(reader, treeSize), proof: inclusionProof(reader, index, treeSize) }));
  return {
    index,
    size: treeSize,
    entry,
    leafHash: leafHash(Buffer.from(canonicalize(entry), "utf8")).toString("base64"),
    rootHash: root.toString("base64"),
    proof: proof.map((hash) => hash.toString("base64")),
    checkpoint: await checkpointOfSize(tx, treeSize),
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
export async function auditConsistency(tx: Tx, oldSize: number, newSize: number): Promise<ConsistencyAnswer> {
  checkSize(oldSize, "old");
  checkSize(newSize, "new");
  const leafCount = await tx.audit.leafCount();
  if (oldSize > newSize || newSize > leafCount) {
    throw new GatewayError("USAGE", `need old <= new <= ${leafCount} (the log size)`, { details: { old: oldSize, new: newSize, logSize: leafCount } });
  }
  const answer = await withStoredTree(tx, leafCount, (reader) => ({
    oldRoot: treeRoot(reader, oldSize),
    newRoot: treeRoot(reader, newSize),
    proof: consistencyProof(reader, oldSize, newSize),
  }));
  return {
    oldSize,
    newSize,
    oldRootHash: answer.oldRoot.toString("base64"),
    newRootHash: answer.newRoot.toString("base64"),
    proof: answer.proof.map((hash) => hash.toString("base64")),
    oldCheckpoint: await checkpointOfSize(tx, oldSize),
    newCheckpoint: await checkpointOfSize(tx, newSize),
  };
}

async function checkpointOfSize(tx: Tx, size: number): Promise<CosignedCheckpoint | null> {
  const row = await tx.audit.checkpoint(size);
  return row === undefined ? null : cosigned(tx, row);
}

// Query-string numbers are hostile: NaN, negatives, fractions and huge
// values would reach SQL and the proof arithmetic.
function checkSize(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new GatewayError("USAGE", `${name} must be a non-negative integer`, { details: { [name]: String(value) } });
}
