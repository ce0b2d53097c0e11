/**
 * The gateway's own key material, read from the home's PKI: the current
 * `sign` key (envelopes, receipts), every usable `encrypt` key (current and
 * previous: an envelope sealed to a rotated key still opens), the `log` key
 * and the `tls` key and certificate. A running gateway keeps it in step with
 * the PKI folder through `LiveIdentity` (gateway/live-identity.ts).
 */
import { readFileSync } from "node:fs";
import type { KeyObject } from "node:crypto";
import type { AuthorityPki, IssuedCertificate } from "../pki/store.js";
import { PkiError } from "../pki/errors.js";
import { parseCertificatePem } from "../pki/certificate.js";
import { jwkThumbprint } from "../pki/keys.js";
import type { LeafUse } from "../pki/profiles.js";
import type { EnvelopeSigner } from "./envelope/seal.js";
import type { DecryptionKey } from "./envelope/open.js";

/** For node:tls: encrypted key PEM + passphrase, certificate chain PEM, own root PEM. */
export interface TlsMaterial {
  readonly key: string;
  readonly passphrase: string;
  readonly cert: string;
  readonly rootPem: string;
}

/** What the gateway signs, decrypts and authenticates with. */
export interface GatewayIdentity {
  readonly authority: string;
  readonly signer: Required<EnvelopeSigner>;
  readonly decryptionKeys: readonly DecryptionKey[];
  /** The current `log` key: signs audit checkpoints and cosignatures. */
  readonly logKey: KeyObject;
  readonly tls: TlsMaterial;
}

/** The certificate a loaded key belongs to. */
export interface CertificateInUse {
  readonly use: LeafUse;
  readonly serial: string;
  readonly notAfter: Date;
}

/**
 * The identity as the PKI folder held it at one moment. A part is undefined
 * when the index has no current certificate of that use (revoked and not yet
 * rotated).
 */
export interface IdentitySnapshot {
  readonly authority: string;
  readonly signer: { readonly signer: Required<EnvelopeSigner>; readonly certificate: CertificateInUse } | undefined;
  readonly decryptionKeys: readonly DecryptionKey[];
  /** The current `encrypt` certificate: the one peers seal to. */
  readonly encrypt: CertificateInUse | undefined;
  readonly log: { readonly key: KeyObject; readonly certificate: CertificateInUse } | undefined;
  readonly tls: { readonly material: TlsMaterial; readonly certificate: CertificateInUse } | undefined;
  /** The JWK thumbprint (`kid`) of every `sign` certificate of the index, revoked ones included, by serial. */
  readonly signerKids: ReadonlyMap<string, string>;
}

function current(pki: AuthorityPki, use: LeafUse): IssuedCertificate | undefined {
  const [first] = pki.certificates(use);
  return first?.status === "current" ? first : undefined;
}

function inUse(issued: IssuedCertificate): CertificateInUse {
  return { use: issued.use, serial: issued.certificate.serial, notAfter: issued.certificate.notAfter };
}

/**
 * Reads and decrypts the identity. `knownKids` (from a previous snapshot)
 * saves recomputing thumbprints. A wrong passphrase fails with
 * `PKI_BAD_PASSPHRASE`.
 */
export async function loadIdentitySnapshot(pki: AuthorityPki, passphrase: string, now: Date, knownKids: ReadonlyMap<string, string> = new Map()): Promise<IdentitySnapshot> {
  const root = pki.rootCertificate();
  const listing = pki.list(now);

  const sign = current(pki, "sign");
  let signer: IdentitySnapshot["signer"];
  if (sign !== undefined) {
    const privateKey = pki.loadPrivateKey("sign", passphrase, sign.certificate.serial);
    signer = { signer: { privateKey, certificates: [sign.certificate, root], kid: await jwkThumbprint(privateKey) }, certificate: inUse(sign) };
  }

  const encrypt = pki
    .certificates("encrypt")
    .filter((issued) => issued.certificate.notAfter.getTime() > now.getTime())
    .map((issued) => pki.loadPrivateKey("encrypt", passphrase, issued.certificate.serial));
  const decryptionKeys = await Promise.all(encrypt.map(async (privateKey) => ({ kid: await jwkThumbprint(privateKey), privateKey })));
  const currentEncrypt = current(pki, "encrypt");

  const logCertificate = current(pki, "log");
  const log = logCertificate === undefined ? undefined : { key: pki.loadPrivateKey("log", passphrase, logCertificate.certificate.serial), certificate: inUse(logCertificate) };

  const tlsCertificate = current(pki, "tls");
  let tls: IdentitySnapshot["tls"];
  if (tlsCertificate !== undefined) {
    const row = listing.find((r) => r.use === "tls" && r.serial === tlsCertificate.certificate.serial);
    if (row === undefined) throw new PkiError("PKI_STORE_CORRUPT", "the tls certificate is missing from the PKI index");
    pki.loadPrivateKey("tls", passphrase, tlsCertificate.certificate.serial); // fails early on a wrong passphrase
    tls = {
      material: { key: readFileSync(row.keyPath, "utf8"), passphrase, cert: tlsCertificate.certificate.pem, rootPem: root.pem },
      certificate: inUse(tlsCertificate),
    };
  }

  const signerKids = new Map<string, string>();
  for (const row of listing.filter((r) => r.use === "sign")) {
    signerKids.set(row.serial, knownKids.get(row.serial) ?? (await jwkThumbprint(parseCertificatePem(readFileSync(row.path, "utf8")).publicKey)));
  }

  return {
    authority: pki.authority,
    signer,
    decryptionKeys,
    encrypt: currentEncrypt === undefined ? undefined : inUse(currentEncrypt),
    log,
    tls,
    signerKids,
  };
}

function missing(use: LeafUse): PkiError {
  return new PkiError("PKI_NO_CURRENT_CERTIFICATE", `No current ${use} certificate; run valise pki rotate ${use}.`, { details: { use } });
}

/**
 * Decrypts the keys the gateway needs, all of them current. A wrong
 * passphrase fails here, at start, with `PKI_BAD_PASSPHRASE`; a use without
 * a current certificate with `PKI_NO_CURRENT_CERTIFICATE`.
 */
export async function loadIdentity(pki: AuthorityPki, passphrase: string, now: Date): Promise<GatewayIdentity> {
  const snapshot = await loadIdentitySnapshot(pki, passphrase, now);
  if (snapshot.signer === undefined) throw missing("sign");
  if (snapshot.log === undefined) throw missing("log");
  if (snapshot.tls === undefined) throw missing("tls");
  return {
    authority: snapshot.authority,
    signer: snapshot.signer.signer,
    decryptionKeys: snapshot.decryptionKeys,
    logKey: snapshot.log.key,
    tls: snapshot.tls.material,
  };
}
