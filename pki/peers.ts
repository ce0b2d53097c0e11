/**
 * Peer authorities, pinned by root fingerprint (the CLI passes `<home>/peers`).
 *
 * One file per peer, `<dir>/<AUTHORITY-ID>.peer.json`:
 * `{ "valise-peer": 1, authority, rootFingerprint, addedAt, updatedAt, issuedAt, crlNumber, bundle: <the bundle file as received> }`,
 * written atomically, so a peer is either absent, as before, or fully updated.
 * The stored bundle keeps its signature, so an auditor can re-check it.
 */
import fs from "node:fs";
import path from "node:path";
import { PkiError } from "./errors.js";
import { assertAuthorityId, isAuthorityId } from "./authority.js";
import { normalizeFingerprint } from "./certificate.js";
import { decodeTrustBundle, readTrustBundleFile, trustBundleContents, verifyTrustBundle } from "./bundle.js";
import type { TrustBundleContents, TrustBundleFile, VerifiedTrustBundle } from "./bundle.js";
import { writeFileAtomic } from "./atomic-file.js";

/** A stored peer record. */
export interface PeerRecord {
  "valise-peer": 1;
  authority: string;
  /** The pinned root fingerprint (lowercase hex SHA-256). */
  rootFingerprint: string;
  addedAt: string;
  updatedAt: string;
  /** issuedAt of the stored bundle. */
  issuedAt: string;
  /** CRL number of the stored bundle's CRL. */
  crlNumber: number;
  bundle: TrustBundleFile;
}

/** A peer as listed. */
export interface PeerSummary {
  authority: string;
  endpoint: string;
  profile: string;
  rootFingerprint: string;
  issuedAt: string;
  addedAt: string;
  updatedAt: string;
  crlNumber: number;
  /** When the stored CRL expires: after it, path validation fails until the peer's bundle is updated. */
  crlNextUpdate: string | null;
  certificates: number;
}

/** A peer's trust material, ready for `validateCertificatePath` (`trustedRoot: root`, `crl`). */
export type PeerTrust = TrustBundleContents;

/** A bundle given as a file path or as the already-parsed JSON. */
export type BundleSource = string | object;

function peerFile(dir: string, authority: string): string {
  assertAuthorityId(authority); // the id becomes a file name: no path traversal
  return path.join(dir, `${authority}.peer.json`);
}

function loadBundle(source: BundleSource): unknown {
  return typeof source === "string" ? readTrustBundleFile(source) : source;
}

function readRecord(dir: string, authority: string): PeerRecord | undefined {
  const file = peerFile(dir, authority);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const record = JSON.parse(text) as PeerRecord;
    if (record["valise-peer"] !== 1 || record.authority !== authority) throw new Error("unexpected shape");
    normalizeFingerprint(record.rootFingerprint);
    return record;
  } catch (error) {
    throw new PkiError("PKI_STORE_CORRUPT", `${file} is not a Valise peer record.`, { cause: error, details: { path: file } });
  }
}

function summary(record: PeerRecord, contents: TrustBundleContents): PeerSummary {
  return {
    authority: record.authority,
    endpoint: contents.endpoint,
    profile: contents.profile,
    rootFingerprint: record.rootFingerprint,
    issuedAt: record.issuedAt,
    addedAt: record.addedAt,
    updatedAt: record.updatedAt,
    crlNumber: record.crlNumber,
    crlNextUpdate: contents.crl.nextUpdate?.toISOString() ?? null,
    certificates: contents.certificates.length,
  };
}

function recordOf(verified: VerifiedTrustBundle, bundle: TrustBundleFile, addedAt: string, now: Date): PeerRecord {
  return {
    "valise-peer": 1,
    authority: verified.authority,
    rootFingerprint: verified.rootFingerprint,
    addedAt,
    updatedAt: now.toISOString(),
    issuedAt: verified.issuedAt.toISOString(),
    crlNumber: verified.crl.crlNumber ?? 0,
    bundle: { "valise-trust-bundle": 1, jws: bundle.jws },
  };
}

/**
 * Adds a peer from its bundle and the root fingerprint received out of band.
 * Refuses: `PKI_FINGERPRINT_MISMATCH`, `PKI_BUNDLE_SCHEMA`, `PKI_BUNDLE_ALGORITHM`,
 * `PKI_BUNDLE_SIGNATURE`, `PKI_PEER_EXISTS` (same authority, same root: use
 * update) and `PKI_PEER_ROOT_CONFLICT` (the authority id is already bound to
 * another root — someone else claiming a known authority's name).
 */
export async function addPeer(dir: string, source: BundleSource, fingerprint: string, now: Date = new Date()): Promise<PeerSummary> {
  const bundle = loadBundle(source);
  const verified = await verifyTrustBundle(bundle, { fingerprint, now });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const existing = readRecord(dir, verified.authority);
  if (existing !== undefined) {
    if (existing.rootFingerprint !== verified.rootFingerprint) {
      throw new PkiError("PKI_PEER_ROOT_CONFLICT", `${verified.authority} is already a peer with another root.`, {
        details: { authority: verified.authority, pinned: existing.rootFingerprint, offered: verified.rootFingerprint },
      });
    }
    throw new PkiError("PKI_PEER_EXISTS", `${verified.authority} is already a peer; use update.`, { details: { authority: verified.authority } });
  }
  const record = recordOf(verified, bundle as TrustBundleFile, now.toISOString(), now);
  try {
    writeFileAtomic(peerFile(dir, verified.authority), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644, overwrite: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new PkiError("PKI_PEER_EXISTS", `${verified.authority} was added concurrently.`, { details: { authority: verified.authority } });
    }
    throw error;
  }
  return summary(record, verified);
}

/**
 * Replaces a known peer's bundle with a newer one, which must chain to the
 * pinned root. Refuses: `PKI_PEER_UNKNOWN`, `PKI_PEER_ROOT_CONFLICT` (other
 * root), `PKI_BUNDLE_STALE` (older issuedAt, or an older CRL: rollback of a
 * revocation), plus the verification codes of `verifyTrustBundle`.
 */
export async function updatePeer(dir: string, source: BundleSource, now: Date = new Date()): Promise<PeerSummary> {
  const bundle = loadBundle(source);
  const claimed = decodeTrustBundle(bundle).payload.authority; // unverified: only used to find the pin
  const existing = readRecord(dir, claimed);
  if (existing === undefined) throw new PkiError("PKI_PEER_UNKNOWN", `${claimed} is not a peer; add it first.`, { details: { authority: claimed } });
  let verified: VerifiedTrustBundle;
  try {
    verified = await verifyTrustBundle(bundle, { fingerprint: existing.rootFingerprint, now });
  } catch (error) {
    if ((error as PkiError).code === "PKI_FINGERPRINT_MISMATCH") {
      throw new PkiError("PKI_PEER_ROOT_CONFLICT", `The bundle for ${claimed} has another root than the pinned one.`, {
        cause: error,
        details: { authority: claimed, pinned: existing.rootFingerprint },
      });
    }
    throw error;
  }
  // Rollback: an attacker replaying an older bundle could bring back a revoked key.
  const storedIssuedAt = new Date(existing.issuedAt).getTime();
  const newCrlNumber = verified.crl.crlNumber ?? 0;
  if (verified.issuedAt.getTime() < storedIssuedAt || newCrlNumber < existing.crlNumber) {
    throw new PkiError("PKI_BUNDLE_STALE", `The bundle is older than the one held for ${claimed}.`, {
      details: { stored: existing.issuedAt, offered: verified.issuedAt.toISOString(), storedCrlNumber: existing.crlNumber, offeredCrlNumber: newCrlNumber },
    });
  }
  const record = recordOf(verified, bundle as TrustBundleFile, existing.addedAt, now);
  writeFileAtomic(peerFile(dir, claimed), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
  return summary(record, verified);
}

/** Removes a peer (`PKI_PEER_UNKNOWN` when absent). */
export function removePeer(dir: string, authority: string): void {
  const file = peerFile(dir, authority);
  try {
    fs.unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new PkiError("PKI_PEER_UNKNOWN", `${authority} is not a peer.`, { details: { authority } });
    }
    throw error;
  }
}

/** Every peer, sorted by authority id (an absent folder means no peers). */
export function listPeers(dir: string): PeerSummary[] {
  let files: string[];
  try {
    files = fs.readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return files
    .filter((f) => f.endsWith(".peer.json") && isAuthorityId(f.slice(0, -".peer.json".length)))
    .sort()
    .map((f) => {
      const authority = f.slice(0, -".peer.json".length);
      const record = readRecord(dir, authority) as PeerRecord;
      return summary(record, loadContents(dir, record));
    });
}

function loadContents(dir: string, record: PeerRecord): TrustBundleContents {
  try {
    const contents = trustBundleContents(decodeTrustBundle(record.bundle).payload);
    // The stored bundle was verified when stored; re-check the pin so a swapped
    // file cannot change which root is trusted.
    if (contents.rootFingerprint !== record.rootFingerprint || contents.authority !== record.authority) throw new Error("root or authority differs from the pin");
    return contents;
  } catch (error) {
    throw new PkiError("PKI_STORE_CORRUPT", `The stored bundle of ${record.authority} is unusable.`, { cause: error, details: { dir, authority: record.authority } });
  }
}

/**
 * A peer's trust material (root, current and previous certificates, CRL,
 * endpoint), synchronous, for the envelope layer and the TLS handshake.
 * `PKI_PEER_UNKNOWN` when absent.
 */
export function loadPeerTrust(dir: string, authority: string): PeerTrust {
  const record = readRecord(dir, authority);
  if (record === undefined) throw new PkiError("PKI_PEER_UNKNOWN", `${authority} is not a peer.`, { details: { authority } });
  return loadContents(dir, record);
}

/**
 * The signed bundle of `authority` as it was received and pinned (for
 * exports: an auditor can re-verify it). `PKI_PEER_UNKNOWN` when absent.
 */
export function peerBundleFile(dir: string, authority: string): TrustBundleFile {
  const record = readRecord(dir, authority);
  if (record === undefined) throw new PkiError("PKI_PEER_UNKNOWN", `${authority} is not a peer.`, { details: { authority } });
  return record.bundle;
}
