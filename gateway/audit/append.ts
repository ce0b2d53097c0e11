/**
 * Appending to the audit log. Callers describe an event; this module gives
 * it the next index and stores its RFC 8785 canonical form. Entries hold
 * digests and metadata, never document content.
 *
 * Callers append inside the same transaction as the change the entry
 * records, so the two commit together or not at all.
 */
import type { Db } from "../store/database.js";
import { canonicalize, type JsonValue } from "../envelope/canonical-json.js";
import { leafHash } from "./merkle.js";
import { StoredTree } from "./stored-tree.js";
import { statement } from "../store/statements.js";

// One StoredTree (prepared statements) per open database.
const trees = new WeakMap<Db, StoredTree>();

/** The Merkle tree of `db`'s audit log. */
export function auditTree(db: Db): StoredTree {
  let tree = trees.get(db);
  if (tree === undefined) {
    tree = new StoredTree(db);
    trees.set(db, tree);
  }
  return tree;
}

/** An event to record. */
export interface AuditEvent {
  /** Dotted kind, e.g. `envelope.sent`, `access.read`, `token.created`. */
  readonly kind: string;
  /** Who caused it: `token:<name>`, `peer:<AUTHORITY>`, `operator`, `gateway`. */
  readonly actor: string;
  readonly time: Date;
  readonly caseId?: string;
  readonly envelopeId?: string;
  readonly envelopeDigest?: string;
  readonly details?: { [key: string]: JsonValue };
}

/** A stored audit entry, as hashed into the log. */
export interface AuditEntry {
  readonly index: number;
  readonly time: string;
  readonly kind: string;
  readonly actor: string;
  readonly caseId?: string;
  readonly envelopeId?: string;
  readonly envelopeDigest?: string;
  readonly details: { [key: string]: JsonValue };
}

/** Appends `event`; returns the entry with its index. */
export function appendEntry(db: Db, event: AuditEvent): AuditEntry {
  const next = (statement(db, "SELECT COALESCE(MAX(idx) + 1, 0) AS next FROM audit_entries").get() as { next: number }).next;
  const entry: AuditEntry = {
    index: next,
    time: event.time.toISOString(),
    kind: event.kind,
    actor: event.actor,
    ...(event.caseId === undefined ? {} : { caseId: event.caseId }),
    ...(event.envelopeId === undefined ? {} : { envelopeId: event.envelopeId }),
    ...(event.envelopeDigest === undefined ? {} : { envelopeDigest: event.envelopeDigest }),
    details: event.details ?? {},
  };
  const canonical = canonicalize(entry);
  statement(db, 
    "INSERT INTO audit_entries (idx, time, kind, actor, case_id, envelope_id, entry) VALUES (?, ?, ?, ?, ?, ?, ?)",
  ).run(entry.index, entry.time, entry.kind, entry.actor, entry.caseId ?? null, entry.envelopeId ?? null, canonical);
  auditTree(db).appendLeaf(entry.index, leafHash(Buffer.from(canonical, "utf8")));
  return entry;
}

/** Entries `[from, to)` in index order. */
export function readEntries(db: Db, from = 0, to = Number.MAX_SAFE_INTEGER): AuditEntry[] {
  return (statement(db, "SELECT entry FROM audit_entries WHERE idx >= ? AND idx < ? ORDER BY idx").all(from, to) as { entry: string }[]).map(
    (row) => JSON.parse(row.entry) as AuditEntry,
  );
}

/** Entries about one case, in index order. */
export function entriesOfCase(db: Db, caseId: string): AuditEntry[] {
  return (statement(db, "SELECT entry FROM audit_entries WHERE case_id = ? ORDER BY idx").all(caseId) as { entry: string }[]).map(
    (row) => JSON.parse(row.entry) as AuditEntry,
  );
}
