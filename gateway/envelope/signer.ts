/**
 * Who signed a JWS layer: the `x5c` certificate checked against the claimed
 * authority's trusted root and CRL, and the header's `kid` and `alg` checked
 * against that certificate's key.
 *
 * The `x5c`, `kid` and `alg` are attacker-controlled: a forger would put the
 * certificate of a key they hold, or of another authority, or a revoked one,
 * and a `kid` that points the reader elsewhere. Only the trust material given
 * by the caller decides.
 */
import type { KeyObject } from "node:crypto";
import { authorityOfCertificate } from "../../pki/authority.js";
import { parseCertificate, parseCertificateDer, type CertificateInput, type ParsedCertificate } from "../../pki/certificate.js";
import type { CrlInput } from "../../pki/crl.js";
import { isValiseError } from "../../pki/errors.js";
import { jwkThumbprint } from "../../pki/keys.js";
import { validateCertificatePath } from "../../pki/path.js";
import { GatewayError, type GatewayErrorCode } from "../errors.js";
import { signingAlgorithmFor, type SigningAlgorithm } from "./algorithms.js";
import type { SignerIdentity } from "./types.js";

/** Trust material of one peer authority: its root and its current CRL. */
export interface AuthorityTrust {
  readonly root: CertificateInput;
  readonly crl: CrlInput;
}

/** A signer certificate that passed every check. */
export interface VerifiedSigner {
  readonly identity: SignerIdentity;
  readonly publicKey: KeyObject;
  readonly certificate: ParsedCertificate;
}

/** Which layer is being checked: picks the error codes. */
export type SignerLayer = "outer" | "inner" | "receipt";

/** Where and when the signer must be valid. */
export interface SignerContext {
  /** The authority the signature claims to come from (routing `from`, or the receipt's `to`). */
  readonly authority: string;
  readonly trust: AuthorityTrust;
  /** Time at which the certificate must be valid (the envelope's createdAt). */
  readonly at: Date;
  /**
   * Time at which the CRL must be current: the time of checking. A CRL issued
   * after `at` still says whether the certificate is revoked now.
   */
  readonly crlAt: Date;
  /**
   * How a revocation counts (see `validateCertificatePath`): any listing on
   * a current CRL (default, the live path), or only a key untrusted by `at`
   * (an auditor judging a signature of the past; `crlAt` unused).
   */
  readonly revocation?: "any-listing" | "at-signing-time";
  readonly layer: SignerLayer;
  /**
   * Signer certificates already validated, by base64 DER, to skip re-parsing
   * (parsing dominates the cost of opening). Only certificates that passed
   * path validation are added, so a hostile peer cannot grow it; validation
   * itself (chain, time, CRL) still runs every time.
   */
  readonly parsedCertificates?: Map<string, ParsedCertificate>;
}

const ENVELOPE_CODES: Readonly<Record<string, GatewayErrorCode>> = {
  PKI_CERT_REVOKED: "ENVELOPE_SIGNER_REVOKED",
  PKI_CERT_EXPIRED: "ENVELOPE_SIGNER_EXPIRED",
  PKI_CERT_NOT_YET_VALID: "ENVELOPE_SIGNER_EXPIRED",
  PKI_KEY_USAGE: "ENVELOPE_SIGNER_KEY_USAGE",
  PKI_LEAF_IS_CA: "ENVELOPE_SIGNER_KEY_USAGE",
  PKI_KEY_ALGORITHM: "ENVELOPE_SIGNER_KEY_USAGE",
  PKI_AUTHORITY_MISMATCH: "ENVELOPE_SIGNER_AUTHORITY",
  PKI_AUTHORITY_URI: "ENVELOPE_SIGNER_AUTHORITY",
};

/**
 * Check the `x5c` chain (signer first) of a JWS against `context`, and the
 * header's `kid` and `alg` against the signer's key.
 *
 * @throws GatewayError — for envelopes `ENVELOPE_MALFORMED` (unparsable
 *   certificate), `ENVELOPE_SIGNER_AUTHORITY` (outer) or
 *   `ENVELOPE_INNER_SIGNER_MISMATCH` (inner) for a certificate of another
 *   authority, `ENVELOPE_SIGNER_REVOKED`, `ENVELOPE_SIGNER_EXPIRED`,
 *   `ENVELOPE_SIGNER_KEY_USAGE`, `ENVELOPE_SIGNER_UNTRUSTED` (any other path
 *   failure, PKI code in `details.pkiCode`), `ENVELOPE_KID_MISMATCH`,
 *   `ENVELOPE_ALG_NOT_ALLOWED` (alg not that of the key); for receipts
 *   `RECEIPT_MALFORMED` or `RECEIPT_SIGNER_UNTRUSTED` (with `details.pkiCode`).
 */
export async function verifySigner(
  x5c: readonly Uint8Array[],
  kid: unknown,
  alg: SigningAlgorithm,
  context: SignerContext,
): Promise<VerifiedSigner> {
  const [leafDer, ...rest] = x5c;
  if (leafDer === undefined) throw fail(context, "MALFORMED", "x5c is empty.");
  const cacheKey = Buffer.from(leafDer).toString("base64");
  let certificate: ParsedCertificate;
  let intermediates: ParsedCertificate[];
  try {
    certificate = context.parsedCertificates?.get(cacheKey) ?? parseCertificateDer(leafDer);
    // A copy of the pinned root adds nothing (and costs a parse); anything
    // else is handed to path validation, which refuses intermediates.
    const rootDer = parseCertificate(context.trust.root).der;
    intermediates = rest.filter((der) => !rootDer.equals(der)).map((der) => parseCertificateDer(der));
  } catch (cause) {
    throw fail(context, "MALFORMED", "An x5c certificate does not parse.", cause);
  }

  // Authority first, so a certificate of another authority is named as such
  // whatever else is wrong with its path.
  let authority: string | undefined;
  try {
    authority = authorityOfCertificate(certificate);
  } catch {
    authority = undefined;
  }
  if (authority !== context.authority) {
    throw fail(context, "AUTHORITY", `The signer certificate is not one of ${context.authority}.`, undefined, {
      expected: context.authority,
      actual: authority ?? null,
    });
  }

  try {
    validateCertificatePath({
      certificate,
      intermediates,
      trustedRoot: context.trust.root,
      crl: context.trust.crl,
      use: "sign",
      at: context.at,
      crlAt: context.crlAt,
      ...(context.revocation === undefined ? {} : { revocation: context.revocation }),
      expectedAuthority: context.authority,
    });
  } catch (cause) {
    if (!isValiseError(cause)) throw cause;
    throw mapPathError(context, cause.code, cause);
  }
  context.parsedCertificates?.set(cacheKey, certificate);

  const thumbprint = await jwkThumbprint(certificate.publicKey);
  if (kid !== thumbprint) {
    throw fail(context, "KID", "The header kid is not the thumbprint of the x5c certificate's key.");
  }
  if (signingAlgorithmFor(certificate.publicKey) !== alg) {
    // Algorithm confusion: the header may not pick an algorithm the key was not made for.
    throw fail(context, "ALG", `The header alg ${alg} does not match the signer's key.`);
  }
  return {
    identity: { authority, kid: thumbprint, fingerprint: certificate.fingerprint256 },
    publicKey: certificate.publicKey,
    certificate,
  };
}

type Failure = "MALFORMED" | "AUTHORITY" | "KID" | "ALG" | "UNTRUSTED";

function mapPathError(context: SignerContext, pkiCode: string, cause: unknown): GatewayError {
  const details = { pkiCode, layer: context.layer };
  if (context.layer === "receipt") {
    return new GatewayError("RECEIPT_SIGNER_UNTRUSTED", "The receipt signer certificate is not trusted.", { cause, details });
  }
  let code = ENVELOPE_CODES[pkiCode] ?? "ENVELOPE_SIGNER_UNTRUSTED";
  if (code === "ENVELOPE_SIGNER_AUTHORITY" && context.layer === "inner") code = "ENVELOPE_INNER_SIGNER_MISMATCH";
  return new GatewayError(code, `The ${context.layer} signer certificate is not valid (${pkiCode}).`, { cause, details });
}

function fail(
  context: SignerContext,
  failure: Failure,
  message: string,
  cause?: unknown,
  extra: Record<string, unknown> = {},
): GatewayError {
  const details = { layer: context.layer, ...extra };
  const options = cause === undefined ? { details } : { cause, details };
  if (context.layer === "receipt") {
    const code: GatewayErrorCode = failure === "MALFORMED" ? "RECEIPT_MALFORMED" : "RECEIPT_SIGNER_UNTRUSTED";
    return new GatewayError(code, message, options);
  }
  const codes: Record<Failure, GatewayErrorCode> = {
    MALFORMED: "ENVELOPE_MALFORMED",
    AUTHORITY: context.layer === "inner" ? "ENVELOPE_INNER_SIGNER_MISMATCH" : "ENVELOPE_SIGNER_AUTHORITY",
    KID: "ENVELOPE_KID_MISMATCH",
    ALG: "ENVELOPE_ALG_NOT_ALLOWED",
    UNTRUSTED: "ENVELOPE_SIGNER_UNTRUSTED",
  };
  return new GatewayError(codes[failure], message, options);
}
