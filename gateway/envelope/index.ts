/**
 * The sealed envelope layer: RFC 8785 canonical JSON, sign-encrypt-sign
 * envelopes (seal, open) and receipts (DESIGN.md, "Envelope").
 */
export { canonicalize, canonicalBytes, type JsonValue } from "./canonical-json.js";
export {
  SIGNING_ALGORITHMS,
  KEY_MANAGEMENT_ALGORITHM,
  CONTENT_ENCRYPTION_ALGORITHM,
  signingAlgorithmFor,
  type SigningAlgorithm,
} from "./algorithms.js";
export { DEFAULT_ENVELOPE_LIMITS, DEFAULT_CLOCK_SKEW_MS, type EnvelopeLimits } from "./limits.js";
export {
  DOCUMENT_TYP,
  ENCRYPTED_DOCUMENT_TYP,
  ENVELOPE_TYP,
  RECEIPT_TYP,
  PRIORITIES,
  type FlattenedJws,
  type Priority,
  type RoutingHeader,
  type SignerIdentity,
} from "./types.js";
export {
  sealEnvelope,
  envelopeDigestOf,
  type EnvelopeSigner,
  type EnvelopeRecipient,
  type SealEnvelopeInput,
  type SealedEnvelope,
} from "./seal.js";
export { openEnvelope, type DecryptionKey, type OpenEnvelopeOptions, type OpenedEnvelope } from "./open.js";
export type { AuthorityTrust } from "./signer.js";
export {
  signReceipt,
  verifyReceipt,
  type Receipt,
  type ReceiptLogPosition,
  type ExpectedReceipt,
  type VerifyReceiptOptions,
  type VerifiedReceipt,
} from "./receipt.js";
