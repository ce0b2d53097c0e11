/**
 * Shapes shared by sealing and opening envelopes: the wire object, the routing
 * header, and the protected-header `typ` values that say which layer is which.
 */

/** `typ` of the inner compact JWS over the business document. */
export const DOCUMENT_TYP = "valise-document+jws";

/** `typ` of the middle compact JWE carrying the inner JWS. */
export const ENCRYPTED_DOCUMENT_TYP = "valise-document+jwe";

/** `typ` of the outer flattened JWS over the routing header. */
export const ENVELOPE_TYP = "valise-envelope+jws";

/** `typ` of a receipt's compact JWS. */
export const RECEIPT_TYP = "valise-receipt+jws";

/** The envelope on the wire: an RFC 7515 flattened JSON JWS (no unprotected header). */
export interface FlattenedJws {
  /** base64url of the protected header JSON. */
  readonly protected: string;
  /** base64url of the canonical JSON routing header. */
  readonly payload: string;
  /** base64url signature over `protected + "." + payload`. */
  readonly signature: string;
}

/** How urgent an envelope is; orders queues and case clocks. */
export type Priority = "normal" | "urgent" | "emergency";

/** Every {@link Priority}, least urgent first. */
export const PRIORITIES: readonly Priority[] = ["normal", "urgent", "emergency"];

/**
 * The routing header, signed by the outer JWS. Everything a relay or a receiver
 * needs before decrypting; `payload` is the compact JWE of the inner JWS.
 */
export interface RoutingHeader {
  readonly valise: 1;
  /** Envelope id, never re-minted on retry; equal to `eid` at every layer. */
  readonly id: string;
  /** Document type, e.g. `mla-request`; equal to the inner `cty`. */
  readonly type: string;
  /** Sender authority id. */
  readonly from: string;
  /** Recipient authority id. */
  readonly to: string;
  readonly caseId: string;
  /** Envelope id this one answers, if any. */
  readonly inReplyTo?: string;
  readonly priority: Priority;
  /** RFC 3339 time of sealing; certificates are checked at this time. */
  readonly createdAt: string;
  /**
   * A request only: the version of the recipient's requirements profile the
   * sender checked it against (gateway/requirements/); the recipient
   * re-checks against the same version.
   */
  readonly requirements?: number;
  /** Compact JWE of the inner JWS. */
  readonly payload: string;
}

/** Who signed a layer, as established by opening it. */
export interface SignerIdentity {
  /** Authority id from the certificate's `urn:valise:authority:` SAN URI. */
  readonly authority: string;
  /** JWK thumbprint of the signing key (the header's `kid`, checked). */
  readonly kid: string;
  /** Lowercase hex SHA-256 of the signer certificate's DER. */
  readonly fingerprint: string;
}
