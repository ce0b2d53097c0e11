/**
 * Receipts: the recipient's signed statement that it durably committed an
 * envelope (DESIGN.md, "Receipt"). A compact JWS by the recipient's `sign` key
 * over the RFC 8785 canonical JSON of
 * `{envelopeId, envelopeDigest, from, to, receivedAt, log?, requirements?}`.
 *
 * The sender keeps receipts as proof of delivery, so a receipt is checked like
 * an envelope: the header is attacker-controlled, the signer certificate must
 * chain to the recipient's pinned root, and the payload must name exactly the
 * envelope the sender delivered (a receipt for another envelope, or for other
 * bytes under the same id, proves nothing).
 */
import { isAuthorityId } from "../../pki/authority.js";
import { compactSign, jwsVerify } from "./node-jose.js";
import { jwkThumbprint } from "../../pki/keys.js";
import { GatewayError } from "../errors.js";
import { isSigningAlgorithm, signingAlgorithmFor } from "./algorithms.js";
import { canonicalBytes } from "./canonical-json.js";
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_ENVELOPE_LIMITS } from "./limits.js";
import { isEnvelopeId, parseTimestamp } from "./routing-header.js";
import type { EnvelopeSigner } from "./seal.js";
import { decodeBase64url, decodeJsonObject, parseJsonObject, splitCompact } from "./serialization.js";
import { verifySigner, type AuthorityTrust } from "./signer.js";
import { RECEIPT_TYP, type SignerIdentity } from "./types.js";
import { decodeX5c, encodeX5c } from "./x5c.js";
import type { ParsedCertificate } from "../../pki/certificate.js";
import { isOriginOf } from "../audit/epoch-origin.js";

/** Where the receipt's envelope sits in the receiver's audit log. */
export interface ReceiptLogPosition {
  /** `valise/<AUTHORITY-ID>`. */
  readonly origin: string;
  readonly index: number;
  /** The receiver's signed checkpoint (C2SP signed note). */
  readonly checkpoint: string;
  /** RFC 9162 inclusion proof, standard base64 of each hash. */
  readonly inclusionProof: readonly string[];
  /**
   * The audit entry itself (digests and metadata, no content), so the sender
   * can recompute the leaf hash and check that it records this envelope.
   */
  readonly entry?: Record<string, unknown>;
}

/** The signed content of a receipt. */
export interface Receipt {
  readonly envelopeId: string;
  /** Lowercase hex SHA-256 of the outer JWS signing input. */
  readonly envelopeDigest: string;
  /** The envelope's sender. */
  readonly from: string;
  /** The envelope's recipient, which signs the receipt. */
  readonly to: string;
  /** RFC 3339 time the envelope was committed. */
  readonly receivedAt: string;
  readonly log?: ReceiptLogPosition;
  /**
   * A request only: the version of the receiver's requirements profile it
   * was re-checked against, and whether it complies (the completion clock
   * starts at `receivedAt` only if it does).
   */
  readonly requirements?: ReceiptRequirements;
}

/** The receiver's word on a request's compliance with its requirements profile. */
export interface ReceiptRequirements {
  readonly version: number;
  readonly compliant: boolean;
}

/** What a receipt must name. */
export interface ExpectedReceipt {
  readonly envelopeId: string;
  readonly envelopeDigest: string;
  readonly from: string;
  readonly to: string;
}

/** Options of {@link verifyReceipt}. */
export interface VerifyReceiptOptions {
  readonly expected: ExpectedReceipt;
  /** Trust material of the receipt's signer (the envelope's recipient). */
  readonly trustFor: (authority: string) => AuthorityTrust | undefined;
  readonly now: Date;
  /** How far in the future `receivedAt` may be (default 5 min). */
  readonly clockSkewMs?: number;
  /** Signer certificates already validated, by base64 DER (see `openEnvelope`). */
  readonly parsedCertificates?: Map<string, ParsedCertificate>;
  /**
   * `"at-signing-time"` when judging a receipt of the past (an auditor): the
   * signer must not have been untrusted at `receivedAt`, and the CRL need not
   * be current. Default `"any-listing"`: a receipt arriving now is refused if
   * its key is revoked at all.
   */
  readonly revocation?: "any-listing" | "at-signing-time";
}

/** A verified receipt and who signed it. */
export interface VerifiedReceipt {
  readonly receipt: Receipt;
  readonly signer: SignerIdentity;
}

const RECEIPT_MEMBERS = new Set(["envelopeId", "envelopeDigest", "from", "to", "receivedAt", "log", "requirements"]);
const LOG_MEMBERS = new Set(["origin", "index", "checkpoint", "inclusionProof", "entry"]);
const HEADER_MEMBERS = new Set(["alg", "kid", "x5c", "typ"]);
const SHA256_HEX = /^[0-9a-f]{64}$/;
const HASH_BASE64 = /^[A-Za-z0-9+/]{43}=$/;
const HEADER_LIMITS = {
  maxBytes: DEFAULT_ENVELOPE_LIMITS.maxHeaderBytes,
  code: "RECEIPT_MALFORMED",
  tooLargeCode: "RECEIPT_MALFORMED",
} as const;
const MAX_RECEIPT_BYTES = 256 * 1024;

/**
 * Sign a receipt with the recipient's `sign` key.
 *
 * @throws GatewayError `ENVELOPE_INVALID_ARGUMENT` when the receipt is malformed
 *   or the signer's kid is not its key's thumbprint.
 *
 * @example
 * const jws = await signReceipt({ envelopeId, envelopeDigest, from: "GB-UKCA",
 *   to: "US-DOJ-OIA", receivedAt: now.toISOString(), log }, usSigner);
 */
export async function signReceipt(receipt: Receipt, signer: EnvelopeSigner): Promise<string> {
  const checked = checkReceipt({ ...receipt } as Record<string, unknown>, "ENVELOPE_INVALID_ARGUMENT");
  const alg = signingAlgorithmFor(signer.privateKey);
  const kid = await jwkThumbprint(signer.privateKey);
  if (signer.kid !== undefined && signer.kid !== kid) {
    throw new GatewayError("ENVELOPE_INVALID_ARGUMENT", "The signer kid is not the JWK thumbprint of its key.");
  }
  return compactSign(canonicalBytes(checked), { alg, kid, x5c: encodeX5c(signer.certificates), typ: RECEIPT_TYP }, alg, signer.privateKey);
}

/**
 * Verify a receipt: shape, that it names the expected envelope, then its
 * signer (chained to the recipient's root, valid at `receivedAt`) and signature.
 *
 * @throws GatewayError `RECEIPT_MALFORMED`, `RECEIPT_MISMATCH`,
 *   `RECEIPT_SIGNER_UNTRUSTED` (PKI code in `details.pkiCode` when a path
 *   check failed), `RECEIPT_BAD_SIGNATURE`.
 */
export async function verifyReceipt(jws: unknown, options: VerifyReceiptOptions): Promise<VerifiedReceipt> {
  return verifyReceiptJws(jws, { typ: RECEIPT_TYP, name: "receipt", check: (payload) => checkReceipt(payload, "RECEIPT_MALFORMED") }, options.expected, options);
}

/** What kind of signed receipt a JWS must be. */
export interface ReceiptKind<T> {
  /** The JWS `typ` (keeps one kind of receipt, or any other JWS of the signer, from passing as another). */
  readonly typ: string;
  /** For messages: "receipt", "item receipt". */
  readonly name: string;
  /** Checks the payload's shape (throws `RECEIPT_MALFORMED`). */
  readonly check: (payload: Record<string, unknown>) => T;
}

/**
 * The checks every signed receipt gets: size, header (members, algorithm
 * allow-list, `typ`, `x5c`), payload shape, every field of `expected` equal
 * (`RECEIPT_MISMATCH`), `receivedAt` not in the future, the signer chained
 * to the receiver's pinned root, valid at `receivedAt` and not revoked (at
 * all, or by `receivedAt`: `options.revocation`), and the signature.
 */
export async function verifyReceiptJws<T extends { readonly to: string; readonly receivedAt: string }>(
  jws: unknown,
  kind: ReceiptKind<T>,
  expected: object,
  options: Pick<VerifyReceiptOptions, "trustFor" | "now" | "clockSkewMs" | "parsedCertificates" | "revocation">,
): Promise<{ receipt: T; signer: SignerIdentity }> {
  const malformedKind: (why: string) => never = (why) => {
    throw new GatewayError("RECEIPT_MALFORMED", `Malformed ${kind.name}: ${why}.`);
  };
  if (typeof jws === "string" && jws.length > MAX_RECEIPT_BYTES) malformedKind("too large");
  const [protectedPart, payloadPart, signaturePart] = splitCompact(jws, 3, kind.name, "RECEIPT_MALFORMED") as [string, string, string];
  const header = decodeJsonObject(protectedPart, `${kind.name} header`, HEADER_LIMITS);
  for (const key of Object.keys(header)) if (!HEADER_MEMBERS.has(key)) malformedKind(`unexpected header member ${key.slice(0, 32)}`);
  // Attacker-controlled alg: only the allow-list, never none or HS*.
  if (!isSigningAlgorithm(header.alg)) malformedKind("the algorithm is not EdDSA, ES256 or ES384");
  if (header.typ !== kind.typ) malformedKind(`typ must be ${kind.typ}`);
  const x5c = decodeX5c(header.x5c, DEFAULT_ENVELOPE_LIMITS.maxCertificates, "RECEIPT_MALFORMED");
  const signature = decodeBase64url(signaturePart, `${kind.name} signature`, "RECEIPT_MALFORMED");
  const receipt = kind.check(parseJsonObject(decodeBase64url(payloadPart, `${kind.name} payload`, "RECEIPT_MALFORMED"), `${kind.name} payload`, "RECEIPT_MALFORMED"));

  for (const [field, value] of Object.entries(expected)) {
    const actual = (receipt as Record<string, unknown>)[field];
    if (actual !== value) {
      throw new GatewayError("RECEIPT_MISMATCH", `The ${kind.name}'s ${field} is not the expected one.`, { details: { field, expected: value, actual } });
    }
  }
  const receivedAt = parseTimestamp(receipt.receivedAt) as number;
  if (receivedAt > options.now.getTime() + (options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS)) malformedKind("receivedAt is in the future");

  const trust = options.trustFor(receipt.to);
  if (trust === undefined) {
    throw new GatewayError("RECEIPT_SIGNER_UNTRUSTED", `No trust material for ${receipt.to}.`, { details: { to: receipt.to } });
  }
  const signer = await verifySigner(x5c, header.kid, header.alg, {
    authority: receipt.to,
    trust,
    at: new Date(receivedAt),
    crlAt: options.now,
    ...(options.revocation === undefined ? {} : { revocation: options.revocation }),
    layer: "receipt",
    parsedCertificates: options.parsedCertificates,
  });
  // verifySigner checked that header.alg is the algorithm of the signer's key.
  if (!jwsVerify(header.alg, signer.publicKey, `${protectedPart}.${payloadPart}`, signature)) {
    throw new GatewayError("RECEIPT_BAD_SIGNATURE", `The ${kind.name} signature does not verify.`);
  }
  return { receipt, signer: signer.identity };
}

function checkRequirements(value: unknown, fail: (field: string, why: string) => never): ReceiptRequirements {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return fail("requirements", "not an object");
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) if (key !== "version" && key !== "compliant") fail(`requirements.${key}`, "unknown member");
  if (!Number.isSafeInteger(record.version) || (record.version as number) < 1) fail("requirements.version", "not a positive integer");
  if (typeof record.compliant !== "boolean") fail("requirements.compliant", "not true or false");
  return { version: record.version as number, compliant: record.compliant as boolean };
}

function checkReceipt(value: Record<string, unknown>, code: "RECEIPT_MALFORMED" | "ENVELOPE_INVALID_ARGUMENT"): Receipt {
  const fail = (field: string, why: string): never => {
    throw new GatewayError(code, `Receipt ${field}: ${why}.`, { details: { field } });
  };
  for (const key of Object.keys(value)) if (!RECEIPT_MEMBERS.has(key)) fail(key, "unknown member");
  if (!isEnvelopeId(value.envelopeId)) fail("envelopeId", "malformed");
  if (typeof value.envelopeDigest !== "string" || !SHA256_HEX.test(value.envelopeDigest)) fail("envelopeDigest", "not 64 hex digits");
  if (!isAuthorityId(value.from)) fail("from", "not an authority id");
  if (!isAuthorityId(value.to)) fail("to", "not an authority id");
  if (parseTimestamp(value.receivedAt) === undefined) fail("receivedAt", "not an RFC 3339 date-time");
  const receipt: Receipt = {
    envelopeId: value.envelopeId as string,
    envelopeDigest: value.envelopeDigest as string,
    from: value.from as string,
    to: value.to as string,
    receivedAt: value.receivedAt as string,
    ...(value.requirements === undefined ? {} : { requirements: checkRequirements(value.requirements, fail) }),
  };
  if (value.log === undefined) return receipt;
  const log = value.log;
  if (typeof log !== "object" || log === null || Array.isArray(log)) return fail("log", "not an object");
  const entry = log as Record<string, unknown>;
  for (const key of Object.keys(entry)) if (!LOG_MEMBERS.has(key)) fail(`log.${key}`, "unknown member");
  // Any epoch of the receiver's log: valise/<to> or valise/<to>/epoch-N.
  if (typeof entry.origin !== "string" || !isOriginOf(value.to as string, entry.origin)) fail("log.origin", "not valise/<to>[/epoch-N]");
  if (!Number.isSafeInteger(entry.index) || (entry.index as number) < 0) fail("log.index", "not a non-negative integer");
  if (typeof entry.checkpoint !== "string" || entry.checkpoint.length === 0 || entry.checkpoint.length > 65536) {
    fail("log.checkpoint", "not a signed note");
  }
  const proof = entry.inclusionProof;
  if (!Array.isArray(proof) || proof.length > 64 || !proof.every((hash) => typeof hash === "string" && HASH_BASE64.test(hash))) {
    fail("log.inclusionProof", "not a list of base64 SHA-256 hashes");
  }
  if (entry.entry !== undefined && (typeof entry.entry !== "object" || entry.entry === null || Array.isArray(entry.entry))) {
    fail("log.entry", "not an object");
  }
  return {
    ...receipt,
    log: {
      origin: entry.origin as string,
      index: entry.index as number,
      checkpoint: entry.checkpoint as string,
      inclusionProof: [...(proof as string[])],
      ...(entry.entry === undefined ? {} : { entry: entry.entry as Record<string, unknown> }),
    },
  };
}

