/**
 * Stable error codes of the gateway layer, and the one place where any
 * Valise error code (gateway or PKI) is mapped to an HTTP status and a CLI
 * exit code.
 */
import { ValiseError, type PkiErrorCode, type ValiseErrorOptions } from "../pki/errors.js";

/** Gateway error codes with a one-line description each. */
export const GATEWAY_ERRORS = {
  CONFIG_INVALID: "The gateway configuration file is missing or does not match its schema.",
  CONFIG_IDENTITY_MISMATCH: "valise.json names another authority than the home's PKI and certificates (details: configured, pki); nothing is signed under it.",
  CONFIG_ENDPOINT_MISMATCH: "valise.json's endpoint or TLS names differ from the PKI's (the bundle's endpoint, the tls certificate's SANs); change them with valise config set-endpoint.",
  HOME_EXISTS: "The gateway home already exists; pass --force to overwrite.",
  HOME_NOT_FOUND: "No gateway home at the given path (use --home or VALISE_HOME).",
  USAGE: "The command line is malformed.",
  CONFIG_LISTEN_FAILED: "The gateway cannot listen on a configured address (port in use, address not on this host, or no permission); change peerApi or localApi in valise.json, or stop what holds the port (details: api, host, port, reason).",
  OUTBOX_UNKNOWN: "No outbound envelope with that id is in the outbox.",
  OUTBOX_STATE_INVALID: "The outbox action does not apply to the envelope's state: only pending or failed envelopes are retried or cancelled (details: state, allowed).",
  STORE_CORRUPT: "The gateway database cannot be opened or is not a Valise database.",
  STORE_SCHEMA_TOO_NEW: "The gateway database was written by a newer Valise.",
  STORE_SCHEMA_OLD: "The gateway database has an older schema than this Valise; run valise migrate (read-only commands never migrate).",
  STORE_DUPLICATE: "A row with this key is already stored.",
  STORE_BUSY: "The database is busy with another writer; retry.",
  STORE_UNAVAILABLE: "The database cannot be reached (PostgreSQL down, or the URL in valise.json is wrong).",
  STORE_FAILED: "The database refused a statement.",
  TOKEN_UNKNOWN: "No token with that id.",
  TOKEN_ALREADY_REVOKED: "The token was already revoked.",
  PEER_UNKNOWN: "The authority is not a peer of this gateway.",
  PEER_TLS_IDENTITY: "The peer's TLS certificate is not a valid tls certificate of a known peer.",
  PEER_UNREACHABLE: "The peer gateway could not be reached or answered with an error.",
  CASE_CONFLICT: "A case with this id already exists.",
  CASE_UNKNOWN: "No such case (or not one shared with the caller).",
  CASE_TRANSITION_INVALID: "The lifecycle step is not allowed from the case's status for this side (details: step, status, side, allowed).",
  CASE_STEP_EARLY: "A status update follows a step of the case this gateway has not received yet; the sender retries later.",
  GATEWAY_UNREACHABLE: "The gateway's local API could not be reached (is valise start running, and is localApi in valise.json right?).",
  REQUEST_MALFORMED: "The HTTP request body is not valid JSON or was cut short.",
  REQUEST_TOO_LARGE: "The HTTP request body exceeds the size limit.",
  REQUEST_TIMEOUT: "The HTTP request was not received in time.",
  REQUEST_PATH_MALFORMED: "The request path has malformed percent-encoding.",
  REQUEST_ENCODING_INVALID: "The request body does not decode under its Content-Encoding (gzip, deflate, br).",
  IDEMPOTENCY_KEY_INVALID: "The Idempotency-Key header is malformed (1 to 255 visible ASCII characters).",
  IDEMPOTENCY_KEY_REUSED: "The Idempotency-Key was already used by this token for another request (method, path or body differ).",
  IDEMPOTENCY_KEY_IN_USE: "A request with this Idempotency-Key is still being processed; retry later for its answer.",
  UNAUTHENTICATED: "No valid bearer token was presented.",
  FORBIDDEN: "The token's role does not allow this operation.",
  NOT_FOUND: "No such resource.",
  AUDIT_LOG_TAMPERED: "The stored audit log does not match its last signed checkpoint.",
  AUDIT_EXPORT_INVALID: "An audit export does not match schemas/audit-export.schema.json (details.errors lists the failing fields).",
  AUDIT_TRUST_MISSING: "No trusted bundle (--trust) of the authority whose log is being verified.",
  AUDIT_VERIFY_FAILED: "The audit export does not verify; details name the first bad index and the reason.",
  AUDIT_VERIFY_UNSIGNED: "Entries of the audit export are covered by no checkpoint signed by a trusted log key (details: from, to, count); pass --allow-unsigned-tail to accept them as unsigned.",
  FILE_UNREADABLE: "A file named on the command line cannot be read (missing, a folder, or no permission).",
  INTERNAL: "An unexpected internal error.",
  OWN_SIGNER_UNUSABLE: "This gateway's own sign certificate is revoked (its own CRL lists it), expired or missing: nothing is signed until an operator runs valise pki rotate sign.",
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
  ENVELOPE_DOCUMENT_TYPE_NOT_ALLOWED: "No document travels as this envelope type, or the document's kind is not the envelope type's (details: type, allowed or kind).",
  ENVELOPE_PARTY_MISMATCH: "A request's requestingAuthority or requestedAuthority differs from the envelope's sender or recipient (details: field).",
  ENVELOPE_URGENCY_MISMATCH: "A request's urgency level differs from the envelope's routing priority.",
  RECEIPT_MALFORMED: "The receipt is not a well-formed compact JWS over a receipt payload.",
  RECEIPT_BAD_SIGNATURE: "The receipt signature does not verify.",
  RECEIPT_SIGNER_UNTRUSTED: "The receipt signer certificate is not trusted for the receiving authority.",
  RECEIPT_MISMATCH: "The receipt names another envelope, digest, sender or recipient than expected.",
  // Document schemas (schemas/validate.ts).
  DOCUMENT_INVALID: "A document does not match its schema; details.errors lists every failing field with a hint.",
  UNKNOWN_SCHEMA: "No document schema of that name is loaded.",
  DOCUMENT_VERSION_NOT_ACCEPTED: "A document is written in a version of the forms this gateway (or the peer) does not read (details: version, accepted).",
  CASE_GROUND_NOT_ALLOWED: "A refusal cites a ground the case's legal instrument does not allow (details: ground, instrument, allowed, insteadStep).",
  CASE_STEP_NOT_ALLOWED: "The step does not fit this case: its kind, its instrument, the items of its request, or the document version the peer reads (details: step, reason).",
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
  // Witnessing (gateway/audit/witness.ts, witness-client.ts).
  WITNESS_UNKNOWN_LOG: "The checkpoint's origin is not the log of a peer of this gateway (tlog-witness 404).",
  WITNESS_ORIGIN_FORBIDDEN: "A peer submitted another log's checkpoint for witnessing: only a log's own gateway may (TLS identity and origin differ).",
  WITNESS_OLD_SIZE_INVALID: "The add-checkpoint old size exceeds the checkpoint's tree size (tlog-witness 400).",
  WITNESS_CONFLICT: "The add-checkpoint old size is not the size this witness last cosigned (details.knownSize), or a checkpoint of a cosigned size has another root (tlog-witness 409).",
  WITNESS_REFUSED: "A peer did not cosign this gateway's checkpoint (it answered an error, or a cosignature that does not verify).",
  // Evidence packages (gateway/evidence/).
  EVIDENCE_CHUNK_TAG_INVALID: "A sealed evidence chunk does not authenticate under any nearby position (tampered bytes or wrong key).",
  EVIDENCE_CHUNK_MISSING: "A sealed evidence chunk authenticates as a later chunk: one or more chunks were dropped.",
  EVIDENCE_CHUNK_REORDERED: "A sealed evidence chunk arrived at another position than its own (reordered or replayed).",
  EVIDENCE_STREAM_TRUNCATED: "The sealed evidence stream ends before its last chunk (no chunk carries the last-chunk flag at the declared end).",
  EVIDENCE_SIZE_MISMATCH: "The sealed evidence stream's length does not match the item's size in the manifest (upload total, or a last-chunk flag before the declared end).",
  EVIDENCE_DIGEST_MISMATCH: "The SHA-256 of the evidence item's plaintext differs from the manifest's.",
  EVIDENCE_RANGE_INVALID: "The evidence upload's Content-Range or Content-Length header is missing or malformed.",
  EVIDENCE_RANGE_MISMATCH: "The evidence upload does not start where the receiver's stored stream ends (details.offset; HEAD says how far it got).",
  EVIDENCE_ITEM_BUSY: "Another upload of this evidence item is in progress.",
  EVIDENCE_ITEM_UNKNOWN: "No such evidence item (no manifest naming it was received from the caller, or it is not in that case).",
  EVIDENCE_ITEM_NOT_RECEIVED: "The evidence item has not been received completely and verified yet.",
  EVIDENCE_MANIFEST_INVALID: "The evidence manifest contradicts its envelope or case (another case id, duplicate item ids, a case this side did not request).",
  EVIDENCE_PACKAGE_CONFLICT: "An evidence package or item with this id already exists.",
  EVIDENCE_CASE_DIRECTION: "Evidence is sent only on a case this authority received (as the requested authority).",
  EVIDENCE_PATH_NOT_ALLOWED: "A file to send is not one the gateway may send: outside HOME/outgoing and evidence.sendFrom, one of the home's own files, a symbolic link or a file with several links (one answer whatever the reason).",
  EVIDENCE_FILE_UNREADABLE: "A file to send, in an allowed folder, does not exist, is not a regular file (a folder, a FIFO, a device), or cannot be read.",
  EVIDENCE_SOURCE_CHANGED: "A file being sent changed after it was hashed for the manifest; the item cannot be delivered as described.",
  EVIDENCE_EXPORT_KEY_INVALID: "An OpenPGP key given for an export is unreadable, of the wrong kind (public/private) or cannot encrypt or sign.",
  EVIDENCE_EXPORT_EXISTS: "The export folder exists and is not empty; refusing to overwrite.",
  // Requirements profiles (gateway/requirements/).
  REQUIREMENTS_NOT_MET: "The request does not meet the requested authority's published requirements profile; details.errors lists every failing rule with the authority's own explanation (details.requirements: authority, version).",
  REQUIREMENTS_INVALID: "A requirements profile does not match schemas/requirements-profile.schema.json, or one of its rules cannot be used (details.errors).",
  REQUIREMENTS_RULE_UNKNOWN: "A requirements profile names a rule this Valise does not know (details: rule, index, known); the profile is not used.",
  REQUIREMENTS_SIGNATURE: "A requirements profile is not signed by the current sign key of the authority it claims to come from.",
  REQUIREMENTS_STALE: "A requirements profile is older than the version held (or the same version with other content); the one held stays in force (details: held, offered).",
  REQUIREMENTS_OUTDATED: "The request was checked against another version of the receiver's requirements profile than the one in force (details: required, checked); the sender fetches the profile and resubmits.",
  REQUIREMENTS_NOT_FOUND: "No requirements profile is published (own) or held (for that peer).",
  // Backup, restore and disaster recovery (gateway/backup/, gateway/audit/epoch*.ts, gateway/reconcile/).
  BACKUP_MALFORMED: "The file is not a Valise backup archive (not a tar archive, an entry outside the backup's layout, a link or device, no manifest).",
  BACKUP_TRUNCATED: "The backup archive ends before its manifest and signature, or a file in it is cut short.",
  BACKUP_DIGEST_MISMATCH: "A file in the backup archive differs from its SHA-256 in the signed manifest, or the archive holds a file the manifest does not list (or lacks one it lists).",
  BACKUP_SIGNATURE_INVALID: "The backup manifest's signature does not verify with the archived log certificate, or that certificate does not chain to the archived root.",
  BACKUP_FOREIGN: "The backup belongs to another authority or root than expected (--fingerprint, or the home being replaced).",
  BACKUP_EXISTS: "The backup file to write already exists; refusing to overwrite.",
  RESTORE_HOME_LIVE: "A gateway is running on the home to restore into (a live instance lease in its store); stop it first.",
  AUDIT_LOG_BEHIND_PEERS: "A peer has cosigned a larger tree of this gateway's log (or another root at a size it holds) than the log holds: entries were lost (a restore); run valise audit new-epoch.",
  AUDIT_PEER_CHECK_FAILED: "A restored gateway could not compare its log with what a peer cosigned (the peer could not be reached or answered nonsense); it does not serve until it can.",
  AUDIT_EPOCH_NOT_NEEDED: "No peer has cosigned more of this log than it holds: a new epoch is refused unless forced (--force, which peers see as forced).",
  AUDIT_EPOCH_INVALID: "An epoch statement does not verify: not signed into the new epoch's log, not its first entry, or it contradicts what this witness cosigned of the previous epoch.",
  WITNESS_EPOCH_UNKNOWN: "The checkpoint names an epoch of the peer's log whose statement this witness has not accepted yet (submit it to /peer/v1/log/epochs first).",
  WITNESS_EPOCH_CLOSED: "The checkpoint names an epoch of the peer's log that a later epoch has closed; nothing more is cosigned in it.",
  RECONCILE_REFUSED: "Reconciliation with a peer failed: the peer could not be reached, or what it supplied does not verify (details name the envelope and the code).",
  // The local API's contract (gateway/http/cursor.ts, events-api.ts, gateway/events/).
  CURSOR_INVALID: "A list cursor is malformed or was not issued by this gateway (forged or altered); pass back the previous page's next unchanged.",
  CURSOR_LIST_MISMATCH: "A list cursor was issued for another list, or for the same list under other filters (details: list, cursorList).",
  FEED_TOO_MANY_WAITERS: "Too many long-polls or event streams are open on this gateway; retry after a short pause.",
  UPLOAD_TOO_LARGE: "The file to upload is larger than uploads.maxBytes in valise.json; nothing was stored.",
  UPLOAD_MEDIA_TYPE_NOT_ALLOWED: "The file's media type is not one uploads.mediaTypes in valise.json accepts.",
  UPLOAD_UNKNOWN: "No such upload (or not one made with the caller's token).",
  UPLOAD_DIGEST_MISMATCH: "The SHA-256 of the uploaded bytes differs from the one declared when the upload was created; the upload was discarded.",
  ATTACHMENT_NOT_READY: "A document names an upload that is not complete yet (details: uploadId, received, size); upload the rest first.",
  ATTACHMENT_ALREADY_USED: "A document names an upload that another document already carries; upload the file again for a second document.",
  ATTACHMENT_MISMATCH: "A document's attachment declares a SHA-256 (or size) that differs from the uploaded file's (details: uploadId, declared, uploaded).",
  WEBHOOK_DELIVERY_FAILED: "A webhook endpoint did not answer an event 2xx in time (timeout, connection refused, or a non-2xx status); it is retried with backoff.",
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
 * CLI. Exit statuses (documented in README.md, checked by a test):
 * 1 internal, 2 usage or invalid input, 3 passphrase, 4 not found,
 * 5 already exists or conflicts, 6 verification, trust or access refused.
 */
export interface ErrorDisposition {
  readonly http: number;
  readonly exit: number;
}

const USAGE: ErrorDisposition = { http: 400, exit: 2 };
const TOO_LARGE: ErrorDisposition = { http: 413, exit: 2 };
const INVALID: ErrorDisposition = { http: 422, exit: 2 };
const PASSPHRASE: ErrorDisposition = { http: 500, exit: 3 };
const NOT_FOUND: ErrorDisposition = { http: 404, exit: 4 };
const CONFLICT: ErrorDisposition = { http: 409, exit: 5 };
const UNAUTHENTICATED: ErrorDisposition = { http: 401, exit: 6 };
const REFUSED: ErrorDisposition = { http: 403, exit: 6 };
const BAD_PROOF: ErrorDisposition = { http: 422, exit: 6 };
const UPSTREAM: ErrorDisposition = { http: 502, exit: 1 };
const INTERNAL: ErrorDisposition = { http: 500, exit: 1 };

/** Every code of both registries. */
export type ErrorCode = GatewayErrorCode | PkiErrorCode;

/**
 * The one table from error code to HTTP status and exit code. Typed over
 * both registries, so a new code does not compile until it is placed here.
 */
export const ERROR_DISPOSITIONS: Readonly<Record<ErrorCode, ErrorDisposition>> = {
  // Usage and malformed input.
  USAGE,
  // A port in use or an address not on this host is the configuration's fault, not the gateway's.
  CONFIG_LISTEN_FAILED: USAGE,
  PKI_INVALID_AUTHORITY_ID: USAGE,
  PKI_INVALID_ARGUMENT: USAGE,
  PKI_ROOT_NOT_REVOCABLE: USAGE,
  REQUEST_MALFORMED: USAGE,
  ENVELOPE_MALFORMED: USAGE,
  CANONICAL_JSON_UNSUPPORTED: USAGE,
  AUDIT_INVALID_ARGUMENT: USAGE,
  AUDIT_NOTE_MALFORMED: USAGE,
  AUDIT_CHECKPOINT_MALFORMED: USAGE,
  AUDIT_WITNESS_REQUEST_MALFORMED: USAGE,
  WITNESS_OLD_SIZE_INVALID: USAGE,
  REQUEST_TOO_LARGE: TOO_LARGE,
  REQUEST_TIMEOUT: { http: 408, exit: 2 },
  REQUEST_PATH_MALFORMED: USAGE,
  REQUEST_ENCODING_INVALID: USAGE,
  IDEMPOTENCY_KEY_INVALID: USAGE,
  ENVELOPE_TOO_LARGE: TOO_LARGE,
  CONFIG_INVALID: INVALID,
  CONFIG_IDENTITY_MISMATCH: INVALID,
  CONFIG_ENDPOINT_MISMATCH: INVALID,
  DOCUMENT_INVALID: INVALID,
  DOCUMENT_VERSION_NOT_ACCEPTED: INVALID,
  CASE_GROUND_NOT_ALLOWED: INVALID,
  CASE_STEP_NOT_ALLOWED: INVALID,
  // A document that contradicts its envelope: the same bytes never succeed (the sender stops retrying).
  ENVELOPE_DOCUMENT_TYPE_NOT_ALLOWED: INVALID,
  ENVELOPE_PARTY_MISMATCH: INVALID,
  ENVELOPE_URGENCY_MISMATCH: INVALID,
  REQUIREMENTS_NOT_MET: INVALID,
  REQUIREMENTS_INVALID: INVALID,
  REQUIREMENTS_RULE_UNKNOWN: INVALID,
  // Checked against another version: the same bytes never succeed (the sender stops retrying and fetches the profile).
  REQUIREMENTS_OUTDATED: INVALID,
  // The key names another request: 422 as in the IETF Idempotency-Key draft.
  IDEMPOTENCY_KEY_REUSED: { http: 422, exit: 5 },
  // Passphrase.
  PKI_PASSPHRASE_MISSING: PASSPHRASE,
  PKI_BAD_PASSPHRASE: PASSPHRASE,
  // Not found.
  NOT_FOUND,
  HOME_NOT_FOUND: NOT_FOUND,
  PKI_NOT_FOUND: NOT_FOUND,
  PKI_UNKNOWN_SERIAL: NOT_FOUND,
  PKI_PEER_UNKNOWN: NOT_FOUND,
  TOKEN_UNKNOWN: NOT_FOUND,
  PEER_UNKNOWN: NOT_FOUND,
  CASE_UNKNOWN: NOT_FOUND,
  OUTBOX_UNKNOWN: NOT_FOUND,
  WITNESS_UNKNOWN_LOG: NOT_FOUND,
  FILE_UNREADABLE: NOT_FOUND,
  REQUIREMENTS_NOT_FOUND: NOT_FOUND,
  // Exists or conflicts with the current state.
  HOME_EXISTS: CONFLICT,
  PKI_EXISTS: CONFLICT,
  PKI_KEY_EXISTS: CONFLICT,
  PKI_ALREADY_REVOKED: CONFLICT,
  PKI_NO_CURRENT_CERTIFICATE: CONFLICT,
  PKI_BUNDLE_STALE: CONFLICT,
  REQUIREMENTS_STALE: CONFLICT,
  PKI_PEER_EXISTS: CONFLICT,
  PKI_PEER_ROOT_CONFLICT: CONFLICT,
  TOKEN_ALREADY_REVOKED: CONFLICT,
  CASE_CONFLICT: CONFLICT,
  OUTBOX_STATE_INVALID: CONFLICT,
  IDEMPOTENCY_KEY_IN_USE: CONFLICT,
  CASE_TRANSITION_INVALID: CONFLICT,
  // 425 Too Early (RFC 8470): not a permanent refusal, the sender's outbox retries.
  CASE_STEP_EARLY: { http: 425, exit: 5 },
  ENVELOPE_REPLAY: CONFLICT,
  WITNESS_CONFLICT: CONFLICT,
  // Access.
  UNAUTHENTICATED,
  FORBIDDEN: REFUSED,
  PEER_TLS_IDENTITY: REFUSED,
  WITNESS_ORIGIN_FORBIDDEN: REFUSED,
  // Verification and trust refused.
  PKI_AUTHORITY_URI: REFUSED,
  PKI_CERT_PARSE: REFUSED,
  PKI_CRL_PARSE: REFUSED,
  PKI_CRL_BAD_SIGNATURE: REFUSED,
  PKI_CRL_NOT_YET_VALID: REFUSED,
  PKI_CRL_EXPIRED: REFUSED,
  PKI_ROOT_INVALID: REFUSED,
  PKI_CHAIN_UNTRUSTED: REFUSED,
  PKI_PATH_LENGTH: REFUSED,
  PKI_LEAF_IS_CA: REFUSED,
  PKI_CRITICAL_EXTENSION: REFUSED,
  PKI_CERT_NOT_YET_VALID: REFUSED,
  PKI_CERT_EXPIRED: REFUSED,
  PKI_KEY_USAGE: REFUSED,
  PKI_KEY_ALGORITHM: REFUSED,
  PKI_AUTHORITY_MISMATCH: REFUSED,
  PKI_CERT_REVOKED: REFUSED,
  PKI_BUNDLE_SCHEMA: REFUSED,
  PKI_BUNDLE_ALGORITHM: REFUSED,
  PKI_BUNDLE_SIGNATURE: REFUSED,
  REQUIREMENTS_SIGNATURE: REFUSED,
  PKI_FINGERPRINT_MISMATCH: REFUSED,
  ENVELOPE_ALG_NOT_ALLOWED: REFUSED,
  ENVELOPE_UNKNOWN_SENDER: REFUSED,
  ENVELOPE_SIGNER_UNTRUSTED: REFUSED,
  ENVELOPE_SIGNER_REVOKED: REFUSED,
  ENVELOPE_SIGNER_EXPIRED: REFUSED,
  ENVELOPE_SIGNER_KEY_USAGE: REFUSED,
  ENVELOPE_SIGNER_AUTHORITY: REFUSED,
  ENVELOPE_BAD_SIGNATURE: REFUSED,
  ENVELOPE_WRONG_RECIPIENT: REFUSED,
  ENVELOPE_TLS_IDENTITY: REFUSED,
  ENVELOPE_EID_MISMATCH: REFUSED,
  ENVELOPE_CLOCK_SKEW: REFUSED,
  ENVELOPE_DECRYPT_FAILED: REFUSED,
  ENVELOPE_KID_MISMATCH: REFUSED,
  ENVELOPE_INNER_SIGNER_MISMATCH: REFUSED,
  ENVELOPE_TYPE_MISMATCH: REFUSED,
  RECEIPT_MALFORMED: REFUSED,
  RECEIPT_BAD_SIGNATURE: REFUSED,
  RECEIPT_SIGNER_UNTRUSTED: REFUSED,
  RECEIPT_MISMATCH: REFUSED,
  AUDIT_KEY_INVALID: REFUSED,
  AUDIT_SIGNATURE_INVALID: REFUSED,
  AUDIT_ORIGIN_MISMATCH: REFUSED,
  AUDIT_PROOF_INVALID: BAD_PROOF,
  AUDIT_LOG_TAMPERED: REFUSED,
  AUDIT_VERIFY_FAILED: REFUSED,
  AUDIT_VERIFY_UNSIGNED: REFUSED,
  AUDIT_TRUST_MISSING: REFUSED,
  AUDIT_EXPORT_INVALID: INVALID,
  AUDIT_CONSISTENCY_FAILED: BAD_PROOF,
  // Evidence: integrity failures of a sealed stream are refused proofs.
  EVIDENCE_CHUNK_TAG_INVALID: BAD_PROOF,
  EVIDENCE_CHUNK_MISSING: BAD_PROOF,
  EVIDENCE_CHUNK_REORDERED: BAD_PROOF,
  EVIDENCE_STREAM_TRUNCATED: BAD_PROOF,
  EVIDENCE_SIZE_MISMATCH: BAD_PROOF,
  EVIDENCE_DIGEST_MISMATCH: BAD_PROOF,
  EVIDENCE_RANGE_INVALID: USAGE,
  EVIDENCE_RANGE_MISMATCH: CONFLICT,
  EVIDENCE_ITEM_BUSY: CONFLICT,
  EVIDENCE_ITEM_UNKNOWN: NOT_FOUND,
  EVIDENCE_ITEM_NOT_RECEIVED: CONFLICT,
  EVIDENCE_MANIFEST_INVALID: INVALID,
  EVIDENCE_PACKAGE_CONFLICT: CONFLICT,
  EVIDENCE_CASE_DIRECTION: CONFLICT,
  EVIDENCE_PATH_NOT_ALLOWED: REFUSED,
  EVIDENCE_FILE_UNREADABLE: NOT_FOUND,
  EVIDENCE_SOURCE_CHANGED: CONFLICT,
  EVIDENCE_EXPORT_KEY_INVALID: USAGE,
  EVIDENCE_EXPORT_EXISTS: CONFLICT,
  // Backup, restore, epochs, reconciliation.
  BACKUP_MALFORMED: INVALID,
  BACKUP_TRUNCATED: BAD_PROOF,
  BACKUP_DIGEST_MISMATCH: BAD_PROOF,
  BACKUP_SIGNATURE_INVALID: BAD_PROOF,
  BACKUP_FOREIGN: REFUSED,
  BACKUP_EXISTS: CONFLICT,
  RESTORE_HOME_LIVE: CONFLICT,
  AUDIT_LOG_BEHIND_PEERS: REFUSED,
  AUDIT_PEER_CHECK_FAILED: UPSTREAM,
  AUDIT_EPOCH_NOT_NEEDED: CONFLICT,
  AUDIT_EPOCH_INVALID: BAD_PROOF,
  WITNESS_EPOCH_UNKNOWN: NOT_FOUND,
  WITNESS_EPOCH_CLOSED: { http: 410, exit: 5 },
  RECONCILE_REFUSED: UPSTREAM,
  CURSOR_INVALID: USAGE,
  UPLOAD_TOO_LARGE: TOO_LARGE,
  UPLOAD_MEDIA_TYPE_NOT_ALLOWED: { http: 415, exit: 2 },
  UPLOAD_UNKNOWN: NOT_FOUND,
  UPLOAD_DIGEST_MISMATCH: BAD_PROOF,
  ATTACHMENT_NOT_READY: CONFLICT,
  ATTACHMENT_ALREADY_USED: CONFLICT,
  ATTACHMENT_MISMATCH: INVALID,
  CURSOR_LIST_MISMATCH: USAGE,
  FEED_TOO_MANY_WAITERS: { http: 503, exit: 1 },
  WEBHOOK_DELIVERY_FAILED: UPSTREAM,
  // Upstream and internal.
  PEER_UNREACHABLE: UPSTREAM,
  GATEWAY_UNREACHABLE: UPSTREAM,
  WITNESS_REFUSED: UPSTREAM,
  INTERNAL,
  // 503: the gateway runs but cannot sign until its operator rotates the key; a peer's outbox retries.
  OWN_SIGNER_UNUSABLE: { http: 503, exit: 1 },
  STORE_CORRUPT: INTERNAL,
  STORE_SCHEMA_TOO_NEW: INTERNAL,
  STORE_SCHEMA_OLD: INTERNAL,
  STORE_DUPLICATE: CONFLICT,
  STORE_BUSY: { http: 503, exit: 1 },
  STORE_UNAVAILABLE: { http: 503, exit: 1 },
  STORE_FAILED: INTERNAL,
  PKI_STORE_CORRUPT: INTERNAL,
  PKI_KEY_INVALID: INTERNAL,
  PKI_PKCS12: INTERNAL,
  ENVELOPE_INVALID_ARGUMENT: INTERNAL,
  UNKNOWN_SCHEMA: INTERNAL,
};

/** The HTTP status and exit code of `code` (INTERNAL's for a code of no registry). */
export function dispositionOf(code: string): ErrorDisposition {
  return Object.hasOwn(ERROR_DISPOSITIONS, code) ? ERROR_DISPOSITIONS[code as ErrorCode] : INTERNAL;
}

/** The CLI exit status of `code`. */
export function exitCodeFor(code: string): number {
  return dispositionOf(code).exit;
}

/** The HTTP status of `code`. */
export function httpStatusFor(code: string): number {
  return dispositionOf(code).http;
}
