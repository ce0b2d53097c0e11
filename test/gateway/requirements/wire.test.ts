/**
 * The profile version on the wire: the routing header's `requirements`
 * member (a request names the version it was checked against) and the
 * receipt's `requirements` (the receiver's word on compliance), each signed
 * and each checked as strictly as the members around it.
 */
import { expect } from "chai";
import { CompactSign } from "jose";
import { sealEnvelope } from "../../../gateway/envelope/seal.js";
import { openEnvelope } from "../../../gateway/envelope/open.js";
import { checkRoutingHeader } from "../../../gateway/envelope/routing-header.js";
import { signReceipt, verifyReceipt } from "../../../gateway/envelope/receipt.js";
import { canonicalBytes } from "../../../gateway/envelope/canonical-json.js";
import { validateDocument } from "../../../schemas/validate.js";
import { isValiseError } from "../../../pki/errors.js";
import { createPeerPair, type PeerPair } from "../envelope/fixtures.js";

const HEADER = {
  valise: 1,
  id: "0b6a3c1e-5f2d-4e7a-9c8b-1d2e3f4a5b6c",
  type: "mla-request",
  from: "GB-UKCA",
  to: "US-DOJ-OIA",
  caseId: "3f0e9a52-1c1e-4d0a-9b7e-0c5a2f4b9d11",
  priority: "normal",
  createdAt: "2025-09-01T10:00:00.000Z",
  payload: "a.b.c.d.e",
};

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return isValiseError(error) ? error.code : String(error);
  }
  return "accepted";
}

describe("requirements on the wire", () => {
  let pair: PeerPair;
  before(async () => {
    pair = await createPeerPair("ed25519");
  });

  it("accepts a routing header naming a positive version, and refuses anything else", () => {
    expect(checkRoutingHeader({ ...HEADER, requirements: 3 }, "ENVELOPE_MALFORMED").requirements).to.equal(3);
    expect(checkRoutingHeader({ ...HEADER }, "ENVELOPE_MALFORMED")).to.not.have.property("requirements");
    for (const bad of [0, -1, 1.5, "2", null, { version: 2 }]) expect(codeOf(() => checkRoutingHeader({ ...HEADER, requirements: bad }, "ENVELOPE_MALFORMED")), String(bad)).to.equal("ENVELOPE_MALFORMED");
    expect(validateDocument("envelope", { ...HEADER, requirements: 3, id: HEADER.id, payload: "a.b.c.d.e" })).to.deep.equal({ valid: true });
  });

  it("seals the version into the signed routing header, and opening returns it", async () => {
    const sealed = await sealEnvelope({
      document: { kind: "mla-request" },
      type: "mla-request",
      from: pair.gb.authority,
      to: pair.us.authority,
      caseId: HEADER.caseId,
      priority: "normal",
      createdAt: pair.now.toISOString(),
      requirements: 7,
      signer: pair.gb.signer(),
      recipient: pair.us.recipient(),
    });
    expect(sealed.header.requirements).to.equal(7);
    const opened = await openEnvelope(JSON.stringify(sealed.envelope), {
      self: pair.us.authority,
      decryptionKeys: pair.us.decryptionKeys(),
      trustFor: pair.trustFor,
      now: pair.now,
      tlsClientAuthority: pair.gb.authority,
    });
    expect(opened.header.requirements).to.equal(7);
  });

  it("round-trips a receipt's requirements and refuses malformed ones", async () => {
    const receipt = { envelopeId: HEADER.id, envelopeDigest: "a".repeat(64), from: "GB-UKCA", to: "US-DOJ-OIA", receivedAt: pair.now.toISOString(), requirements: { version: 2, compliant: false } };
    const options = { expected: { envelopeId: HEADER.id, envelopeDigest: "a".repeat(64), from: "GB-UKCA", to: "US-DOJ-OIA" }, trustFor: pair.trustFor, now: pair.now };
    const verified = await verifyReceipt(await signReceipt(receipt, pair.us.signer()), options);
    expect(verified.receipt.requirements).to.deep.equal({ version: 2, compliant: false });
    expect(validateDocument("receipt", verified.receipt)).to.deep.equal({ valid: true });
    const signer = pair.us.signer();
    for (const bad of [{ version: 0, compliant: true }, { version: 2 }, { version: 2, compliant: "yes" }, { version: 2, compliant: true, clock: "started" }, 2]) {
      const jws = await new CompactSign(canonicalBytes({ ...receipt, requirements: bad } as never))
        .setProtectedHeader({ alg: "EdDSA", typ: "valise-receipt+jws", kid: pair.us.sign.kid, x5c: [pair.us.sign.certificate.der.toString("base64")] })
        .sign(signer.privateKey);
      const code = await verifyReceipt(jws, options).then(
        () => "accepted",
        (error: unknown) => (isValiseError(error) ? error.code : String(error)),
      );
      expect(code, JSON.stringify(bad)).to.equal("RECEIPT_MALFORMED");
    }
  });
});
