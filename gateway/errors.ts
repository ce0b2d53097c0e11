/**
 * Stable error codes of the gateway layer, and the one place where any
 * Valise error code (gateway or PKI) is mapped to an HTTP status and a CLI
 * exit code.
 */
import { ValiseError, type ValiseErrorOptions } from "../pki/errors.js";

/** Gateway error codes with a one-line description each. */
export const GATEWAY_ERRORS = {
  CONFIG_INVALID: "The gateway configuration file is missing or does not match its schema.",
  HOME_EXISTS: "The gateway home already exists; pass --force to overwrite.",
  HOME_NOT_FOUND: "No gateway home at the given path (use --home or VALISE_HOME).",
  USAGE: "The command line is malformed.",
  STORE_CORRUPT: "The gateway database cannot be opened or is not a Valise database.",
  STORE_SCHEMA_TOO_NEW: "The gateway database was written by a newer Valise.",
  TOKEN_UNKNOWN: "No token with that id.",
  TOKEN_ALREADY_REVOKED: "The token was already revoked.",
  PEER_UNKNOWN: "The authority is not a peer of this gateway.",
  PEER_TLS_IDENTITY: "The peer's TLS certificate is not a valid tls certificate of a known peer.",
  PEER_UNREACHABLE: "The peer gateway could not be reached or answered with an error.",
  CASE_CONFLICT: "A case with this id already exists.",
  CASE_UNKNOWN: "No such case (or not one shared with the caller).",
  REQUEST_MALFORMED: "The HTTP request body is not valid JSON or was cut short.",
  REQUEST_TOO_LARGE: "The HTTP request body exceeds the size limit.",
  UNAUTHENTICATED: "No valid bearer token was presented.",
  FORBIDDEN: "The token's role does not allow this operation.",
  NOT_FOUND: "No such resource.",
  INTERNAL: "An unexpected internal error.",
  // Envelope layer (gateway/envelope/).
  CANONICAL_JSON_UNSUPPORTED: "A value cannot be written as RFC 8785 canonical JSON (non-finite number, undefined, function, lone surrogate, non-plain object, cycle).",
  ENVELOPE_INVALID_ARGUMENT: "An argument to seal or open an envelope is malformed (unsupported key type, missing certificate, bad id).",
  ENVELOPE_MALFORMED: "The envelope is not a well-formed three-layer Valise envelope (wrong shape, parts, base64url or JSON).",
  ENVELOPE_TOO_LARGE: "The envelope or one of its headers exceeds the configured size limit.",
  ENVELOPE_ALG_NOT_ALLOWED: "A JOSE header names an algorithm outside the allow-list (EdDSA, ES256, ES384; ECDH-ES+A256KW with A256GCM).",
  ENVELOPE_UNKNOWN_SENDER: "No trust material is configured for the envelope's sender authority.",
  ENVELOPE_SIGNER_UNTRUSTED: "The signer certificate does not chain to the sender's trusted root.",
  ENVELOPE_SIGNER_REVOKED: "The signer certificate is revoked by the sender's CRL.",
  ENVELOPE_SIGNER_EXPIRED: "The signer certificate was not valid at the envelope's createdAt.",
  ENVELOPE_SIGNER_KEY_USAGE: "The signer certificate is not a signing certificate.",
  ENVELOPE_SIGNER_AUTHORITY: "The signer certificate belongs to another authority than the envelope's sender.",
  ENVELOPE_BAD_SIGNATURE: "A signature of the envelope (outer or inner) does not verify.",
  ENVELOPE_WRONG_RECIPIENT: "The envelope is addressed to another authority.",
  ENVELOPE_TLS_IDENTITY: "The TLS client authority differs from the envelope's sender.",
  ENVELOPE_EID_MISMATCH: "The envelope id differs between the routing header and the eid of a layer.",
  ENVELOPE_CLOCK_SKEW: "The envelope's createdAt is outside the allowed clock skew.",
  ENVELOPE_REPLAY: "An envelope with this id was already received with different bytes.",
  ENVELOPE_DECRYPT_FAILED: "The envelope cannot be decrypted (no key with that kid, or the ciphertext does not authenticate).",
  ENVELOPE_KID_MISMATCH: "The kid of a header is not the JWK thumbprint of the key it names.",
  ENVELOPE_INNER_SIGNER_MISMATCH: "The inner document was signed by another authority than the outer envelope.",
  ENVELOPE_TYPE_MISMATCH: "The inner document's content type differs from the routing header's type.",
  RECEIPT_MALFORMED: "The receipt is not a well-formed compact JWS over a receipt payload.",
  RECEIPT_BAD_SIGNATURE: "The receipt signature does not verify.",
  RECEIPT_SIGNER_UNTRUSTED: "The receipt signer certificate is not trusted for the receiving authority.",
  RECEIPT_MISMATCH: "The receipt names another envelope, digest, sender or recipient than expected.",
  // Document schemas (schemas/validate.ts).
  DOCUMENT_INVALID: "A document does not match its schema; details.errors lists every failing field with a hint.",
  UNKNOWN_SCHEMA: "No document schema of that name is loaded.",
  // Audit log verification core (gateway/audit/: merkle, note, checkpoint, cosignature, witness request).
  AUDIT_INVALID_ARGUMENT: "An argument to a Merkle tree or proof operation is out of range (index or size beyond the tree, unaligned subtree, hash not 32 bytes).",
  AUDIT_PROOF_INVALID: "A Merkle inclusion proof is malformed or does not lead to the expected root.",
  AUDIT_CONSISTENCY_FAILED: "A Merkle consistency proof is malformed or does not prove that the new tree extends the old one.",
  AUDIT_NOTE_MALFORMED: "A signed note is not well formed (UTF-8, control characters, blank line, signature lines, too many signatures or bytes).",
  AUDIT_KEY_INVALID: "A note signer or verifier key (vkey) is malformed, of the wrong type, or configured twice.",
  AUDIT_SIGNATURE_INVALID: "A signed note has no valid signature from a trusted key, or a trusted key's signature (or cosignature) fails.",
  AUDIT_CHECKPOINT_MALFORMED: "The note text is not a well-formed tlog checkpoint (origin, decimal size without leading zeros, base64 32-byte root hash).",
  AUDIT_ORIGIN_MISMATCH: "The checkpoint's origin line differs from the expected log origin.",
  AUDIT_WITNESS_REQUEST_MALFORMED: "A tlog-witness add-checkpoint request body is malformed (old size line, proof lines, blank line, checkpoint).",
} as const;

/** One of the gateway's stable error codes. */
export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

/** An error raised by `gateway/`, with a code from {@link GATEWAY_ERRORS}. */
export class GatewayError extends ValiseError {
  override name = "GatewayError";
  declare readonly code: GatewayErrorCode;

  constructor(code: GatewayErrorCode, message: string, options: ValiseErrorOptions = {}) {
    super(code, message, options);
  }
}

/**
 * How an error code surfaces: HTTP status on the APIs, exit status in the
 * CLI. Exit statuses (documented in README.md):
 * 1 internal, 2 usage or invalid input, 3 passphrase, 4 not found,
 * 5 already exists or conflicts, 6 verification or trust refused.
 */
export interface ErrorDisposition {
  readonly http: number;
  readonly exit: number;
}

const USAGE: ErrorDisposition = { http: 400, exit: 2 };
const INVALID: ErrorDisposition = { http: 422, exit: 2 };
const PASSPHRASE: ErrorDisposition = { http: 500, exit: 3 };
const NOT_FOUND: ErrorDisposition = { http: 404, exit: 4 };
const CONFLICT: ErrorDisposition = { http: 409, exit: 5 };
const REFUSED: ErrorDisposition = { http: 403, exit: 6 };
const INTERNAL: ErrorDisposition = { http: 500, exit: 1 };

/**
 * The disposition of each code, by pattern over the code's name; the first
 * matching rule wins. `test/gateway/errors.test.ts` checks that every code of
 * both registries is matched by a rule other than the INTERNAL fallback,
 * unless the code is INTERNAL itself.
 */
const RULES: ReadonlyArray<readonly [RegExp, ErrorDisposition]> = [
  [/^(USAGE|PKI_INVALID_ARGUMENT|PKI_INVALID_AUTHORITY_ID)$/, USAGE],
  [/^(CONFIG_INVALID|DOCUMENT_INVALID)$/, INVALID],
  [/PASSPHRASE/, PASSPHRASE],
  [/(NOT_FOUND|UNKNOWN)/, NOT_FOUND],
  [/(EXISTS|CONFLICT|ALREADY|STALE|REPLAY)/, CONFLICT],
  [/^(PKI_|ENVELOPE_|RECEIPT_)/, REFUSED],
  [/^AUDIT_(INVALID_ARGUMENT|WITNESS_REQUEST_MALFORMED)$/, USAGE],
  [/^AUDIT_/, REFUSED],
];

/** The HTTP status and exit code of `code` (INTERNAL's for unknown codes). */
export function dispositionOf(code: string): ErrorDisposition {
  return RULES.find(([pattern]) => pattern.test(code))?.[1] ?? INTERNAL;
}

/** The CLI exit status of `code`. */
export function exitCodeFor(code: string): number {
  return dispositionOf(code).exit;
}

/** The HTTP status of `code`. */
export function httpStatusFor(code: string): number {
  return dispositionOf(code).http;
}
