/**
 * The authority's own PKI on disk (the CLI passes `<home>/pki`).
 *
 * Layout:
 * ```
 * index.json                      every certificate issued (see PkiIndex); the commit point of every change
 * root.cert.pem                   the self-signed root
 * root.key.pem                    its key, encrypted PKCS#8 (0600)
 * certs/<use>-<serial>.cert.pem   each leaf ever issued (tls, sign, encrypt, log)
 * certs/<use>-<serial>.key.pem    its key, encrypted PKCS#8 (0600)
 * crl.pem                         the current CRL signed by the root
 * ```
 * Every file is written atomically (temp + fsync + rename). New key and
 * certificate files get new names and `index.json` is rewritten last, so a
 * crash mid-operation leaves the previous state usable (at worst an orphan
 * file). On revocation the CRL is written before the index: a crash then
 * leaves the certificate already listed on the CRL, which fails safe.
 * All private keys share one passphrase (`VALISE_PASSPHRASE` / `--passphrase-file`).
 */
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import type { KeyObject } from "node:crypto";
import { PkiError } from "./errors.js";
import { assertAuthorityId } from "./authority.js";
import { createRootCertificate, issueCertificate, normalizeSerial, parseOwnCertificatePem, sanStrings } from "./certificate.js";
import type { Issuer, ParsedCertificate } from "./certificate.js";
import { createCrl, parseCrlPem } from "./crl.js";
import type { CrlEntry, ParsedCrl } from "./crl.js";
import { decryptPrivateKeyPem, encryptPrivateKeyPem, generateKeyPair, writeKeyFile } from "./keys.js";
import { assertProfile, isLeafUse, LEAF_USES } from "./profiles.js";
import type { CertificateUse, LeafUse, Profile } from "./profiles.js";
import { syncFolder, writeFileAtomic } from "./atomic-file.js";

/** Status of a certificate in the index. */
export type IndexStatus = "current" | "previous" | "revoked";

/** Status reported by {@link AuthorityPki.list}: the index status, or `expired` once past notAfter. */
export type CertificateStatus = IndexStatus | "expired";

/** Reasons an operator may give to `revoke`. */
export const REVOKE_REASONS = ["keyCompromise", "superseded", "cessationOfOperation", "affiliationChanged"] as const;

/** A reason accepted by {@link AuthorityPki.revoke}. */
export type RevokeReason = (typeof REVOKE_REASONS)[number];

/** One certificate of the index. Paths are relative to the PKI folder. */
export interface IndexEntry {
  use: LeafUse;
  serial: string;
  cert: string;
  key: string;
  status: IndexStatus;
  issuedAt: string;
  notAfter: string;
  revokedAt?: string;
  reason?: RevokeReason;
  /** For keyCompromise: since when the key is suspected compromised (the CRL entry's invalidity date). */
  invalidSince?: string;
}

/** `index.json`. */
export interface PkiIndex {
  "valise-pki": 1;
  authority: string;
  profile: Profile;
  endpoint: string;
  dns: string[];
  ips: string[];
  createdAt: string;
  root: { serial: string; cert: string; key: string; fingerprint: string };
  /** Number of the CRL in `crl.pem`. */
  crlNumber: number;
  certificates: IndexEntry[];
}

/** One row of {@link AuthorityPki.list}. */
export interface CertificateListing {
  use: CertificateUse;
  serial: string;
  subject: string;
  sans: string[];
  notBefore: string;
  notAfter: string;
  status: CertificateStatus;
  fingerprint: string;
  /** Absolute path of the certificate PEM. */
  path: string;
  /** Absolute path of the encrypted key. */
  keyPath: string;
  revokedAt?: string;
  reason?: RevokeReason;
  /** keyCompromise: since when the key is suspected compromised. */
  invalidSince?: string;
}

/** A usable (current or previous, unrevoked) certificate. */
export interface IssuedCertificate {
  use: LeafUse;
  status: "current" | "previous";
  certificate: ParsedCertificate;
}

/** What {@link AuthorityPki.revoke} did. */
export interface Revocation {
  serial: string;
  use: LeafUse;
  revokedAt: string;
  reason: RevokeReason;
  /** For keyCompromise: the invalidity date written into the CRL entry. */
  invalidSince?: string;
  crlNumber: number;
}

/** Options of {@link AuthorityPki.revoke}. */
export interface RevokeOptions {
  /**
   * keyCompromise only: since when the key may have been in other hands
   * (default: the revocation time). Written as the CRL entry's invalidity
   * date; signatures made from then on stop verifying, earlier ones stay
   * valid for an auditor. Not after the revocation time.
   */
  invalidSince?: Date;
}

/** An opened authority PKI. Every method re-reads `index.json`, so a running gateway sees the CLI's changes. */
export interface AuthorityPki {
  readonly dir: string;
  readonly authority: string;
  readonly profile: Profile;
  readonly endpoint: string;
  /** Every certificate issued (root first), with its status at `now` (default: now). */
  list(now?: Date): CertificateListing[];
  /** Issues a new key and certificate for `use`; the current one becomes `previous` (still valid for verification until it expires). */
  rotate(use: LeafUse, passphrase: string, now?: Date): Promise<CertificateListing>;
  /**
   * Marks a leaf revoked and writes a new CRL (a keyCompromise entry carries
   * its invalidity date). `PKI_UNKNOWN_SERIAL`, `PKI_ALREADY_REVOKED`,
   * `PKI_ROOT_NOT_REVOCABLE`, `PKI_INVALID_ARGUMENT` (an `invalidSince` for
   * another reason, or after `now`).
   */
  revoke(serial: string, reason: RevokeReason, passphrase: string, now?: Date, options?: RevokeOptions): Promise<Revocation>;
  /** Re-signs the CRL with the same entries and a new number (CRLs last 7 days). */
  refreshCrl(passphrase: string, now?: Date): Promise<ParsedCrl>;
  /** The current CRL as PEM. */
  crlPem(): string;
  /** The current CRL, parsed. */
  crl(): ParsedCrl;
  rootCertificate(): ParsedCertificate;
  /** Lowercase hex SHA-256 of the root's DER: the fingerprint given to peers out of band. */
  rootFingerprint(): string;
  /** The current certificate of `use` (`PKI_NO_CURRENT_CERTIFICATE` when revoked and not yet rotated). */
  currentCertificate(use: LeafUse): ParsedCertificate;
  /** Current and previous certificates of `use`, not revoked (expired ones included; filter by date if needed), current first. */
  certificates(use: LeafUse): IssuedCertificate[];
  /** Decrypts the private key of `use` (current one, or the one of `serial`); `use` may be `root`. */
  loadPrivateKey(use: CertificateUse, passphrase: string, serial?: string): KeyObject;
  /** The endpoint and TLS names as the index holds them now: what bundles carry and the next tls certificate names. */
  endpointNames(): EndpointNames;
  /**
   * Moves the authority to `endpoint`: issues a new tls certificate for its host
   * and `names` (the current one becomes `previous`) and records endpoint and
   * names in the index, which is the one commit point of both.
   */
  setEndpoint(endpoint: string, names: { dns: readonly string[]; ips: readonly string[] }, passphrase: string, now?: Date): Promise<CertificateListing>;
}

/** Where peers reach the authority, and the names its tls certificate carries. */
export interface EndpointNames {
  endpoint: string;
  dns: string[];
  ips: string[];
}

/** Options of {@link initAuthorityPki}. */
export interface InitAuthorityPkiOptions {
  authority: string;
  profile: Profile;
  /** The https URL peers reach this gateway at; its host joins the TLS SANs. */
  endpoint: string;
  /** Extra DNS names for the TLS certificate. */
  dns?: readonly string[];
  /** Extra IP addresses for the TLS certificate. */
  ips?: readonly string[];
  passphrase: string;
  /** Replace an existing PKI; the old folder is kept, renamed `<dir>.replaced-<time>` (it holds keys). */
  force?: boolean;
  now?: Date;
}

const INDEX = "index.json";
const CRL = "crl.pem";

function tlsNames(endpoint: string, dns: readonly string[], ips: readonly string[]): { dns: string[]; ips: string[] } {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (error) {
    throw new PkiError("PKI_INVALID_ARGUMENT", `Not a URL: ${JSON.stringify(endpoint)}.`, { cause: error });
  }
  if (url.protocol !== "https:") throw new PkiError("PKI_INVALID_ARGUMENT", "The endpoint must be an https URL.");
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const allDns = [...dns];
  const allIps = [...ips];
  if (/^[0-9.]+$/.test(host) || host.includes(":")) {
    if (!allIps.includes(host)) allIps.unshift(host);
  } else if (!allDns.includes(host)) {
    allDns.unshift(host);
  }
  return { dns: allDns, ips: allIps };
}

function leafFiles(use: LeafUse, serial: string): { cert: string; key: string } {
  return { cert: `certs/${use}-${serial}.cert.pem`, key: `certs/${use}-${serial}.key.pem` };
}

/**
 * Creates the authority's PKI in `dir`: root, tls/sign/encrypt/log leaves and
 * an empty CRL. Built in a sibling staging folder and renamed into place, so a
 * failure leaves nothing half-made. Refuses an existing PKI (`PKI_EXISTS`)
 * unless `force`, and an invalid authority id (`PKI_INVALID_AUTHORITY_ID`).
 */
export async function initAuthorityPki(dir: string, options: InitAuthorityPkiOptions): Promise<AuthorityPki> {
  assertAuthorityId(options.authority);
  assertProfile(options.profile);
  const target = path.resolve(dir);
  const names = tlsNames(options.endpoint, options.dns ?? [], options.ips ?? []);
  const occupied = fs.existsSync(target) && fs.readdirSync(target).length > 0;
  if (occupied && options.force !== true) {
    throw new PkiError("PKI_EXISTS", `A PKI already exists in ${target}; refusing to overwrite it without force.`, { details: { dir: target } });
  }
  encryptPrivateKeyPem(generateKeyPair("ed25519", "log").privateKey, options.passphrase); // PKI_PASSPHRASE_MISSING before any work
  const now = options.now ?? new Date();
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const staging = path.join(path.dirname(target), `.${path.basename(target)}.staging-${crypto.randomBytes(4).toString("hex")}`);
  fs.mkdirSync(path.join(staging, "certs"), { recursive: true, mode: 0o700 });
  fs.chmodSync(staging, 0o700);
  try {
    const rootKeys = generateKeyPair(options.profile, "root");
    const root = await createRootCertificate({ authority: options.authority, ...rootKeys, now });
    writeKeyFile(path.join(staging, "root.key.pem"), encryptPrivateKeyPem(rootKeys.privateKey, options.passphrase));
    writeFileAtomic(path.join(staging, "root.cert.pem"), root.pem);
    const issuer: Issuer = { certificate: root, privateKey: rootKeys.privateKey };
    const certificates: IndexEntry[] = [];
    for (const use of LEAF_USES) {
      certificates.push(await issueLeaf(staging, issuer, use, options.profile, names, options.passphrase, now));
    }
    const crl = await createCrl({ issuer, crlNumber: 1, entries: [], now });
    writeFileAtomic(path.join(staging, CRL), crl.pem);
    const index: PkiIndex = {
      "valise-pki": 1,
      authority: options.authority,
      profile: options.profile,
      endpoint: options.endpoint,
      dns: names.dns,
      ips: names.ips,
      createdAt: now.toISOString(),
      root: { serial: root.serial, cert: "root.cert.pem", key: "root.key.pem", fingerprint: root.fingerprint256 },
      crlNumber: 1,
      certificates,
    };
    writeFileAtomic(path.join(staging, INDEX), `${JSON.stringify(index, null, 2)}\n`);
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  if (fs.existsSync(target)) {
    if (occupied) {
      fs.renameSync(target, `${target}.replaced-${now.toISOString().replace(/[:.]/g, "-")}-${crypto.randomBytes(2).toString("hex")}`);
    } else {
      fs.rmdirSync(target);
    }
  }
  fs.renameSync(staging, target);
  syncFolder(path.dirname(target));
  return openAuthorityPki(target);
}

async function issueLeaf(
  dir: string,
  issuer: Issuer,
  use: LeafUse,
  profile: Profile,
  names: { dns: readonly string[]; ips: readonly string[] },
  passphrase: string,
  now: Date,
): Promise<IndexEntry> {
  const keys = generateKeyPair(profile, use);
  const cert = await issueCertificate({ issuer, use, publicKey: keys.publicKey, dns: names.dns, ips: names.ips, now });
  const files = leafFiles(use, cert.serial);
  writeKeyFile(path.join(dir, files.key), encryptPrivateKeyPem(keys.privateKey, passphrase));
  writeFileAtomic(path.join(dir, files.cert), cert.pem, { overwrite: false });
  return { use, serial: cert.serial, ...files, status: "current", issuedAt: now.toISOString(), notAfter: cert.notAfter.toISOString() };
}

function readIndex(dir: string): PkiIndex {
  const file = path.join(dir, INDEX);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new PkiError("PKI_NOT_FOUND", `No authority PKI in ${dir} (index.json missing).`, { details: { dir } });
    }
    throw error;
  }
  try {
    const index = JSON.parse(text) as PkiIndex;
    if (index["valise-pki"] !== 1 || !Array.isArray(index.certificates) || typeof index.root?.cert !== "string") throw new Error("unexpected shape");
    assertAuthorityId(index.authority);
    assertProfile(index.profile);
    return index;
  } catch (error) {
    throw new PkiError("PKI_STORE_CORRUPT", `${file} is not a Valise PKI index.`, { cause: error, details: { path: file } });
  }
}

function writeIndex(dir: string, index: PkiIndex): void {
  writeFileAtomic(path.join(dir, INDEX), `${JSON.stringify(index, null, 2)}\n`);
}

function readPem(dir: string, relative: string): string {
  try {
    return fs.readFileSync(path.join(dir, relative), "utf8");
  } catch (error) {
    throw new PkiError("PKI_STORE_CORRUPT", `Cannot read ${relative} in ${dir}.`, { cause: error, details: { path: relative } });
  }
}

/**
 * The invalidity date of a revocation: for keyCompromise, `given` (whole
 * seconds, as the CRL stores them) or the revocation time; for any other
 * reason none, and `given` is refused (a superseded key was never in other hands).
 */
function invalidityOf(reason: RevokeReason, revokedAt: Date, given: Date | undefined): Date | undefined {
  if (given !== undefined && (!(given instanceof Date) || Number.isNaN(given.getTime()))) {
    throw new PkiError("PKI_INVALID_ARGUMENT", "The invalidity date must be a valid date.");
  }
  if (reason !== "keyCompromise") {
    if (given !== undefined) throw new PkiError("PKI_INVALID_ARGUMENT", "An invalidity date is given only with the reason keyCompromise.", { details: { reason } });
    return undefined;
  }
  if (given === undefined) return revokedAt;
  const since = new Date(Math.floor(given.getTime() / 1000) * 1000);
  if (since.getTime() > revokedAt.getTime()) {
    throw new PkiError("PKI_INVALID_ARGUMENT", "The key cannot have become invalid after its revocation.", {
      details: { invalidSince: since.toISOString(), revokedAt: revokedAt.toISOString() },
    });
  }
  return since;
}

/** Opens the PKI in `dir` (`PKI_NOT_FOUND` when there is none). */
export function openAuthorityPki(dir: string): AuthorityPki {
  const root = path.resolve(dir);
  const first = readIndex(root);

  const rootCertificate = (): ParsedCertificate => parseOwnCertificatePem(readPem(root, readIndex(root).root.cert));
  const crl = (): ParsedCrl => parseCrlPem(readPem(root, CRL));
  const loadRootIssuer = (passphrase: string): Issuer => {
    const index = readIndex(root);
    return { certificate: rootCertificate(), privateKey: decryptPrivateKeyPem(readPem(root, index.root.key), passphrase) };
  };
  const crlEntries = (index: PkiIndex): CrlEntry[] =>
    index.certificates
      .filter((entry) => entry.status === "revoked")
      .map((entry) => ({
        serial: entry.serial,
        revokedAt: new Date(entry.revokedAt ?? index.createdAt),
        reason: entry.reason ?? "unspecified",
        ...(entry.invalidSince === undefined ? {} : { invalidityDate: new Date(entry.invalidSince) }),
      }));
  const nextCrlNumber = (index: PkiIndex): number => {
    let onDisk = 0;
    try {
      onDisk = crl().crlNumber ?? 0;
    } catch {
      // an unreadable crl.pem is replaced below
    }
    return Math.max(index.crlNumber, onDisk) + 1;
  };
  const listing = (use: CertificateUse, cert: ParsedCertificate, status: IndexStatus, files: { cert: string; key: string }, now: Date, entry?: IndexEntry): CertificateListing => {
    const effective: CertificateStatus = status !== "revoked" && now.getTime() > cert.notAfter.getTime() ? "expired" : status;
    return {
      use,
      serial: cert.serial,
      subject: cert.subject,
      sans: sanStrings(cert),
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
      status: effective,
      fingerprint: cert.fingerprint256,
      path: path.join(root, files.cert),
      keyPath: path.join(root, files.key),
      ...(entry?.revokedAt === undefined ? {} : { revokedAt: entry.revokedAt }),
      ...(entry?.reason === undefined ? {} : { reason: entry.reason }),
      ...(entry?.invalidSince === undefined ? {} : { invalidSince: entry.invalidSince }),
    };
  };
  const assertLeafUse = (use: unknown): void => {
    if (!isLeafUse(use)) throw new PkiError("PKI_INVALID_ARGUMENT", `Not a leaf use: ${JSON.stringify(use)}.`);
  };

  return {
    dir: root,
    authority: first.authority,
    profile: first.profile,
    endpoint: first.endpoint,

    list(now = new Date()) {
      const index = readIndex(root);
      return [
        listing("root", rootCertificate(), "current", index.root, now),
        ...index.certificates.map((entry) => listing(entry.use, parseOwnCertificatePem(readPem(root, entry.cert)), entry.status, entry, now, entry)),
      ];
    },

    async rotate(use, passphrase, now = new Date()) {
      assertLeafUse(use);
      const issuer = loadRootIssuer(passphrase);
      const index = readIndex(root);
      const entry = await issueLeaf(root, issuer, use, index.profile, index, passphrase, now);
      for (const old of index.certificates) {
        if (old.use === use && old.status === "current") old.status = "previous";
      }
      index.certificates.push(entry);
      writeIndex(root, index); // commit point
      return listing(use, parseOwnCertificatePem(readPem(root, entry.cert)), "current", entry, now, entry);
    },

    async revoke(serial, reason, passphrase, now = new Date(), options = {}) {
      if (!(REVOKE_REASONS as readonly string[]).includes(reason)) {
        throw new PkiError("PKI_INVALID_ARGUMENT", `Unknown revocation reason ${JSON.stringify(reason)} (expected ${REVOKE_REASONS.join(", ")}).`);
      }
      // A CRL holds whole seconds. Rounded up: history judged at signing time keeps every
      // signature made before the revocation (rounding down would void the last second of
      // honest ones); a key listed at all is refused on the live path either way.
      const revokedAt = new Date(Math.ceil(now.getTime() / 1000) * 1000);
      const invalidSince = invalidityOf(reason, revokedAt, options.invalidSince);
      const wanted = normalizeSerial(serial);
      const index = readIndex(root);
      if (wanted === index.root.serial) {
        throw new PkiError("PKI_ROOT_NOT_REVOCABLE", "The root cannot be revoked on its own CRL; create a new PKI and re-exchange bundles.");
      }
      const entry = index.certificates.find((e) => e.serial === wanted);
      if (entry === undefined) throw new PkiError("PKI_UNKNOWN_SERIAL", `No certificate with serial ${serial}.`, { details: { serial } });
      if (entry.status === "revoked") {
        throw new PkiError("PKI_ALREADY_REVOKED", `Certificate ${entry.serial} is already revoked.`, {
          details: { serial: entry.serial, revokedAt: entry.revokedAt, reason: entry.reason },
        });
      }
      const issuer = loadRootIssuer(passphrase);
      entry.status = "revoked";
      entry.revokedAt = revokedAt.toISOString();
      entry.reason = reason;
      if (invalidSince !== undefined) entry.invalidSince = invalidSince.toISOString();
      const crlNumber = nextCrlNumber(index);
      const newCrl = await createCrl({ issuer, crlNumber, entries: crlEntries(index), now });
      writeFileAtomic(path.join(root, CRL), newCrl.pem); // CRL first: a crash before the index fails safe
      index.crlNumber = crlNumber;
      writeIndex(root, index);
      return { serial: entry.serial, use: entry.use, revokedAt: entry.revokedAt, reason, ...(entry.invalidSince === undefined ? {} : { invalidSince: entry.invalidSince }), crlNumber };
    },

    async refreshCrl(passphrase, now = new Date()) {
      const issuer = loadRootIssuer(passphrase);
      const index = readIndex(root);
      const crlNumber = nextCrlNumber(index);
      const newCrl = await createCrl({ issuer, crlNumber, entries: crlEntries(index), now });
      writeFileAtomic(path.join(root, CRL), newCrl.pem);
      index.crlNumber = crlNumber;
      writeIndex(root, index);
      return newCrl;
    },

    crlPem: () => crl().pem,
    crl,
    rootCertificate,
    rootFingerprint: () => rootCertificate().fingerprint256,

    currentCertificate(use) {
      assertLeafUse(use);
      const entry = readIndex(root).certificates.find((e) => e.use === use && e.status === "current");
      if (entry === undefined) {
        throw new PkiError("PKI_NO_CURRENT_CERTIFICATE", `No current ${use} certificate; run a rotation to issue one.`, { details: { use } });
      }
      return parseOwnCertificatePem(readPem(root, entry.cert));
    },

    certificates(use) {
      assertLeafUse(use);
      const usable = readIndex(root).certificates.filter((e) => e.use === use && e.status !== "revoked");
      usable.sort((x, y) => (x.status === y.status ? y.issuedAt.localeCompare(x.issuedAt) : x.status === "current" ? -1 : 1));
      return usable.map((e) => ({ use, status: e.status as "current" | "previous", certificate: parseOwnCertificatePem(readPem(root, e.cert)) }));
    },

    loadPrivateKey(use, passphrase, serial) {
      const index = readIndex(root);
      if (use === "root") return decryptPrivateKeyPem(readPem(root, index.root.key), passphrase);
      assertLeafUse(use);
      const wanted = serial === undefined ? undefined : normalizeSerial(serial);
      const entry = index.certificates.find((e) => e.use === use && (wanted === undefined ? e.status === "current" : e.serial === wanted));
      if (entry === undefined) {
        if (wanted !== undefined) throw new PkiError("PKI_UNKNOWN_SERIAL", `No ${use} certificate with serial ${serial}.`, { details: { serial, use } });
        throw new PkiError("PKI_NO_CURRENT_CERTIFICATE", `No current ${use} certificate.`, { details: { use } });
      }
      return decryptPrivateKeyPem(readPem(root, entry.key), passphrase);
    },

    endpointNames() {
      const index = readIndex(root);
      return { endpoint: index.endpoint, dns: [...index.dns], ips: [...index.ips] };
    },

    async setEndpoint(endpoint, names, passphrase, now = new Date()) {
      const tls = tlsNames(endpoint, names.dns, names.ips);
      const issuer = loadRootIssuer(passphrase);
      const index = readIndex(root);
      const entry = await issueLeaf(root, issuer, "tls", index.profile, tls, passphrase, now);
      for (const old of index.certificates) {
        if (old.use === "tls" && old.status === "current") old.status = "previous";
      }
      index.certificates.push(entry);
      index.endpoint = endpoint;
      index.dns = tls.dns;
      index.ips = tls.ips;
      writeIndex(root, index); // commit point: the new names and the certificate carrying them together
      return listing("tls", parseOwnCertificatePem(readPem(root, entry.cert)), "current", entry, now, entry);
    },
  };
}
