/**
 * Certificate revocation lists: a v2 CRL signed by the root (CRL number,
 * thisUpdate/nextUpdate, entries with reason), parsed and checked synchronously.
 */
import crypto from "node:crypto";
import { PkiError } from "./errors.js";
import { normalizeSerial, pemBlocks, parseCertificate } from "./certificate.js";
import type { CertificateInput, Issuer, ParsedCertificate } from "./certificate.js";
import { rawSubjectOfCertificate, splitSignedStructure } from "./der-structure.js";
import { rememberedSignatureCheck } from "./signature-memo.js";
import { keyAlgorithmOf } from "./keys.js";
import { peculiar, signingAlgorithmOf, toSigningCryptoKey, webCrypto } from "./x509-provider.js";
import type * as X509 from "@peculiar/x509";

/** Largest CRL accepted, in DER bytes. */
export const MAX_CRL_BYTES = 1024 * 1024;

/** Default CRL lifetime: a fresh CRL is due every 7 days. */
export const DEFAULT_CRL_VALIDITY_MS = 7 * 24 * 60 * 60 * 1000;

/** RFC 5280 CRLReason names. */
export const REVOCATION_REASONS = [
  "unspecified",
  "keyCompromise",
  "cACompromise",
  "affiliationChanged",
  "superseded",
  "cessationOfOperation",
  "certificateHold",
  "removeFromCRL",
  "privilegeWithdrawn",
  "aACompromise",
] as const;

/** A CRLReason name. */
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

/** One revoked certificate. */
export interface CrlEntry {
  /** Normalised serial (see `normalizeSerial`). */
  readonly serial: string;
  readonly revokedAt: Date;
  readonly reason: RevocationReason;
  /**
   * RFC 5280 §5.3.2 invalidity date: since when the key is known or suspected
   * to be compromised (written for `keyCompromise`; may precede `revokedAt`).
   */
  readonly invalidityDate?: Date;
}

/** A parsed CRL. Signature and issuer are NOT checked by parsing: see {@link verifyCrl}. */
export interface ParsedCrl {
  readonly der: Buffer;
  /** PEM (`-----BEGIN X509 CRL-----`), regenerated from `der`. */
  readonly pem: string;
  /** Issuer DN as a string. */
  readonly issuer: string;
  /** The CRL number extension, if present. */
  readonly crlNumber: number | undefined;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly entries: readonly CrlEntry[];
  /** Raw DER of the issuer Name (compared byte for byte with the root's subject). */
  readonly issuerDer: Buffer;
  /** The signed TBSCertList bytes, the signature algorithm OID and the signature. */
  readonly tbs: Buffer;
  readonly signatureAlgorithmOid: string;
  readonly signature: Buffer;
}

/** A CRL given as parsed, PEM text or DER bytes. */
export type CrlInput = ParsedCrl | string | Uint8Array;

let reasonCodes: Record<RevocationReason, X509.X509CrlReason> | undefined;

/** RFC 5280 reason codes by name (built on first use: @peculiar/x509 is loaded lazily). */
function reasonCode(reason: RevocationReason): X509.X509CrlReason {
  if (reasonCodes === undefined) {
    const { X509CrlReason } = peculiar().x509;
    reasonCodes = {
      unspecified: X509CrlReason.unspecified,
      keyCompromise: X509CrlReason.keyCompromise,
      cACompromise: X509CrlReason.cACompromise,
      affiliationChanged: X509CrlReason.affiliationChanged,
      superseded: X509CrlReason.superseded,
      cessationOfOperation: X509CrlReason.cessationOfOperation,
      certificateHold: X509CrlReason.certificateHold,
      removeFromCRL: X509CrlReason.removeFromCRL,
      privilegeWithdrawn: X509CrlReason.privilegeWithdrawn,
      aACompromise: X509CrlReason.aACompromise,
    };
  }
  return reasonCodes[reason];
}

function reasonName(code: X509.X509CrlReason | undefined): RevocationReason {
  if (code === undefined) return "unspecified";
  const found = REVOCATION_REASONS.find((name) => reasonCode(name) === code);
  return found ?? "unspecified";
}

/** Options of {@link createCrl}. */
export interface CreateCrlOptions {
  /** The root certificate and key. */
  issuer: Issuer;
  /** Monotonic CRL number. */
  crlNumber: number;
  entries: readonly CrlEntry[];
  /** Default `new Date()`; thisUpdate is backdated 5 minutes for peers with slow clocks. */
  now?: Date;
  thisUpdate?: Date;
  /** Default thisUpdate + 7 days. */
  nextUpdate?: Date;
}

/** Creates and signs a v2 CRL (CRL number and AKI extensions, reason per entry). */
export async function createCrl(options: CreateCrlOptions): Promise<ParsedCrl> {
  if (!Number.isSafeInteger(options.crlNumber) || options.crlNumber < 0) {
    throw new PkiError("PKI_INVALID_ARGUMENT", "crlNumber must be a non-negative integer.");
  }
  const algorithm = keyAlgorithmOf(options.issuer.privateKey);
  if (algorithm === undefined || algorithm === "X25519") throw new PkiError("PKI_KEY_INVALID", "A CRL signing key must be Ed25519, P-256 or P-384.");
  const now = options.now ?? new Date();
  const thisUpdate = new Date(Math.floor((options.thisUpdate ?? new Date(now.getTime() - 5 * 60 * 1000)).getTime() / 1000) * 1000);
  const nextUpdate = options.nextUpdate ?? new Date(thisUpdate.getTime() + DEFAULT_CRL_VALIDITY_MS);
  const root = options.issuer.certificate;
  const { x509, asn1Schema, asn1X509 } = peculiar();
  const { AsnConvert } = asn1Schema;
  const { CRLNumber, id_ce_cRLNumber } = asn1X509;
  const extensions: X509.Extension[] = [
    new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(new CRLNumber(options.crlNumber))),
  ];
  if (root.subjectKeyId !== undefined) extensions.push(new x509.AuthorityKeyIdentifierExtension(root.subjectKeyId, false));
  const crl = await x509.X509CrlGenerator.create(
    {
      issuer: new x509.X509Certificate(root.der).subjectName,
      thisUpdate,
      nextUpdate,
      signingAlgorithm: signingAlgorithmOf(algorithm),
      signingKey: await toSigningCryptoKey(options.issuer.privateKey, algorithm),
      extensions,
      entries: options.entries.map((entry) => ({
        serialNumber: normalizeSerial(entry.serial),
        revocationDate: entry.revokedAt,
        reason: reasonCode(entry.reason),
        ...(entry.invalidityDate === undefined ? {} : { invalidity: entry.invalidityDate }),
      })),
    },
    webCrypto,
  );
  return parseCrlDer(new Uint8Array(crl.rawData));
}

/** Parses a DER CRL. Throws `PKI_CRL_PARSE` on anything malformed (CRLs come from peers: hostile). */
export function parseCrlDer(der: Uint8Array): ParsedCrl {
  if (!(der instanceof Uint8Array) || der.length === 0 || der.length > MAX_CRL_BYTES) {
    throw new PkiError("PKI_CRL_PARSE", `A CRL must be 1..${MAX_CRL_BYTES} DER bytes.`);
  }
  const bytes = Buffer.from(der);
  try {
    const structure = splitSignedStructure(bytes);
    // TBSCertList: version (v2 = INTEGER 1, required here), signature, issuer, thisUpdate, nextUpdate?, …
    const [version, innerAlgorithm, issuerDer] = structure.tbsElements;
    if (version === undefined || !version.equals(Buffer.from([0x02, 0x01, 0x01]))) throw new Error("not a v2 CRL");
    if (innerAlgorithm === undefined || !innerAlgorithm.equals(structure.signatureAlgorithm)) {
      throw new Error("inner and outer signature algorithms differ");
    }
    if (issuerDer === undefined) throw new Error("no issuer");
    const { x509, asn1Schema, asn1X509 } = peculiar();
    const { AsnConvert } = asn1Schema;
    const { CRLNumber, id_ce_cRLNumber } = asn1X509;
    const crl = new x509.X509Crl(bytes);
    const numberExtension = crl.getExtension(id_ce_cRLNumber);
    const crlNumber =
      numberExtension === null ? undefined : AsnConvert.parse(numberExtension.value, CRLNumber).value;
    return {
      der: bytes,
      pem: pemOfCrl(bytes),
      issuer: crl.issuer,
      crlNumber,
      thisUpdate: crl.thisUpdate,
      nextUpdate: crl.nextUpdate,
      entries: crl.entries.map((entry) => {
        const invalidityDate = entry.invalidity;
        return {
          serial: normalizeSerial(entry.serialNumber),
          revokedAt: entry.revocationDate,
          reason: reasonName(entry.reason),
          ...(invalidityDate === undefined ? {} : { invalidityDate }),
        };
      }),
      issuerDer,
      tbs: structure.tbs,
      signatureAlgorithmOid: structure.signatureAlgorithmOid,
      signature: structure.signature,
    };
  } catch (error) {
    if (error instanceof PkiError) throw error;
    throw new PkiError("PKI_CRL_PARSE", "The CRL is not a well-formed X.509 v2 CRL.", { cause: error });
  }
}

function pemOfCrl(der: Buffer): string {
  return `-----BEGIN X509 CRL-----\n${der.toString("base64").replace(/.{1,64}/g, "$&\n")}-----END X509 CRL-----\n`;
}

/** Parses a PEM holding exactly one CRL (`X509 CRL` label). */
export function parseCrlPem(pem: string): ParsedCrl {
  const blocks = pemBlocks(pem, "X509 CRL");
  if (blocks.length !== 1) throw new PkiError("PKI_CRL_PARSE", `Expected exactly one PEM CRL, found ${blocks.length}.`);
  return parseCrlDer(blocks[0] as Buffer);
}

/** A CRL given as parsed, PEM or DER → parsed. */
export function parseCrl(input: CrlInput): ParsedCrl {
  if (typeof input === "string") return parseCrlPem(input);
  if (input instanceof Uint8Array) return parseCrlDer(input);
  return input;
}

const DIGEST_OF_SIGNATURE_OID: Record<string, { digest: string | null; key: string }> = {
  "1.3.101.112": { digest: null, key: "Ed25519" },
  "1.2.840.10045.4.3.2": { digest: "sha256", key: "P-256" },
  "1.2.840.10045.4.3.3": { digest: "sha384", key: "P-384" },
};

function verifyCrlSignature(crl: ParsedCrl, root: ParsedCertificate): boolean {
  const scheme = DIGEST_OF_SIGNATURE_OID[crl.signatureAlgorithmOid];
  // Algorithm confusion: only the algorithm that matches the root's key type is tried.
  if (scheme === undefined || scheme.key !== root.keyAlgorithm) return false;
  try {
    return crypto.verify(scheme.digest, crl.tbs, root.publicKey, crl.signature);
  } catch {
    return false;
  }
}

/**
 * Checks, synchronously, that the CRL is issued and signed by `root` and
 * current at `now`. Throws `PKI_CRL_BAD_SIGNATURE` (forged CRL, or one of
 * another authority: it could hide a revocation), `PKI_CRL_NOT_YET_VALID`,
 * `PKI_CRL_EXPIRED` (a stale CRL may omit recent revocations: replay threat;
 * a CRL without nextUpdate is treated as expired).
 */
export function verifyCrl(crlInput: CrlInput, rootInput: CertificateInput, now: Date): ParsedCrl {
  const crl = verifyCrlIssuer(crlInput, rootInput);
  if (crl.thisUpdate.getTime() > now.getTime()) {
    throw new PkiError("PKI_CRL_NOT_YET_VALID", "The CRL is not yet valid.", {
      details: { thisUpdate: crl.thisUpdate.toISOString(), at: now.toISOString() },
    });
  }
  if (crl.nextUpdate === undefined || crl.nextUpdate.getTime() <= now.getTime()) {
    throw new PkiError("PKI_CRL_EXPIRED", "The CRL has expired; a fresh one is needed.", {
      details: { nextUpdate: crl.nextUpdate?.toISOString() ?? null, at: now.toISOString() },
    });
  }
  return crl;
}

/**
 * Checks, synchronously, only that the CRL is issued and signed by `root`,
 * whatever its dates: what an auditor judging past signatures needs (a CRL
 * is a signed record of the revocations known when it was issued, and stays
 * one after its nextUpdate). Live checks use {@link verifyCrl}.
 * Throws `PKI_CRL_BAD_SIGNATURE`.
 */
export function verifyCrlIssuer(crlInput: CrlInput, rootInput: CertificateInput): ParsedCrl {
  const crl = parseCrl(crlInput);
  const root = parseCertificate(rootInput);
  if (root.keyUsage === undefined || !root.keyUsage.includes("cRLSign")) {
    throw new PkiError("PKI_CRL_BAD_SIGNATURE", "The root may not sign CRLs (no cRLSign key usage).");
  }
  if (!rememberedSignatureCheck(crl, root, () => crl.issuerDer.equals(rawSubjectOfCertificate(root.der)))) {
    throw new PkiError("PKI_CRL_BAD_SIGNATURE", "The CRL's issuer is not the trusted root.", {
      details: { crlIssuer: crl.issuer, root: root.subject },
    });
  }
  if (!rememberedSignatureCheck(crl.signature, root, () => verifyCrlSignature(crl, root))) {
    throw new PkiError("PKI_CRL_BAD_SIGNATURE", "The CRL's signature does not verify with the trusted root's key.");
  }
  return crl;
}

/**
 * From when a revoked key's signatures are no longer trusted: its invalidity
 * date when the reason is `keyCompromise` (the key may have been in other
 * hands since then, before anyone revoked it), otherwise its revocation date.
 * An invalidity date after the revocation date counts as the revocation date.
 */
export function untrustedSince(entry: CrlEntry): Date {
  if (entry.reason === "keyCompromise" && entry.invalidityDate !== undefined && entry.invalidityDate.getTime() < entry.revokedAt.getTime()) {
    return entry.invalidityDate;
  }
  return entry.revokedAt;
}

/** The CRL entry for `serial` (any notation), or `undefined` when not listed. */
export function isRevoked(crl: CrlInput, serial: string): CrlEntry | undefined {
  const wanted = normalizeSerial(serial);
  return parseCrl(crl).entries.find((entry) => entry.serial === wanted);
}
