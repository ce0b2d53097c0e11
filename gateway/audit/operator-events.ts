/**
 * Audit entries for what operators do with the CLI — certificates issued,
 * rotated and revoked, peers added, updated and removed, tokens created and
 * revoked — whether or not the gateway is running. The CLI opens the same
 * store as the gateway; appends are serialized by the store (SQLite's write
 * lock, PostgreSQL's lock on the log head), so the processes take turns and
 * the log keeps one gapless sequence of indices.
 *
 * With the log key unlocked (a {@link LogSigner}), the same transaction
 * signs a checkpoint over the whole log, so what the operator did is covered
 * by a signature at once, not only when the gateway next runs.
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
import { isValiseError } from "../../pki/errors.js";
import type { GatewayError } from "../errors.js";
import { appendEntry, type AuditEntry, type AuditEvent } from "./append.js";
import { signLogHead, type LogSigner } from "./signed-head.js";

/** Signing after an operator's change: the log key, and who hears that the log could not be signed. */
export interface OperatorSigning extends LogSigner {
  /**
   * Called (inside the transaction) when the log no longer extends its
   * signed checkpoints (`AUDIT_LOG_TAMPERED`): the change and its entry
   * still commit, unsigned; the gateway will refuse to start on that log.
   */
  readonly onRefused: (error: GatewayError) => void;
}

/**
 * Opens the home's store (migrating it if needed), runs `work` in one
 * transaction and closes it. What `work` appends commits with what it
 * changes, or not at all; with `signing`, a checkpoint over the whole log
 * commits with it.
 */
export async function inAuditedTransaction<T>(home: Home, work: (tx: Tx) => Promise<T>, signing?: OperatorSigning): Promise<T> {
  const store = await openHomeStore(home, "apply");
  try {
    return await store.transaction(async (tx) => {
      const result = await work(tx);
      if (signing !== undefined) {
        try {
          await signLogHead(tx, signing);
        } catch (error) {
          // Refused before anything was written: the operator's change is kept.
          if (!isValiseError(error) || error.code !== "AUDIT_LOG_TAMPERED") throw error;
          signing.onRefused(error as GatewayError);
        }
      }
      return result;
    });
  } finally {
    await store.close();
  }
}

/** Appends `events` (in order) to the home's log, and signs it with `signing` when given. */
export function recordOperatorEvents(home: Home, events: readonly AuditEvent[], signing?: OperatorSigning): Promise<AuditEntry[]> {
  return inAuditedTransaction(
    home,
    async (tx) => {
      const entries: AuditEntry[] = [];
      for (const event of events) entries.push(await appendEntry(tx, event));
      return entries;
    },
    signing,
  );
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
