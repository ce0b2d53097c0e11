/**
 * Stable error codes of the PKI layer.
 *
 * Every failure in `pki/` is a {@link PkiError} whose `code` is a key of
 * {@link PKI_ERRORS}. Codes are part of the public contract: operators' scripts
 * and tests match on them, never on messages. Only the gateway maps codes to
 * HTTP status and CLI exit codes (see `gateway/errors.ts`).
 */
export const PKI_ERRORS = {
  PKI_INVALID_AUTHORITY_ID: "The authority id does not match ^[A-Z]{2}(-[A-Z0-9]{2,16}){1,3}$.",
  PKI_INVALID_ARGUMENT: "An argument to a PKI operation is malformed.",
  PKI_AUTHORITY_URI: "The certificate carries no, or more than one, urn:valise:authority SAN URI.",
  PKI_PASSPHRASE_MISSING: "A passphrase is required to encrypt or decrypt a private key and none was given.",
  PKI_BAD_PASSPHRASE: "The passphrase does not decrypt the private key.",
  PKI_KEY_EXISTS: "A key file already exists at that path; refusing to overwrite it without force.",
  PKI_KEY_INVALID: "The private key is malformed or of an algorithm Valise does not use.",
  PKI_CERT_PARSE: "The certificate is not a well-formed DER/PEM X.509 certificate.",
  PKI_CRL_PARSE: "The CRL is not a well-formed DER/PEM X.509 v2 CRL.",
  PKI_CRL_BAD_SIGNATURE: "The CRL is not signed by the trusted root, or its issuer is not that root.",
  PKI_CRL_NOT_YET_VALID: "The CRL's thisUpdate is later than the validation time.",
  PKI_CRL_EXPIRED: "The CRL's nextUpdate has passed (or it has none): revocation status is unknown.",
  PKI_ROOT_INVALID: "The trusted root is not a self-signed CA with pathLen 0, keyCertSign and cRLSign.",
  PKI_CHAIN_UNTRUSTED: "The certificate is not issued and signed by the trusted root.",
  PKI_PATH_LENGTH: "The path holds an intermediate CA, which the root's pathLen 0 forbids.",
  PKI_LEAF_IS_CA: "A CA certificate was presented where an end-entity certificate is required.",
  PKI_CRITICAL_EXTENSION: "The certificate carries a critical extension Valise does not process.",
  PKI_CERT_NOT_YET_VALID: "A certificate of the path is not yet valid at the validation time.",
  PKI_CERT_EXPIRED: "A certificate of the path has expired at the validation time.",
  PKI_KEY_USAGE: "The certificate's key usage / extended key usage does not match the intended use.",
  PKI_KEY_ALGORITHM: "The certificate's public key algorithm is not allowed for the intended use.",
  PKI_AUTHORITY_MISMATCH: "The authority URI of the certificate differs from the root's or from the expected authority.",
  PKI_CERT_REVOKED: "The certificate is listed as revoked on the root's CRL.",
  PKI_EXISTS: "An authority PKI already exists in that folder; refusing to overwrite it without force.",
  PKI_NOT_FOUND: "No authority PKI (index.json) in that folder.",
  PKI_STORE_CORRUPT: "The PKI folder's index or files are inconsistent or unreadable.",
  PKI_UNKNOWN_SERIAL: "No certificate with that serial was issued by this authority.",
  PKI_ALREADY_REVOKED: "That certificate is already revoked.",
  PKI_ROOT_NOT_REVOCABLE: "The root certificate cannot be revoked through its own CRL; create a new PKI instead.",
  PKI_NO_CURRENT_CERTIFICATE: "There is no current (unrevoked) certificate for that use; rotate to issue one.",
  PKI_BUNDLE_SCHEMA: "The trust bundle file, header or payload does not match schemas/trust-bundle.schema.json, or its contents are inconsistent.",
  PKI_BUNDLE_ALGORITHM: "The trust bundle's JWS algorithm is not one of EdDSA, ES256, ES384.",
  PKI_BUNDLE_SIGNATURE: "The trust bundle's JWS does not verify, or its signer is not a valid sign certificate of the bundle's root.",
  PKI_FINGERPRINT_MISMATCH: "The bundle's root does not match the SHA-256 fingerprint (or pinned root) given out of band.",
  PKI_BUNDLE_STALE: "The bundle is older than (or its CRL precedes) the one already stored for that peer.",
  PKI_PEER_EXISTS: "That authority is already a peer; use update instead.",
  PKI_PEER_ROOT_CONFLICT: "That authority id is already bound to a peer with another root.",
  PKI_PEER_UNKNOWN: "No peer with that authority id.",
  PKI_PKCS12: "The PKCS#12 file could not be built from the given certificate and key.",
} as const;

/** One of the PKI layer's stable error codes. */
export type PkiErrorCode = keyof typeof PKI_ERRORS;

/** Options carried by every Valise error. */
export interface ValiseErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** Machine-readable context (never secrets, never document content). */
  details?: Record<string, unknown>;
}

/**
 * A registry-wide brand: a module may be loaded twice (the CLI loads its
 * commands with import(), which under a CommonJS loader such as the tests'
 * gives them their own copy of this module), and an error of one copy is not
 * an `instanceof` the other's class.
 */
const VALISE_ERROR_BRAND = Symbol.for("valise.error");

/**
 * Base of every Valise error: a stable string `code`, a human message, and
 * optional `details`. Layers subclass it with their own code registry.
 */
export class ValiseError extends Error {
  override name = "ValiseError";
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  /** The brand {@link isValiseError} recognises across copies of this module. */
  readonly [VALISE_ERROR_BRAND] = true;

  constructor(code: string, message: string, options: ValiseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }
}

/** An error raised by `pki/`, with a code from {@link PKI_ERRORS}. */
export class PkiError extends ValiseError {
  override name = "PkiError";
  declare readonly code: PkiErrorCode;

  constructor(code: PkiErrorCode, message: string, options: ValiseErrorOptions = {}) {
    super(code, message, options);
  }
}

/** True when `value` is a Valise error (of any layer). */
export function isValiseError(value: unknown): value is ValiseError {
  return value instanceof ValiseError || (value instanceof Error && (value as unknown as Record<symbol, unknown>)[VALISE_ERROR_BRAND] === true);
}
