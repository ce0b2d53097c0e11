/**
 * Appending to the audit log. Callers describe an event; this module gives
 * it the next index and stores its RFC 8785 canonical form and its leaf in
 * the Merkle tree. Entries hold digests and metadata, never document content.
 *
 * Callers append inside the same transaction as the change the entry
 * records, so the two commit together or not at all; so does the event of
 * the local API's feed that the entry makes, if any (gateway/events/feed-events.ts).
 */
import type { Tx } from "../store/store.js";
import { canonicalize, type JsonValue } from "../envelope/canonical-json.js";
import { leafHash } from "./merkle.js";
import { appendLeaf } from "./stored-tree.js";
import { recordFeedEvent } from "../events/feed-events.js";

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

/** Appends `event` in `tx`; returns the entry with its index. */
export async function appendEntry(tx: Tx, event: AuditEvent): Promise<AuditEntry> {
  const index = await tx.audit.nextIndex();
  const entry: AuditEntry = {
    index,
    time: event.time.toISOString(),
    kind: event.kind,
    actor: event.actor,
    ...(event.caseId === undefined ? {} : { caseId: event.caseId }),
    ...(event.envelopeId === undefined ? {} : { envelopeId: event.envelopeId }),
    ...(event.envelopeDigest === undefined ? {} : { envelopeDigest: event.envelopeDigest }),
    details: event.details ?? {},
  };
  const canonical = canonicalize(entry);
  await tx.audit.insertEntry({ idx: index, time: entry.time, kind: entry.kind, actor: entry.actor, caseId: entry.caseId ?? null, envelopeId: entry.envelopeId ?? null, entry: canonical });
  await appendLeaf(tx, index, leafHash(Buffer.from(canonical, "utf8")));
  await recordFeedEvent(tx, index, entry);
  return entry;
}

/** Entries `[from, to)` in index order. */
export async function readEntries(tx: Tx, from = 0, to = Number.MAX_SAFE_INTEGER): Promise<AuditEntry[]> {
  return (await tx.audit.entries(from, to)).map((entry) => JSON.parse(entry) as AuditEntry);
}

/** Entries about one case, in index order. */
export async function entriesOfCase(tx: Tx, caseId: string): Promise<AuditEntry[]> {
  return (await tx.audit.entriesOfCase(caseId)).map((entry) => JSON.parse(entry) as AuditEntry);
}
