/**
 * Seal a business document into a Valise envelope: sign, encrypt, sign
 * (DESIGN.md, "Envelope").
 *
 * 1. inner compact JWS over the RFC 8785 canonical JSON of the document, by the
 *    sender's `sign` key;
 * 2. compact JWE of that JWS to the recipient's `encrypt` key
 *    (ECDH-ES+A256KW, A256GCM), typed `valise-document+jwe`;
 * 3. outer flattened JWS, by the sender's `sign` key, over the canonical JSON
 *    routing header whose `payload` is the JWE.
 *
 * The inner signature survives decryption, so the recipient can keep and show
 * a document signed by the sender; the outer one lets anyone route and log the
 * envelope (and check who sent it) without the decryption key.
 */
import { createHash, randomUUID, type KeyObject } from "node:crypto";
import { jwkThumbprint } from "../../pki/keys.js";
import { GatewayError } from "../errors.js";
import {
  assertEncryptionKey,
  CONTENT_ENCRYPTION_ALGORITHM,
  KEY_MANAGEMENT_ALGORITHM,
  signingAlgorithmFor,
} from "./algorithms.js";
import { canonicalBytes, canonicalize } from "./canonical-json.js";
import { compactEncrypt, compactSign, flattenedSign } from "./node-jose.js";
import { checkRoutingHeader } from "./routing-header.js";
import { DOCUMENT_TYP, ENCRYPTED_DOCUMENT_TYP, ENVELOPE_TYP, type FlattenedJws, type Priority, type RoutingHeader } from "./types.js";
import { encodeX5c } from "./x5c.js";
import type { CertificateInput } from "../../pki/certificate.js";

/** The sender's signing material. */
export interface EnvelopeSigner {
  /** Private key of the sender's current `sign` certificate (Ed25519, P-256 or P-384). */
  readonly privateKey: KeyObject;
  /** The `sign` certificate first, then its chain towards the root (the root may be left out). */
  readonly certificates: readonly CertificateInput[];
  /** JWK thumbprint of the key; computed when absent, checked when given. */
  readonly kid?: string;
}

/** The recipient's encryption key, from its current `encrypt` certificate. */
export interface EnvelopeRecipient {
  /** Public key of the recipient's `encrypt` certificate (X25519, P-256 or P-384). */
  readonly publicKey: KeyObject;
  /** JWK thumbprint of that key; computed when absent, checked when given. */
  readonly kid?: string;
}

/** What to seal, and for whom. */
export interface SealEnvelopeInput {
  /** The business document (a plain JSON object). */
  readonly document: Record<string, unknown>;
  /** Its type, e.g. `mla-request`; becomes the routing `type` and the inner `cty`. */
  readonly type: string;
  readonly from: string;
  readonly to: string;
  readonly caseId: string;
  readonly inReplyTo?: string;
  readonly priority: Priority;
  /** Envelope id; a fresh UUID when absent. A retry must pass the same id. */
  readonly id?: string;
  /** RFC 3339 time of sealing; now when absent. */
  readonly createdAt?: string;
  /** A request only: the version of the recipient's requirements profile it was checked against. */
  readonly requirements?: number;
  readonly signer: EnvelopeSigner;
  readonly recipient: EnvelopeRecipient;
}

/** A sealed envelope. */
export interface SealedEnvelope {
  /** The wire object. */
  readonly envelope: FlattenedJws;
  readonly envelopeId: string;
  /** Lowercase hex SHA-256 of `protected + "." + payload` of the outer JWS. */
  readonly envelopeDigest: string;
  /**
   * UTF-8 canonical JSON of {@link envelope}, for callers that want bytes
   * (tests, benchmarks). Not what the gateway sends: the outbox stores and
   * POSTs `JSON.stringify(envelope)` (gateway/exchange/store.ts). Either
   * serialisation carries the same envelope, because the signatures and the
   * {@link envelopeDigest} cover the JWS signing input
   * (`protected + "." + payload`), never the JSON object around it.
   */
  readonly bytes: Uint8Array;
  /** The routing header that the outer JWS signs. */
  readonly header: RoutingHeader;
  /** The RFC 8785 canonical JSON of the document, as signed in the inner JWS (what the gateway stores beside the wire). */
  readonly documentJson: string;
}

/**
 * Sign, encrypt and sign `document` for `recipient` (DESIGN.md, "Envelope").
 *
 * @throws GatewayError `ENVELOPE_INVALID_ARGUMENT` on a malformed routing field,
 *   an unsupported key, a `kid` that is not the key's thumbprint, or a missing
 *   certificate; `CANONICAL_JSON_UNSUPPORTED` when the document is not JSON.
 *
 * @example
 * const { envelope, envelopeDigest } = await sealEnvelope({
 *   document, type: "mla-request", from: "GB-UKCA", to: "US-DOJ-OIA",
 *   caseId: "GB-2025-0001", priority: "normal",
 *   signer: { privateKey, certificates: [signCertPem, rootPem] },
 *   recipient: { publicKey: peerEncryptKey },
 * });
 */
export async function sealEnvelope(input: SealEnvelopeInput): Promise<SealedEnvelope> {
  const id = input.id ?? randomUUID();
  const createdAt = input.createdAt ?? new Date().toISOString();
  const alg = signingAlgorithmFor(input.signer.privateKey);
  assertEncryptionKey(input.recipient.publicKey);
  const signKid = await checkedKid(input.signer.privateKey, input.signer.kid, "signer");
  const encryptKid = await checkedKid(input.recipient.publicKey, input.recipient.kid, "recipient");
  const x5c = encodeX5c(input.signer.certificates);
  // Validate every routing field up front, with a placeholder payload, so a
  // bad argument fails before any key is used.
  checkRoutingHeader(
    routingFields(input, id, createdAt, "") as unknown as Record<string, unknown>,
    "ENVELOPE_INVALID_ARGUMENT",
  );
  if (typeof input.document !== "object" || input.document === null || Array.isArray(input.document)) {
    throw new GatewayError("ENVELOPE_INVALID_ARGUMENT", "The document must be a JSON object.");
  }

  // One pass per layer on node:crypto (node-jose.ts): the serialisations
  // jose would produce, without its WebCrypto round trips.
  const documentJson = canonicalize(input.document);
  const inner = compactSign(
    Buffer.from(documentJson, "utf8"),
    { alg, kid: signKid, x5c, eid: id, typ: DOCUMENT_TYP, cty: input.type },
    alg,
    input.signer.privateKey,
  );

  const jwe = compactEncrypt(
    Buffer.from(inner, "latin1"),
    { alg: KEY_MANAGEMENT_ALGORITHM, enc: CONTENT_ENCRYPTION_ALGORITHM, kid: encryptKid, eid: id, typ: ENCRYPTED_DOCUMENT_TYP },
    input.recipient.publicKey,
  );

  const header = routingFields(input, id, createdAt, jwe);
  const envelope: FlattenedJws = flattenedSign(canonicalBytes(header), { alg, kid: signKid, x5c, eid: id, typ: ENVELOPE_TYP }, alg, input.signer.privateKey);

  // `bytes` is computed on first read: the gateway never reads it (it sends
  // JSON.stringify(envelope)), and canonicalising the whole envelope again
  // would cost as much as the routing header's canonical JSON.
  let bytes: Uint8Array | undefined;
  return {
    envelope,
    envelopeId: id,
    envelopeDigest: envelopeDigestOf(envelope),
    get bytes(): Uint8Array {
      bytes ??= new TextEncoder().encode(canonicalize(envelope));
      return bytes;
    },
    header,
    documentJson,
  };
}

/**
 * The envelope digest: lowercase hex SHA-256 of the ASCII outer signing input
 * `protected + "." + payload`. What logs, receipts and custody reports name.
 */
export function envelopeDigestOf(envelope: Pick<FlattenedJws, "protected" | "payload">): string {
  return createHash("sha256").update(`${envelope.protected}.${envelope.payload}`, "ascii").digest("hex");
}

function routingFields(input: SealEnvelopeInput, id: string, createdAt: string, payload: string): RoutingHeader {
  return {
    valise: 1,
    id,
    type: input.type,
    from: input.from,
    to: input.to,
    caseId: input.caseId,
    ...(input.inReplyTo === undefined ? {} : { inReplyTo: input.inReplyTo }),
    priority: input.priority,
    createdAt,
    ...(input.requirements === undefined ? {} : { requirements: input.requirements }),
    payload,
  };
}

async function checkedKid(key: KeyObject, given: string | undefined, who: string): Promise<string> {
  const kid = await jwkThumbprint(key);
  if (given !== undefined && given !== kid) {
    throw new GatewayError("ENVELOPE_INVALID_ARGUMENT", `The ${who} kid is not the JWK thumbprint of its key.`, {
      details: { who },
    });
  }
  return kid;
}
