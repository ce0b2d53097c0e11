/**
 * Certificate path validation: the one pure, synchronous check every
 * signature verification, TLS handshake and trust-bundle import goes through.
 *
 * Valise paths are two certificates long: a leaf issued directly by the
 * authority's self-signed root (`pathLen:0`). All inputs except `trustedRoot`
 * and `at` may come from a peer or an attacker (x5c headers, TLS client
 * certificates, bundles), so each check below guards a named threat.
 */
import { PkiError } from "./errors.js";
import { rememberedSignatureCheck } from "./signature-memo.js";
import { authorityOfCertificate } from "./authority.js";
import { matchesUse, parseCertificate } from "./certificate.js";
import type { CertificateInput, ParsedCertificate } from "./certificate.js";
import { isRevoked, parseCrl, untrustedSince, verifyCrl, verifyCrlIssuer } from "./crl.js";
import type { CrlEntry, CrlInput, ParsedCrl } from "./crl.js";
import { allowedKeyAlgorithms, isLeafUse, USAGE_POLICIES } from "./profiles.js";
import type { LeafUse } from "./profiles.js";

/** Extensions Valise understands; any other critical extension makes a certificate unusable (RFC 5280 §4.2). */
const PROCESSED_EXTENSIONS = new Set([
  "2.5.29.14", // subjectKeyIdentifier
  "2.5.29.15", // keyUsage
  "2.5.29.17", // subjectAltName
  "2.5.29.19", // basicConstraints
  "2.5.29.35", // authorityKeyIdentifier
  "2.5.29.37", // extKeyUsage
]);

/** What to validate. */
export interface PathValidationInput {
  /** The end-entity certificate (hostile). */
  certificate: CertificateInput;
  /**
   * Other certificates offered with it (e.g. the rest of an x5c). Valise roots
   * have pathLen 0, so an intermediate never helps: one that sits between
   * leaf and root is refused with `PKI_PATH_LENGTH`; copies of the root are ignored.
   */
  intermediates?: readonly CertificateInput[];
  /** The root pinned for the claimed authority (trusted, from our store or a pinned peer bundle). */
  trustedRoot: CertificateInput;
  /** That root's current CRL (from a peer: hostile until verified here). */
  crl: CrlInput;
  /** The intended use of the leaf. */
  use: LeafUse;
  /** The time at which the path must be valid (e.g. an envelope's `createdAt`, or now). */
  at: Date;
  /** When given, the leaf and root must belong to this authority id. */
  expectedAuthority?: string;
  /**
   * When the CRL must be current (default `at`). Pass the verification time
   * when `at` is a past signing time (e.g. an auditor re-checking an old
   * envelope against today's CRL, whose thisUpdate is later than `at`).
   * Not used when `revocation` is `"at-signing-time"`.
   */
  crlAt?: Date;
  /**
   * How a CRL listing counts (default `"any-listing"`).
   *
   * - `"any-listing"` — the live path (a TLS handshake, an envelope or a
   *   receipt arriving now): the CRL must be current at `crlAt`, and any
   *   listing refuses, whatever its date, because whoever holds a
   *   compromised key can back-date what it signs.
   * - `"at-signing-time"` — history (an auditor re-checking signatures made
   *   in the past): `at` is when the signature was made; the CRL must be
   *   signed by the root but need not be current, and a listing refuses only
   *   a signature made at or after the key became untrusted (its invalidity
   *   date for keyCompromise, else its revocation date: see
   *   `untrustedSince`). A key revoked later leaves earlier signatures valid,
   *   and history keeps verifying after the CRL's nextUpdate. A revocation
   *   the CRL does not list yet is unknown here: give the newest CRL.
   */
  revocation?: "any-listing" | "at-signing-time";
}

/** A validated path. */
export interface ValidatedPath {
  /** The authority id both certificates name in their SAN URI. */
  readonly authority: string;
  readonly certificate: ParsedCertificate;
  readonly root: ParsedCertificate;
  readonly crl: ParsedCrl;
  readonly use: LeafUse;
}

function issuedAndSignedBy(subject: ParsedCertificate, issuer: ParsedCertificate): boolean {
  return rememberedSignatureCheck(subject, issuer, () => {
    try {
      // checkIssued: issuer name, AKI/SKI and issuer key usage; verify: the signature itself.
      return subject.x509.checkIssued(issuer.x509) && subject.x509.verify(issuer.publicKey);
    } catch {
      return false;
    }
  });
}

function assertProcessedExtensions(cert: ParsedCertificate, role: "root" | "leaf"): void {
  if (cert.criticalExtensions.every((oid) => PROCESSED_EXTENSIONS.has(oid))) return;
  const unknown = cert.criticalExtensions.filter((oid) => !PROCESSED_EXTENSIONS.has(oid));
  if (unknown.length > 0) {
    throw new PkiError("PKI_CRITICAL_EXTENSION", `The ${role} certificate carries critical extensions Valise does not process.`, {
      details: { role, oids: unknown },
    });
  }
}

function assertValidAt(cert: ParsedCertificate, role: "root" | "leaf", at: Date): void {
  const time = at.getTime();
  if (time >= cert.notBefore.getTime() && time <= cert.notAfter.getTime()) return; // the usual case: no details to format
  const details = { role, serial: cert.serial, notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString(), at: at.toISOString() };
  if (at.getTime() < cert.notBefore.getTime()) {
    throw new PkiError("PKI_CERT_NOT_YET_VALID", `The ${role} certificate is not yet valid.`, { details });
  }
  if (at.getTime() > cert.notAfter.getTime()) {
    throw new PkiError("PKI_CERT_EXPIRED", `The ${role} certificate has expired.`, { details });
  }
}

function assertTrustedRoot(root: ParsedCertificate): void {
  // A misconfigured or substituted "root" that is not a pathLen-0 CA would let
  // intermediates or leaves pose as trust anchors.
  const problems: string[] = [];
  if (!issuedAndSignedBy(root, root)) problems.push("not self-signed");
  if (!root.isCa) problems.push("not a CA");
  if (root.pathLength !== 0) problems.push("pathLen is not 0");
  if (root.keyUsage === undefined || !root.keyUsage.includes("keyCertSign") || !root.keyUsage.includes("cRLSign")) {
    problems.push("missing keyCertSign/cRLSign");
  }
  if (problems.length > 0) {
    throw new PkiError("PKI_ROOT_INVALID", `The trusted root is unusable: ${problems.join(", ")}.`, { details: { problems } });
  }
}

function authorityOrMismatch(cert: ParsedCertificate, role: "root" | "leaf"): string {
  try {
    return authorityOfCertificate(cert);
  } catch (error) {
    // No (or two) authority URIs: the certificate cannot be bound to one authority.
    throw new PkiError("PKI_AUTHORITY_MISMATCH", `The ${role} certificate does not name exactly one authority.`, {
      cause: error,
      details: { role },
    });
  }
}

function revoked(entry: CrlEntry, at: Date): PkiError {
  return new PkiError("PKI_CERT_REVOKED", "The certificate has been revoked.", {
    details: {
      serial: entry.serial,
      revokedAt: entry.revokedAt.toISOString(),
      reason: entry.reason,
      ...(entry.invalidityDate === undefined ? {} : { invalidSince: entry.invalidityDate.toISOString() }),
      at: at.toISOString(),
    },
  });
}

/**
 * Validates `certificate` for `use` at `at` against `trustedRoot` and its `crl`.
 * Returns the validated path (with the authority id) or throws a `PkiError`:
 * `PKI_CERT_PARSE`/`PKI_CRL_PARSE`, `PKI_ROOT_INVALID`, `PKI_CHAIN_UNTRUSTED`,
 * `PKI_PATH_LENGTH`, `PKI_LEAF_IS_CA`, `PKI_CRITICAL_EXTENSION`,
 * `PKI_CERT_NOT_YET_VALID`, `PKI_CERT_EXPIRED`, `PKI_KEY_ALGORITHM`,
 * `PKI_KEY_USAGE`, `PKI_AUTHORITY_MISMATCH`, `PKI_CRL_BAD_SIGNATURE`,
 * `PKI_CRL_NOT_YET_VALID`, `PKI_CRL_EXPIRED`, `PKI_CERT_REVOKED` (see
 * `revocation` for how a listing counts).
 *
 * @example
 * const { authority } = validateCertificatePath({ certificate: x5c[0], trustedRoot: peer.root, crl: peer.crl, use: "sign", at: createdAt, expectedAuthority: from });
 */
export function validateCertificatePath(input: PathValidationInput): ValidatedPath {
  if (!isLeafUse(input.use)) throw new PkiError("PKI_INVALID_ARGUMENT", `Not a leaf use: ${JSON.stringify(input.use)}.`);
  if (!(input.at instanceof Date) || Number.isNaN(input.at.getTime())) {
    throw new PkiError("PKI_INVALID_ARGUMENT", "`at` must be a valid Date.");
  }
  const at = input.at;
  const leaf = parseCertificate(input.certificate);
  const root = parseCertificate(input.trustedRoot);
  const crl = parseCrl(input.crl);

  assertTrustedRoot(root);
  assertProcessedExtensions(root, "root");

  // Forged or foreign certificate: it must be issued by, and carry a valid
  // signature of, the root pinned for this authority — nothing else is trusted.
  if (!issuedAndSignedBy(leaf, root)) {
    const viaIntermediate = (input.intermediates ?? [])
      .map(parseCertificate)
      .some((ca) => ca.fingerprint256 !== root.fingerprint256 && issuedAndSignedBy(leaf, ca) && issuedAndSignedBy(ca, root));
    if (viaIntermediate) {
      throw new PkiError("PKI_PATH_LENGTH", "The certificate chains through an intermediate CA, which the root's pathLen 0 forbids.");
    }
    throw new PkiError("PKI_CHAIN_UNTRUSTED", "The certificate is not signed by the trusted root.", {
      details: { issuer: leaf.issuer, root: root.subject },
    });
  }

  // A CA (e.g. the root itself) presented as a signer would let the CA key act as a leaf.
  if (leaf.isCa || (leaf.keyUsage ?? []).includes("keyCertSign")) {
    throw new PkiError("PKI_LEAF_IS_CA", "A CA certificate cannot be used as an end-entity certificate.", {
      details: { serial: leaf.serial },
    });
  }
  assertProcessedExtensions(leaf, "leaf");

  // Expired or not-yet-valid keys: a stolen old key, or a pre-dated signature.
  assertValidAt(root, "root", at);
  assertValidAt(leaf, "leaf", at);

  // Key confusion: a key issued for one purpose (TLS, log, encryption) must
  // not be accepted for another; usages must equal the profile exactly.
  if (leaf.keyAlgorithm === undefined || !allowedKeyAlgorithms(input.use).includes(leaf.keyAlgorithm)) {
    throw new PkiError("PKI_KEY_ALGORITHM", `The certificate's key algorithm is not allowed for ${input.use}.`, {
      details: { use: input.use, keyAlgorithm: leaf.keyAlgorithm ?? leaf.publicKey.asymmetricKeyType ?? "unknown" },
    });
  }
  if (!matchesUse(leaf, input.use)) {
    throw new PkiError("PKI_KEY_USAGE", `The certificate is not a ${input.use} certificate.`, {
      details: {
        use: input.use,
        expected: USAGE_POLICIES[input.use],
        keyUsage: leaf.keyUsage ?? null,
        extendedKeyUsage: leaf.extendedKeyUsage ?? null,
      },
    });
  }

  // Impersonation: the SAN URI, not the CN, binds a key to an authority; the
  // leaf, its root and the authority the caller expects must all agree.
  const rootAuthority = authorityOrMismatch(root, "root");
  const authority = authorityOrMismatch(leaf, "leaf");
  if (authority !== rootAuthority) {
    throw new PkiError("PKI_AUTHORITY_MISMATCH", "The certificate names another authority than its root.", {
      details: { certificate: authority, root: rootAuthority },
    });
  }
  if (input.expectedAuthority !== undefined && authority !== input.expectedAuthority) {
    throw new PkiError("PKI_AUTHORITY_MISMATCH", "The certificate belongs to another authority than expected.", {
      details: { certificate: authority, expected: input.expectedAuthority },
    });
  }

  // Revocation: a forged or stale CRL could hide a revoked (compromised) key.
  if (input.revocation === "at-signing-time") {
    // History: the signing time `at` is judged against the date from which
    // the key was untrusted; the CRL's age does not matter, only its signature.
    const verifiedCrl = verifyCrlIssuer(crl, root);
    const entry = isRevoked(verifiedCrl, leaf.serial);
    if (entry !== undefined && at.getTime() >= untrustedSince(entry).getTime()) {
      throw revoked(entry, at);
    }
    return { authority, certificate: leaf, root, crl: verifiedCrl, use: input.use };
  }
  // Live: any listing counts, whatever its date — a compromised key may have
  // signed with a back-dated time.
  const crlAt = input.crlAt ?? at;
  if (!(crlAt instanceof Date) || Number.isNaN(crlAt.getTime())) throw new PkiError("PKI_INVALID_ARGUMENT", "`crlAt` must be a valid Date.");
  const verifiedCrl = verifyCrl(crl, root, crlAt);
  const entry = isRevoked(verifiedCrl, leaf.serial);
  if (entry !== undefined) throw revoked(entry, at);
  return { authority, certificate: leaf, root, crl: verifiedCrl, use: input.use };
}
