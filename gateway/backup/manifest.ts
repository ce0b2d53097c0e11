/**
 * The manifest of a backup archive: what the archive holds (every file with
 * its size and SHA-256), whose home it is (authority, root fingerprint),
 * what the database held (the log's size, root and epoch at backup time),
 * signed with the authority's `log` key (Ed25519).
 *
 * The archive is hostile when it is read back: it may be cut short, edited,
 * or another authority's. The manifest is parsed strictly, its signature is
 * checked with the `log` certificate it names, which must chain to the root
 * archived beside it (and to the root the operator pinned, when given), and
 * only then are the files compared with it. Pure: the bytes, the archived
 * PKI files and the pinned fingerprint are arguments.
 */
import { sign, verify, type KeyObject } from "node:crypto";
import { normalizeFingerprint, parseCertificatePem } from "../../pki/certificate.js";
import { validateCertificatePath } from "../../pki/path.js";
import { isValiseError } from "../../pki/errors.js";
import { GatewayError } from "../errors.js";

/** Version tag of the manifest format. */
export const BACKUP_FORMAT = 1;

/** Archive names: files of the home under `home/`, then the manifest and its signature. */
export const HOME_PREFIX = "home/";
export const MANIFEST_NAME = "manifest.json";
export const SIGNATURE_NAME = "manifest.sig";

/** Largest manifest accepted (a home with a million evidence objects fits). */
export const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

/** One archived file of the home. */
export interface ManifestFile {
  /** Path relative to the home, `/`-separated. */
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  readonly mode: number;
}

/** What the log held when the backup was taken. */
export interface ManifestLog {
  readonly size: number;
  /** Base64 root hash of the first `size` entries. */
  readonly root: string;
  readonly epoch: number;
  readonly origin: string;
  /** The newest signed checkpoint (its note), if any. */
  readonly checkpoint: { readonly size: number; readonly note: string } | null;
}

/** The manifest document. */
export interface BackupManifest {
  readonly "valise-backup": typeof BACKUP_FORMAT;
  readonly authority: string;
  /** SHA-256 of the authority's root certificate (lowercase hex). */
  readonly rootFingerprint: string;
  readonly createdAt: string;
  /** `included`: the database is in the archive (SQLite); PostgreSQL is backed up with its own tools. */
  readonly store: { readonly kind: "sqlite" | "postgres"; readonly included: boolean; readonly schemaVersion: number };
  readonly log: ManifestLog;
  readonly files: readonly ManifestFile[];
  /** The `log` certificate whose key signed the manifest. */
  readonly signer: { readonly serial: string; readonly fingerprint: string };
}

/** The signature file: Ed25519 over the manifest's bytes. */
interface SignatureFile {
  readonly alg: "Ed25519";
  readonly signature: string;
}

/** The signature file's bytes for `manifest` (its exact bytes) and the `log` private key. */
export function signManifest(manifest: Buffer, logKey: KeyObject): Buffer {
  const file: SignatureFile = { alg: "Ed25519", signature: sign(null, manifest, logKey).toString("base64") };
  return Buffer.from(`${JSON.stringify(file)}\n`, "utf8");
}

/** The manifest's bytes: canonical enough (stable key order from the object literal), one trailing newline. */
export function manifestBytes(manifest: BackupManifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`, "utf8");
}

/**
 * Parses manifest bytes strictly. Throws BACKUP_MALFORMED for anything that
 * is not a version-1 manifest (a foreign JSON file, missing fields, a path
 * that leaves the home).
 */
export function parseManifest(bytes: Buffer): BackupManifest {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw malformed("the manifest is not JSON");
  }
  const m = value as Partial<BackupManifest> | null;
  if (typeof m !== "object" || m === null || m["valise-backup"] !== BACKUP_FORMAT) throw malformed("the manifest is not a Valise backup manifest (version 1)");
  const text = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length < 4096;
  const count = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!text(m.authority) || !text(m.rootFingerprint) || !text(m.createdAt) || Number.isNaN(Date.parse(m.createdAt))) throw malformed("the manifest lacks its authority, root or time");
  const store = m.store;
  if (typeof store !== "object" || store === null || (store.kind !== "sqlite" && store.kind !== "postgres") || typeof store.included !== "boolean" || !count(store.schemaVersion)) {
    throw malformed("the manifest's store is malformed");
  }
  const log = m.log;
  if (typeof log !== "object" || log === null || !count(log.size) || typeof log.root !== "string" || !count(log.epoch) || !text(log.origin)) throw malformed("the manifest's log is malformed");
  if (log.checkpoint !== null && (typeof log.checkpoint !== "object" || !count(log.checkpoint?.size) || !text(log.checkpoint?.note))) throw malformed("the manifest's checkpoint is malformed");
  if (typeof m.signer !== "object" || m.signer === null || !text(m.signer.serial) || !text(m.signer.fingerprint)) throw malformed("the manifest names no signer");
  if (!Array.isArray(m.files)) throw malformed("the manifest lists no files");
  const seen = new Set<string>();
  for (const file of m.files as unknown[]) {
    const f = file as Partial<ManifestFile> | null;
    if (typeof f !== "object" || f === null || !text(f.path) || !count(f.size) || typeof f.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(f.sha256) || !count(f.mode)) {
      throw malformed("a file entry of the manifest is malformed");
    }
    if (!isHomePath(f.path)) throw malformed(`the manifest names a path outside the home's layout: ${f.path.slice(0, 200)}`);
    if (seen.has(f.path)) throw malformed(`the manifest lists ${f.path} twice`);
    seen.add(f.path);
  }
  return m as BackupManifest;
}

/**
 * Whether `path` (relative to the home) is one a backup may hold: the
 * configuration, the PKI, the peers, the SQLite database, sealed evidence
 * objects and partial uploads. Nothing absolute, no `..`, no hidden names:
 * a hostile archive must not write outside the restored home or plant a
 * file the gateway would read as something else.
 */
export function isHomePath(path: string): boolean {
  if (path === "valise.json" || path === "valise.db") return true;
  const parts = path.split("/");
  if (parts.some((part) => part === "" || part === "." || part === ".." || part.startsWith(".") || !/^[A-Za-z0-9._@+-]+$/.test(part))) return false;
  if (parts[0] === "pki" || parts[0] === "peers") return parts.length >= 2 && parts.length <= 3;
  if (parts[0] === "evidence") {
    if (parts[1] === "sha256") return parts.length === 4 && /^[0-9a-f]{2}$/.test(parts[2]!) && /^[0-9a-f]{64}\.sealed$/.test(parts[3]!);
    if (parts[1] === "partial") return parts.length === 3 && /\.sealed$/.test(parts[2]!);
  }
  return false;
}

/**
 * Verifies the manifest's signature: the `log` certificate it names (from
 * the archived `pki/` files) must chain to the archived root at the
 * manifest's time, belong to the manifest's authority, and its key must
 * verify the signature over the manifest's bytes. When `expectedFingerprint`
 * is given the archived root must be that one (BACKUP_FOREIGN otherwise).
 * Throws BACKUP_SIGNATURE_INVALID, BACKUP_FOREIGN, BACKUP_MALFORMED.
 */
export function verifyManifestSignature(
  manifest: BackupManifest,
  bytes: Buffer,
  signatureFile: Buffer,
  pkiFiles: ReadonlyMap<string, Buffer>,
  expectedFingerprint?: string,
): void {
  const rootPem = pkiFiles.get("pki/root.cert.pem");
  if (rootPem === undefined) throw new GatewayError("BACKUP_SIGNATURE_INVALID", "the archive holds no root certificate (pki/root.cert.pem)");
  let root;
  try {
    root = parseCertificatePem(rootPem.toString("utf8"));
  } catch (cause) {
    throw new GatewayError("BACKUP_SIGNATURE_INVALID", "the archived root certificate does not parse", { cause });
  }
  if (expectedFingerprint !== undefined && normalizeFingerprint(expectedFingerprint) !== root.fingerprint256) {
    throw new GatewayError("BACKUP_FOREIGN", "the archive's root is not the one expected: it is another authority's backup, or another PKI's", {
      details: { expected: normalizeFingerprint(expectedFingerprint), found: root.fingerprint256, authority: manifest.authority },
    });
  }
  if (root.fingerprint256 !== manifest.rootFingerprint) throw new GatewayError("BACKUP_SIGNATURE_INVALID", "the manifest names another root than the archived one");
  const certPem = pkiFiles.get(`pki/certs/log-${manifest.signer.serial}.cert.pem`);
  const crlPem = pkiFiles.get("pki/crl.pem");
  if (certPem === undefined || crlPem === undefined) throw new GatewayError("BACKUP_SIGNATURE_INVALID", "the archive lacks the log certificate that signed it, or the CRL");
  let publicKey: KeyObject;
  try {
    const certificate = parseCertificatePem(certPem.toString("utf8"));
    if (certificate.fingerprint256 !== manifest.signer.fingerprint) throw new GatewayError("BACKUP_SIGNATURE_INVALID", "the archived log certificate is not the one the manifest names");
    publicKey = validateCertificatePath({
      certificate,
      trustedRoot: root,
      crl: crlPem.toString("utf8"),
      use: "log",
      at: new Date(manifest.createdAt),
      expectedAuthority: manifest.authority,
      revocation: "at-signing-time",
    }).certificate.publicKey;
  } catch (error) {
    if (isValiseError(error) && error.code === "BACKUP_SIGNATURE_INVALID") throw error;
    throw new GatewayError("BACKUP_SIGNATURE_INVALID", `the manifest's signer is not a valid log certificate of ${manifest.authority}`, {
      cause: error,
      details: { code: isValiseError(error) ? error.code : "PKI_CERT_PARSE" },
    });
  }
  let file: SignatureFile;
  try {
    file = JSON.parse(signatureFile.toString("utf8")) as SignatureFile;
  } catch {
    throw new GatewayError("BACKUP_SIGNATURE_INVALID", "the signature file is not JSON");
  }
  const signature = typeof file.signature === "string" ? Buffer.from(file.signature, "base64") : Buffer.alloc(0);
  if (file.alg !== "Ed25519" || signature.length !== 64 || !verify(null, bytes, publicKey, signature)) {
    throw new GatewayError("BACKUP_SIGNATURE_INVALID", "the manifest's signature does not verify: the manifest was changed, or signed by another key");
  }
}

function malformed(reason: string): GatewayError {
  return new GatewayError("BACKUP_MALFORMED", `not a Valise backup archive: ${reason}`, { details: { reason } });
}
