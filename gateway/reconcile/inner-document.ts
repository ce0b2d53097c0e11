/**
 * An envelope's inner document, for the authority that sealed it.
 *
 * A restored gateway that lost its own outbound envelope can get the sealed
 * bytes back from the recipient, but not read them: the middle layer is
 * encrypted to the recipient. The recipient decrypts its stored copy and
 * hands back the inner JWS — still signed by the sender's own `sign` key —
 * so the sender recovers its document and checks, with its own
 * certificates, that it is the one it signed (the recipient could not have
 * made it up). Both halves are here: {@link innerJwsOf} for the recipient,
 * {@link verifyOwnEnvelope} for the sender.
 */
import { createHash } from "node:crypto";
import { compactDecrypt, compactVerify, flattenedVerify } from "jose";
import type { ParsedCertificate } from "../../pki/certificate.js";
import { GatewayError } from "../errors.js";
import { canonicalize } from "../envelope/canonical-json.js";
import type { DecryptionKey } from "../envelope/open.js";
import { envelopeDigestOf } from "../envelope/seal.js";
import type { RoutingHeader } from "../envelope/types.js";
import { decodeX5c } from "../envelope/x5c.js";

/** The inner compact JWS of a stored envelope addressed to this authority (decrypted with one of its keys). */
export async function innerJwsOf(wire: string, keys: readonly DecryptionKey[]): Promise<string> {
  const outer = JSON.parse(wire) as { payload: string };
  const header = JSON.parse(Buffer.from(outer.payload, "base64url").toString("utf8")) as { payload: string };
  const jwe = header.payload;
  const kid = (JSON.parse(Buffer.from(jwe.split(".")[0] ?? "", "base64url").toString("utf8")) as { kid?: string }).kid;
  const key = keys.find((k) => k.kid === kid) ?? keys[0];
  if (key === undefined) throw new GatewayError("ENVELOPE_DECRYPT_FAILED", "no decryption key");
  const { plaintext } = await compactDecrypt(jwe, key.privateKey);
  return new TextDecoder().decode(plaintext);
}

/** An own envelope, verified. */
export interface OwnEnvelope {
  readonly header: RoutingHeader;
  readonly envelopeDigest: string;
  /** The document, canonical JSON. */
  readonly document: string;
  /** JWK thumbprint of the signing key (the outer `kid`). */
  readonly signerKid: string;
}

/**
 * Verifies that `wire` (the flattened JWS) and `innerJws` are an envelope
 * this authority sealed: both signatures by one of its own `sign`
 * certificates (named by `x5c`, matched by fingerprint — the peer's copy is
 * hostile), the routing header from this authority, `eid` equal at both
 * layers and to `envelopeId`. Throws RECONCILE_REFUSED naming what failed.
 */
export async function verifyOwnEnvelope(wire: string, innerJws: string, expected: { envelopeId: string; authority: string; signCertificates: readonly ParsedCertificate[] }): Promise<OwnEnvelope> {
  const refuse = (reason: string): GatewayError => new GatewayError("RECONCILE_REFUSED", `the copy of own envelope ${expected.envelopeId} does not verify: ${reason}`, { details: { envelopeId: expected.envelopeId, reason } });
  let outer: { protected: string; payload: string; signature: string };
  try {
    outer = JSON.parse(wire) as typeof outer;
  } catch {
    throw refuse("not JSON");
  }
  const signerOf = (protectedHeader: { x5c?: unknown }): ParsedCertificate => {
    const chain = decodeX5c(protectedHeader.x5c, 4, "RECONCILE_REFUSED");
    const signer = chain[0] === undefined ? "" : createHash("sha256").update(chain[0]).digest("hex");
    const own = expected.signCertificates.find((c) => c.fingerprint256 === signer);
    if (own === undefined) throw refuse("not signed by one of this authority's sign certificates");
    return own;
  };
  let header: RoutingHeader;
  let kid: string;
  try {
    const outerHeader = JSON.parse(Buffer.from(outer.protected, "base64url").toString("utf8")) as { x5c?: unknown; eid?: unknown; kid?: unknown };
    const verified = await flattenedVerify(outer, signerOf(outerHeader).publicKey);
    header = JSON.parse(new TextDecoder().decode(verified.payload)) as RoutingHeader;
    if (outerHeader.eid !== expected.envelopeId || header.id !== expected.envelopeId) throw refuse("another envelope id");
    kid = String(outerHeader.kid);
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw refuse("the outer signature does not verify");
  }
  if (header.from !== expected.authority) throw refuse("not sent by this authority");
  let document: string;
  try {
    const innerHeader = JSON.parse(Buffer.from(innerJws.split(".")[0] ?? "", "base64url").toString("utf8")) as { x5c?: unknown; eid?: unknown };
    const inner = await compactVerify(innerJws, signerOf(innerHeader).publicKey);
    if (innerHeader.eid !== expected.envelopeId) throw refuse("the inner document names another envelope");
    document = canonicalize(JSON.parse(new TextDecoder().decode(inner.payload)));
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw refuse("the inner signature does not verify");
  }
  return { header, envelopeDigest: envelopeDigestOf(outer), document, signerKid: kid };
}
