import { expect } from "chai";
import { CompactSign, decodeProtectedHeader } from "jose";
import { signReceipt, verifyReceipt, type Receipt, type VerifyReceiptOptions } from "../../../gateway/envelope/receipt.js";
import { validateDocument } from "../../../schemas/validate.js";
import { editJsonPart, flipBase64url, replacePart } from "./craft.js";
import { createPeerPair, type PeerPair } from "./fixtures.js";

async function failureOf(promise: Promise<unknown>): Promise<{ code?: string; details?: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; details?: Record<string, unknown> };
  }
  throw new Error("expected a failure, but it succeeded");
}

for (const profile of ["ed25519", "p256"] as const) {
  describe(`gateway/envelope/receipt (${profile})`, () => {
    let pair: PeerPair;
    let receipt: Receipt;
    before(async () => {
      pair = await createPeerPair(profile);
      receipt = {
        envelopeId: "0b6a3c1e-5f2d-4e7a-9c8b-1d2e3f4a5b6c",
        envelopeDigest: "a".repeat(64),
        from: pair.gb.authority,
        to: pair.us.authority,
        receivedAt: pair.now.toISOString(),
        log: {
          origin: "valise/US-DOJ-OIA",
          index: 41,
          checkpoint: "valise/US-DOJ-OIA\n42\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n\n— valise/US-DOJ-OIA sig\n",
          inclusionProof: ["3q2+7w" + "A".repeat(37) + "="],
        },
      };
    });

    function options(overrides: Partial<VerifyReceiptOptions> = {}): VerifyReceiptOptions {
      const { envelopeId, envelopeDigest, from, to } = receipt;
      return { expected: { envelopeId, envelopeDigest, from, to }, trustFor: pair.trustFor, now: pair.now, ...overrides };
    }

    async function codeVerifying(jws: unknown, overrides: Partial<VerifyReceiptOptions> = {}) {
      return (await failureOf(verifyReceipt(jws, options(overrides)))).code;
    }

    it("round-trips a receipt signed by the recipient", async () => {
      const jws = await signReceipt(receipt, pair.us.signer());
      expect(decodeProtectedHeader(jws)).to.include({ typ: "valise-receipt+jws", kid: pair.us.sign.kid });
      const verified = await verifyReceipt(jws, options());
      expect(verified.receipt).to.deep.equal(receipt);
      expect(validateDocument("receipt", verified.receipt)).to.deep.equal({ valid: true });
      expect(verified.signer).to.deep.equal({
        authority: "US-DOJ-OIA",
        kid: pair.us.sign.kid,
        fingerprint: pair.us.sign.certificate.fingerprint256,
      });
      // Canonical JSON payload: keys sorted.
      const payload = Buffer.from(jws.split(".")[1] as string, "base64url").toString("utf8");
      expect(payload.startsWith('{"envelopeDigest":')).to.equal(true);
    });

    it("round-trips a receipt without a log position, signed with the previous key", async () => {
      const { log: _log, ...bare } = receipt;
      const jws = await signReceipt(bare, pair.us.signer(pair.us.previousSign));
      expect((await verifyReceipt(jws, options())).receipt).to.deep.equal(bare);
    });

    it("refuses a receipt for another envelope, digest, sender or recipient (RECEIPT_MISMATCH)", async () => {
      const jws = await signReceipt(receipt, pair.us.signer());
      for (const field of ["envelopeId", "envelopeDigest", "from", "to"] as const) {
        const expected = { ...options().expected, [field]: field === "envelopeDigest" ? "b".repeat(64) : field === "envelopeId" ? "other-id" : "FR-MJ-BEPI" };
        const failure = await failureOf(verifyReceipt(jws, options({ expected })));
        expect(failure.code, field).to.equal("RECEIPT_MISMATCH");
        expect(failure.details?.field).to.equal(field);
      }
    });

    it("refuses flipped bytes (RECEIPT_BAD_SIGNATURE)", async () => {
      const jws = await signReceipt(receipt, pair.us.signer());
      const payloadEdit = replacePart(jws, 1, (part) => editJsonPart(part, (json) => json.replace('"index":41', '"index":40')));
      expect(await codeVerifying(payloadEdit)).to.equal("RECEIPT_BAD_SIGNATURE");
      const signatureFlip = replacePart(jws, 2, (part) => flipBase64url(part, 9));
      expect(await codeVerifying(signatureFlip)).to.equal("RECEIPT_BAD_SIGNATURE");
      const headerEdit = replacePart(jws, 0, (part) => editJsonPart(part, (json) => json.replace("+jws", "\\u002bjws")));
      expect(await codeVerifying(headerEdit)).to.equal("RECEIPT_BAD_SIGNATURE");
    });

    it("refuses a receipt signed by the sender, by a revoked key, or by an unknown authority (RECEIPT_SIGNER_UNTRUSTED)", async () => {
      expect(await codeVerifying(await signReceipt(receipt, pair.gb.signer()))).to.equal("RECEIPT_SIGNER_UNTRUSTED");
      const revoked = await failureOf(verifyReceipt(await signReceipt(receipt, pair.us.signer(pair.us.revokedSign)), options()));
      expect(revoked.code).to.equal("RECEIPT_SIGNER_UNTRUSTED");
      expect(revoked.details?.pkiCode).to.equal("PKI_CERT_REVOKED");
      const jws = await signReceipt(receipt, pair.us.signer());
      expect(await codeVerifying(jws, { trustFor: () => undefined })).to.equal("RECEIPT_SIGNER_UNTRUSTED");
      const wrongKid = replacePart(jws, 0, (part) =>
        editJsonPart(part, (json) => json.replace(pair.us.sign.kid, pair.us.previousSign.kid)),
      );
      expect(await codeVerifying(wrongKid)).to.equal("RECEIPT_SIGNER_UNTRUSTED");
    });

    it("refuses malformed receipts, alg none and HS256 (RECEIPT_MALFORMED)", async () => {
      const jws = await signReceipt(receipt, pair.us.signer());
      const [header, payload] = jws.split(".") as [string, string];
      const none = `${editJsonPart(header, (json) => json.replace(/"alg":"[A-Za-z0-9]+"/, '"alg":"none"'))}.${payload}.`;
      expect(await codeVerifying(none)).to.equal("RECEIPT_MALFORMED");
      const secret = new Uint8Array(pair.us.sign.publicKey.export({ format: "der", type: "spki" }));
      const x5c = [pair.us.sign.certificate.der.toString("base64")];
      const hs256 = await new CompactSign(Buffer.from(payload, "base64url"))
        .setProtectedHeader({ alg: "HS256", kid: pair.us.sign.kid, x5c, typ: "valise-receipt+jws" })
        .sign(secret);
      expect(await codeVerifying(hs256)).to.equal("RECEIPT_MALFORMED");
      for (const bad of [undefined, 12, "a.b", "a.b.c.d", `${header}.${payload}`, "e30.e30.AA"]) {
        expect(await codeVerifying(bad), String(bad)).to.equal("RECEIPT_MALFORMED");
      }
      const extra = replacePart(jws, 1, (part) => editJsonPart(part, (json) => json.replace("{", '{"note":"x",')));
      expect(await codeVerifying(extra)).to.equal("RECEIPT_MALFORMED");
      // receivedAt an hour ahead of the verifier's clock.
      const anHourEarlier = new Date(pair.now.getTime() - 60 * 60 * 1000);
      expect(await codeVerifying(jws, { now: anHourEarlier })).to.equal("RECEIPT_MALFORMED");
    });

    it("refuses to sign a malformed receipt (ENVELOPE_INVALID_ARGUMENT)", async () => {
      for (const bad of [
        { ...receipt, envelopeDigest: "XYZ" },
        { ...receipt, to: "nobody" },
        { ...receipt, receivedAt: "now" },
        { ...receipt, log: { ...receipt.log!, origin: "valise/GB-UKCA" } },
        { ...receipt, log: { ...receipt.log!, index: -1 } },
        { ...receipt, extra: true } as Receipt,
      ]) {
        expect((await failureOf(signReceipt(bad, pair.us.signer()))).code).to.equal("ENVELOPE_INVALID_ARGUMENT");
      }
    });
  });
}
