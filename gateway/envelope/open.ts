/**
 * Open a Valise envelope received from a peer: check every layer, decrypt, and
 * return the routing header and the document (DESIGN.md, "Envelope").
 *
 * Everything in the envelope is attacker-controlled until proven otherwise:
 * the sender of the TLS connection may be a peer gone rogue, a relay may have
 * tampered with it, and the headers name their own algorithms and keys. So:
 * sizes are checked before parsing, every header is decoded defensively and
 * checked against an allow-list before any signature or key is used, cheap checks (recipient,
 * TLS identity, clock, known sender) come before signatures, signatures and
 * certificates before the replay store is consulted, and all of that before
 * decryption.
 *
 * Pure: trust material, keys, the replay lookup and `now` are arguments; the
 * same inputs give the same result (the replay lookup may be async, hence the Promise).
 */
import type { KeyObject } from "node:crypto";
import type { ParsedCertificate } from "../../pki/certificate.js";
import { compactDecrypt, jwsVerify } from "./node-jose.js";
import { GatewayError } from "../errors.js";
import { CONTENT_ENCRYPTION_ALGORITHM, isSigningAlgorithm, KEY_MANAGEMENT_ALGORITHM } from "./algorithms.js";
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_ENVELOPE_LIMITS, type EnvelopeLimits } from "./limits.js";
import { checkRoutingHeader, parseTimestamp } from "./routing-header.js";
import { envelopeDigestOf } from "./seal.js";
import { decodeBase64url, decodeJsonObject, parseJsonObject, splitCompact } from "./serialization.js";
import { verifySigner, type AuthorityTrust } from "./signer.js";
import {
  DOCUMENT_TYP,
  ENCRYPTED_DOCUMENT_TYP,
  ENVELOPE_TYP,
  type FlattenedJws,
  type RoutingHeader,
  type SignerIdentity,
} from "./types.js";
import { decodeX5c } from "./x5c.js";

/** A private key that may decrypt envelopes addressed to this authority. */
export interface DecryptionKey {
  /** JWK thumbprint of the key (the JWE `kid` that selects it). */
  readonly kid: string;
  readonly privateKey: KeyObject;
}

/** What opening needs besides the envelope: who we are, our keys, trust, time. */
export interface OpenEnvelopeOptions {
  /** This authority's id; the envelope's `to` must equal it. */
  readonly self: string;
  /** Current and previous `encrypt` keys; the JWE `kid` picks one. */
  readonly decryptionKeys: readonly DecryptionKey[];
  /** Trust material (root, CRL) of a peer authority, or `undefined` for a stranger. */
  readonly trustFor: (authority: string) => AuthorityTrust | undefined;
  /** The time of reception. */
  readonly now: Date;
  /** Allowed clock difference in the future direction, and by default in the past (default 5 min). */
  readonly clockSkewMs?: number;
  /**
   * Oldest `createdAt` accepted for a first delivery, as an age in ms (default
   * `clockSkewMs`). A sender's outbox retries with the same id and createdAt,
   * so a gateway that accepts late retries sets this to its peers' give-up time.
   */
  readonly maxAgeMs?: number;
  readonly limits?: Partial<EnvelopeLimits>;
  /** Authority of the mutual-TLS client certificate the envelope came over, if any. */
  readonly tlsClientAuthority?: string;
  /** The digest stored for an envelope id already received, if any. */
  readonly seen?: (envelopeId: string) => string | undefined | Promise<string | undefined>;
  /**
   * Optional policy on the routing header's document type, run with the cheap
   * checks before any signature work (e.g. `checkEnvelopeType`): a type no
   * document may travel as is refused at once; its error propagates unchanged.
   */
  readonly checkType?: (type: string) => void;
  /**
   * Optional check of the decrypted document against its schema (e.g.
   * `schemas/validate.ts`, after `checkDocumentBinding` against `header`);
   * its error propagates unchanged.
   */
  readonly validateDocument?: (type: string, document: Record<string, unknown>, header: RoutingHeader) => void;
  /**
   * Optional cache of validated signer certificates, owned by the caller (one
   * per gateway), keyed by base64 DER: saves re-parsing the sender's
   * certificate on every envelope. Path validation still runs every time.
   */
  readonly parsedCertificates?: Map<string, ParsedCertificate>;
}

/** An opened envelope. */
export interface OpenedEnvelope {
  /** The routing header, as signed by the sender. */
  readonly header: RoutingHeader;
  /** The business document, as signed by the sender. */
  readonly document: Record<string, unknown>;
  readonly envelopeId: string;
  readonly envelopeDigest: string;
  /** True when this id was already received with the same digest (idempotent redelivery). */
  readonly duplicate: boolean;
  /** Signer of the outer JWS. */
  readonly signer: SignerIdentity;
  /** Signer of the inner JWS (the same authority; usually the same key). */
  readonly innerSigner: SignerIdentity;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const OUTER_MEMBERS = ["protected", "payload", "signature"];
const OUTER_HEADER_MEMBERS = new Set(["alg", "kid", "x5c", "eid", "typ"]);
const JWE_HEADER_MEMBERS = new Set(["alg", "enc", "kid", "eid", "epk", "typ", "cty"]);
const INNER_HEADER_MEMBERS = new Set(["alg", "kid", "x5c", "eid", "typ", "cty"]);

/**
 * Check and open an envelope addressed to `options.self`.
 *
 * `wire` is the request body as bytes or text, or the parsed wire object.
 *
 * @throws GatewayError with one code per failed check: `ENVELOPE_TOO_LARGE`,
 *   `ENVELOPE_MALFORMED`, `ENVELOPE_ALG_NOT_ALLOWED`, `ENVELOPE_EID_MISMATCH`,
 *   `ENVELOPE_WRONG_RECIPIENT`, `ENVELOPE_TLS_IDENTITY`, `ENVELOPE_CLOCK_SKEW`,
 *   `ENVELOPE_UNKNOWN_SENDER`, `ENVELOPE_KID_MISMATCH`, `ENVELOPE_SIGNER_*`,
 *   `ENVELOPE_BAD_SIGNATURE`, `ENVELOPE_REPLAY`, `ENVELOPE_DECRYPT_FAILED`,
 *   `ENVELOPE_TYPE_MISMATCH`, `ENVELOPE_INNER_SIGNER_MISMATCH`; and whatever
 *   `checkType` or `validateDocument` throws (e.g. `ENVELOPE_DOCUMENT_TYPE_NOT_ALLOWED`).
 */
export async function openEnvelope(wire: unknown, options: OpenEnvelopeOptions): Promise<OpenedEnvelope> {
  const limits = { ...DEFAULT_ENVELOPE_LIMITS, ...options.limits };
  const headerLimits = { maxBytes: limits.maxHeaderBytes, code: "ENVELOPE_MALFORMED", tooLargeCode: "ENVELOPE_TOO_LARGE" } as const;
  const jws = parseWire(wire, limits.maxEnvelopeBytes);
  const outerSignature = decodeBase64url(jws.signature, "outer signature", "ENVELOPE_MALFORMED");

  // Outer protected header: the algorithm comes from the allow-list and the signer key, never from the header alone.
  const outerHeader = decodeJsonObject(jws.protected, "outer protected header", headerLimits);
  checkMembers(outerHeader, OUTER_HEADER_MEMBERS, "outer protected header");
  const outerAlg = checkSigningAlg(outerHeader.alg, "outer");
  if (outerHeader.typ !== ENVELOPE_TYP) malformed(`outer typ must be ${ENVELOPE_TYP}`, "typ");
  const outerX5c = decodeX5c(outerHeader.x5c, limits.maxCertificates, "ENVELOPE_MALFORMED");

  // Routing header: bounded by the envelope size already checked.
  const header = checkRoutingHeader(
    decodeJsonObject(jws.payload, "routing header", { ...headerLimits, maxBytes: limits.maxEnvelopeBytes }),
    "ENVELOPE_MALFORMED",
  );
  if (outerHeader.eid !== header.id) eidMismatch("outer");

  // Cheap policy checks, before any signature or certificate work.
  if (header.to !== options.self) {
    throw new GatewayError("ENVELOPE_WRONG_RECIPIENT", `The envelope is addressed to ${header.to}.`, {
      details: { to: header.to, self: options.self },
    });
  }
  if (options.tlsClientAuthority !== undefined && options.tlsClientAuthority !== header.from) {
    throw new GatewayError("ENVELOPE_TLS_IDENTITY", "The TLS client is not the envelope's sender.", {
      details: { from: header.from, tlsClientAuthority: options.tlsClientAuthority },
    });
  }
  options.checkType?.(header.type);
  const createdAt = parseTimestamp(header.createdAt) as number; // checked by checkRoutingHeader
  const skew = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  const maxAge = options.maxAgeMs ?? skew;
  const age = options.now.getTime() - createdAt;
  if (age < -skew) clockSkew(header, options.now, "future");
  const tooOld = age > maxAge; // a duplicate may be older: decided after the replay check
  const trust = options.trustFor(header.from);
  if (trust === undefined) {
    throw new GatewayError("ENVELOPE_UNKNOWN_SENDER", `No trust material for ${header.from}.`, {
      details: { from: header.from },
    });
  }

  // Signer certificate (at createdAt), then the outer signature.
  const at = new Date(createdAt);
  const outerSigner = await verifySigner(outerX5c, outerHeader.kid, outerAlg, {
    authority: header.from,
    trust,
    at,
    crlAt: options.now,
    layer: "outer",
    parsedCertificates: options.parsedCertificates,
  });
  // verifySigner checked that outerAlg is the algorithm of the signer's key.
  if (!jwsVerify(outerAlg, outerSigner.publicKey, `${jws.protected}.${jws.payload}`, outerSignature)) badSignature("outer");

  // Replay: only a signed envelope may learn whether an id exists.
  const envelopeDigest = envelopeDigestOf(jws);
  const previous = await options.seen?.(header.id);
  if (previous !== undefined && previous !== envelopeDigest) {
    throw new GatewayError("ENVELOPE_REPLAY", `Envelope ${header.id} was already received with other bytes.`, {
      details: { envelopeId: header.id, envelopeDigest, storedDigest: previous },
    });
  }
  const duplicate = previous !== undefined;
  if (tooOld && !duplicate) clockSkew(header, options.now, "past");

  // Middle layer: the JWE to one of our encrypt keys.
  const innerJws = await decrypt(header, options.decryptionKeys, headerLimits);

  // Inner layer: the document signed by the same authority.
  const innerParts = splitCompact(innerJws, 3, "inner JWS", "ENVELOPE_MALFORMED");
  const innerSignature = decodeBase64url(innerParts[2] as string, "inner signature", "ENVELOPE_MALFORMED");
  const innerHeader = decodeJsonObject(innerParts[0] as string, "inner protected header", headerLimits);
  checkMembers(innerHeader, INNER_HEADER_MEMBERS, "inner protected header");
  const innerAlg = checkSigningAlg(innerHeader.alg, "inner");
  if (innerHeader.typ !== DOCUMENT_TYP) malformed(`inner typ must be ${DOCUMENT_TYP}`, "typ");
  if (innerHeader.eid !== header.id) eidMismatch("inner");
  if (innerHeader.cty !== header.type) {
    throw new GatewayError("ENVELOPE_TYPE_MISMATCH", "The inner cty differs from the routing type.", {
      details: { type: header.type },
    });
  }
  const innerX5c = decodeX5c(innerHeader.x5c, limits.maxCertificates, "ENVELOPE_MALFORMED");
  // The usual case, the same certificate signing both layers, is checked once.
  const sameSigner = sameCertificate(innerX5c, outerX5c) && innerHeader.kid === outerHeader.kid && innerAlg === outerAlg;
  const innerSigner = sameSigner
    ? outerSigner
    : await verifySigner(innerX5c, innerHeader.kid, innerAlg, {
        authority: header.from,
        trust,
        at,
        crlAt: options.now,
        layer: "inner",
        parsedCertificates: options.parsedCertificates,
      });
  // verifySigner (or sameSigner) tied innerAlg to the signer's key.
  if (!jwsVerify(innerAlg, innerSigner.publicKey, `${innerParts[0]}.${innerParts[1]}`, innerSignature)) badSignature("inner");
  const documentBytes = decodeBase64url(innerParts[1] as string, "inner payload", "ENVELOPE_MALFORMED");
  const document = parseJsonObject(documentBytes, "document", "ENVELOPE_MALFORMED");
  options.validateDocument?.(header.type, document, header);

  return {
    header,
    document,
    envelopeId: header.id,
    envelopeDigest,
    duplicate,
    signer: outerSigner.identity,
    innerSigner: innerSigner.identity,
  };
}

/** The wire object from bytes, text or an object, size checked before parsing. */
function parseWire(wire: unknown, maxBytes: number): FlattenedJws {
  let value: unknown = wire;
  if (typeof wire === "string" || wire instanceof Uint8Array) {
    const size = typeof wire === "string" ? Buffer.byteLength(wire, "utf8") : wire.byteLength;
    if (size > maxBytes) tooLarge(size, maxBytes);
    const bytes = typeof wire === "string" ? new TextEncoder().encode(wire) : wire;
    value = parseJsonObject(bytes, "envelope", "ENVELOPE_MALFORMED");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) malformed("the envelope is not a JSON object");
  const record = value as Record<string, unknown>;
  // Exactly the flattened members: an unprotected `header` would carry
  // unsigned parameters, and a `signatures` array another serialisation.
  const keys = Object.keys(record);
  if (keys.length !== OUTER_MEMBERS.length || !OUTER_MEMBERS.every((member) => typeof record[member] === "string")) {
    malformed("the envelope must have exactly protected, payload and signature strings");
  }
  const jws = { protected: record.protected, payload: record.payload, signature: record.signature } as FlattenedJws;
  const size = jws.protected.length + jws.payload.length + jws.signature.length;
  if (size > maxBytes) tooLarge(size, maxBytes);
  return jws;
}

async function decrypt(
  header: RoutingHeader,
  keys: readonly DecryptionKey[],
  headerLimits: { maxBytes: number; code: "ENVELOPE_MALFORMED"; tooLargeCode: "ENVELOPE_TOO_LARGE" },
): Promise<string> {
  const parts = splitCompact(header.payload, 5, "JWE", "ENVELOPE_MALFORMED");
  if (!parts.every((part) => BASE64URL.test(part))) malformed("a JWE part is not base64url");
  const jweHeader = decodeJsonObject(parts[0] as string, "JWE protected header", headerLimits);
  checkMembers(jweHeader, JWE_HEADER_MEMBERS, "JWE protected header");
  // Only ECDH-ES+A256KW / A256GCM: no RSA1_5 padding oracles, no PBES2 cost
  // bombs, no `dir` with a guessed key, no `zip` decompression bombs.
  if (jweHeader.alg !== KEY_MANAGEMENT_ALGORITHM || jweHeader.enc !== CONTENT_ENCRYPTION_ALGORITHM) {
    throw new GatewayError("ENVELOPE_ALG_NOT_ALLOWED", "The JWE algorithms are not ECDH-ES+A256KW / A256GCM.", {
      details: { layer: "jwe", alg: String(jweHeader.alg).slice(0, 32), enc: String(jweHeader.enc).slice(0, 32) },
    });
  }
  if (jweHeader.eid !== header.id) eidMismatch("jwe");
  // Explicit typing (RFC 8725 §3.11): each layer says what it is, so a JWE
  // made for another purpose with the same key (or an inner JWS moved up a
  // layer) is not taken for an encrypted Valise document.
  if (jweHeader.typ !== ENCRYPTED_DOCUMENT_TYP) malformed(`JWE typ must be ${ENCRYPTED_DOCUMENT_TYP}`, "typ");
  const key = keys.find((candidate) => candidate.kid === jweHeader.kid);
  if (key === undefined) {
    throw new GatewayError("ENVELOPE_DECRYPT_FAILED", "No decryption key has the JWE's kid.", {
      details: { kid: typeof jweHeader.kid === "string" ? jweHeader.kid.slice(0, 64) : undefined },
    });
  }
  let plaintext: Uint8Array;
  try {
    plaintext = compactDecrypt(
      {
        protectedPart: parts[0] as string,
        header: jweHeader,
        encryptedKey: decodeBase64url(parts[1] as string, "JWE encrypted key", "ENVELOPE_MALFORMED"),
        iv: decodeBase64url(parts[2] as string, "JWE iv", "ENVELOPE_MALFORMED"),
        ciphertext: decodeBase64url(parts[3] as string, "JWE ciphertext", "ENVELOPE_MALFORMED"),
        tag: decodeBase64url(parts[4] as string, "JWE tag", "ENVELOPE_MALFORMED"),
      },
      key.privateKey,
    );
  } catch (cause) {
    throw new GatewayError("ENVELOPE_DECRYPT_FAILED", "The JWE does not decrypt.", { cause, details: { kid: key.kid } });
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(plaintext);
  } catch (cause) {
    throw new GatewayError("ENVELOPE_MALFORMED", "The decrypted inner JWS is not text.", { cause });
  }
}

function checkSigningAlg(alg: unknown, layer: string): "EdDSA" | "ES256" | "ES384" {
  if (!isSigningAlgorithm(alg)) {
    throw new GatewayError("ENVELOPE_ALG_NOT_ALLOWED", `The ${layer} JWS algorithm is not EdDSA, ES256 or ES384.`, {
      details: { layer, alg: String(alg).slice(0, 32) },
    });
  }
  return alg;
}

function checkMembers(header: Record<string, unknown>, allowed: ReadonlySet<string>, what: string): void {
  // `crit`, `jku`, `jwk`, `x5u`, `b64`, `zip`… are refused, not ignored: each
  // lets the attacker steer key selection or processing.
  for (const key of Object.keys(header)) {
    if (!allowed.has(key)) malformed(`${what} has the unexpected member ${key.slice(0, 32)}`, key.slice(0, 32));
  }
}

function sameCertificate(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  const [x, y] = [a[0], b[0]];
  return x !== undefined && y !== undefined && Buffer.from(x).equals(Buffer.from(y));
}

function malformed(why: string, field?: string): never {
  throw new GatewayError("ENVELOPE_MALFORMED", `Malformed envelope: ${why}.`, field === undefined ? {} : { details: { field } });
}

function tooLarge(size: number, limit: number): never {
  throw new GatewayError("ENVELOPE_TOO_LARGE", `The envelope has ${size} bytes; the limit is ${limit}.`, {
    details: { size, limit },
  });
}

function eidMismatch(layer: string): never {
  throw new GatewayError("ENVELOPE_EID_MISMATCH", `The ${layer} eid differs from the routing id.`, { details: { layer } });
}

function clockSkew(header: RoutingHeader, now: Date, direction: "future" | "past"): never {
  throw new GatewayError("ENVELOPE_CLOCK_SKEW", `The envelope's createdAt is too far in the ${direction}.`, {
    details: { createdAt: header.createdAt, now: now.toISOString(), direction },
  });
}

function badSignature(layer: string): never {
  throw new GatewayError("ENVELOPE_BAD_SIGNATURE", `The ${layer} signature does not verify.`, { details: { layer } });
}
