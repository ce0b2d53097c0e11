/**
 * Audit entries for what operators do with the CLI — certificates issued,
 * rotated and revoked, peers added, updated and removed, tokens created and
 * revoked — whether or not the gateway is running. The CLI opens the same
 * database as the gateway; both write under `BEGIN IMMEDIATE` (see
 * store/group-commit.ts), so the two processes take turns and the log keeps
 * one gapless sequence of indices.
 *
 * The entries name certificates by serial and SHA-256 fingerprint and peers
 * by authority and pinned root fingerprint: what an auditor needs to tie a
 * signature in the log to the certificate an operator issued or trusted.
 */
import type { CertificateListing } from "../../pki/store.js";
import type { PeerSummary } from "../../pki/peers.js";
import { openDatabase, type Db } from "../store/database.js";
import type { JsonValue } from "../envelope/canonical-json.js";
import { appendEntry, type AuditEntry, type AuditEvent } from "./append.js";

/**
 * Opens the database at `databasePath` (creating it if needed), runs `work`
 * in one immediate transaction and closes it. What `work` appends commits
 * with what it changes, or not at all.
 */
export function inAuditedTransaction<T>(databasePath: string, work: (db: Db) => T): T {
  const db = openDatabase(databasePath);
  try {
    return db.transaction(() => work(db)).immediate();
  } finally {
    db.close();
  }
}

/** Appends `events` (in order) to the log of the database at `databasePath`. */
export function recordOperatorEvents(databasePath: string, events: readonly AuditEvent[]): AuditEntry[] {
  return inAuditedTransaction(databasePath, (db) => events.map((event) => appendEntry(db, event)));
}

/** What an entry records of a certificate. */
export function certificateDetails(listing: CertificateListing): { [key: string]: JsonValue } {
  return {
    use: listing.use,
    serial: listing.serial,
    fingerprint: listing.fingerprint,
    subject: listing.subject,
    notBefore: listing.notBefore,
    notAfter: listing.notAfter,
  };
}

/** What an entry records of a peer's trust bundle. */
export function peerDetails(peer: PeerSummary): { [key: string]: JsonValue } {
  return {
    peer: peer.authority,
    endpoint: peer.endpoint,
    rootFingerprint: peer.rootFingerprint,
    bundleIssuedAt: peer.issuedAt,
    crlNumber: peer.crlNumber,
  };
}
