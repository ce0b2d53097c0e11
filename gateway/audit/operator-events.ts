/**
 * Audit entries for what operators do with the CLI — certificates issued,
 * rotated and revoked, peers added, updated and removed, tokens created and
 * revoked — whether or not the gateway is running. The CLI opens the same
 * store as the gateway; appends are serialized by the store (SQLite's write
 * lock, PostgreSQL's lock on the log head), so the processes take turns and
 * the log keeps one gapless sequence of indices.
 *
 * The entries name certificates by serial and SHA-256 fingerprint and peers
 * by authority and pinned root fingerprint: what an auditor needs to tie a
 * signature in the log to the certificate an operator issued or trusted.
 */
import type { CertificateListing } from "../../pki/store.js";
import type { PeerSummary } from "../../pki/peers.js";
import type { Home } from "../home.js";
import type { Tx } from "../store/store.js";
import { openHomeStore } from "../store/home-store.js";
import type { JsonValue } from "../envelope/canonical-json.js";
import { appendEntry, type AuditEntry, type AuditEvent } from "./append.js";

/**
 * Opens the home's store (migrating it if needed), runs `work` in one
 * transaction and closes it. What `work` appends commits with what it
 * changes, or not at all.
 */
export async function inAuditedTransaction<T>(home: Home, work: (tx: Tx) => Promise<T>): Promise<T> {
  const store = await openHomeStore(home, "apply");
  try {
    return await store.transaction(work);
  } finally {
    await store.close();
  }
}

/** Appends `events` (in order) to the home's log. */
export function recordOperatorEvents(home: Home, events: readonly AuditEvent[]): Promise<AuditEntry[]> {
  return inAuditedTransaction(home, async (tx) => {
    const entries: AuditEntry[] = [];
    for (const event of events) entries.push(await appendEntry(tx, event));
    return entries;
  });
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
