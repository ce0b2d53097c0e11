import { expect } from "chai";
import { openEnvelope, type OpenEnvelopeOptions } from "../../../gateway/envelope/open.js";
import { sealEnvelope, type SealEnvelopeInput } from "../../../gateway/envelope/seal.js";
import type { FlattenedJws } from "../../../gateway/envelope/types.js";
import { createRootCertificate, issueCertificate } from "../../../pki/certificate.js";
import { createCrl } from "../../../pki/crl.js";
import { generateKeyPair, jwkThumbprint } from "../../../pki/keys.js";
import { craftEnvelope, editJsonPart, flipBase64url, replacePart, type CraftOptions } from "./craft.js";
import { createPeerPair, type Leaf, type PeerPair } from "./fixtures.js";

interface Failure {
  code?: string;
  details?: Record<string, unknown>;
}

async function failureOf(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (error) {
    return error as Failure;
  }
  throw new Error("expected a failure, but it succeeded");
}

const MINUTE = 60 * 1000;

for (const profile of ["ed25519", "p256"] as const) {
  describe(`gateway/envelope/open (${profile})`, () => {
    let pair: PeerPair;
    before(async () => {
      pair = await createPeerPair(profile);
    });

    /** Options for US-DOJ-OIA receiving from GB-UKCA over TLS. */
    function usOptions(overrides: Partial<OpenEnvelopeOptions> = {}): OpenEnvelopeOptions {
      return {
        self: pair.us.authority,
        decryptionKeys: pair.us.decryptionKeys(),
        trustFor: pair.trustFor,
        now: pair.now,
        tlsClientAuthority: pair.gb.authority,
        ...overrides,
      };
    }

    function seal(overrides: Partial<SealEnvelopeInput> = {}) {
      return sealEnvelope({
        document: { kind: "mla-request", summary: "records" },
        type: "mla-request",
        from: pair.gb.authority,
        to: pair.us.authority,
        caseId: "3f0e9a52-1c1e-4d0a-9b7e-0c5a2f4b9d11",
        priority: "normal",
        createdAt: pair.now.toISOString(),
        signer: pair.gb.signer(),
        recipient: pair.us.recipient(),
        ...overrides,
      });
    }

    async function codeOpening(wire: unknown, overrides: Partial<OpenEnvelopeOptions> = {}): Promise<string | undefined> {
      return (await failureOf(openEnvelope(wire, usOptions(overrides)))).code;
    }

    async function codeOfCrafted(options: Omit<CraftOptions, "pair">, overrides: Partial<OpenEnvelopeOptions> = {}) {
      return codeOpening(await craftEnvelope({ pair, ...options }), overrides);
    }

    it("opens the wire form the outbox sends (JSON.stringify) and the canonical bytes alike, to one digest", async () => {
      // The digest covers the JWS signing input, not the JSON object around it (seal.ts, SealedEnvelope.bytes).
      const sealed = await seal();
      const wire = JSON.stringify(sealed.envelope);
      expect(wire).to.not.equal(new TextDecoder().decode(sealed.bytes));
      const fromWire = await openEnvelope(wire, usOptions());
      const fromBytes = await openEnvelope(sealed.bytes, usOptions());
      expect(fromWire.envelopeDigest).to.equal(sealed.envelopeDigest);
      expect(fromBytes.envelopeDigest).to.equal(sealed.envelopeDigest);
    });

    it("opens a crafted baseline envelope (so each crafted failure below has one cause)", async () => {
      const opened = await openEnvelope(await craftEnvelope({ pair }), usOptions());
      expect(opened.document).to.deep.equal({ kind: "mla-request", note: "crafted" });
    });

    describe("flipped bytes", () => {
      it("in the outer protected header → ENVELOPE_BAD_SIGNATURE", async () => {
        const { envelope } = await seal();
        // Same header value, other bytes: "+" written as "\u002b" passes every header check but the signature.
        const tampered = { ...envelope, protected: editJsonPart(envelope.protected, (json) => json.replace("+jws", "\\u002bjws")) };
        expect(await codeOpening(tampered)).to.equal("ENVELOPE_BAD_SIGNATURE");
        // A raw bit flip breaks the header itself.
        const flipped = { ...envelope, protected: flipBase64url(envelope.protected, 2) };
        expect(await codeOpening(flipped)).to.be.oneOf(["ENVELOPE_MALFORMED", "ENVELOPE_BAD_SIGNATURE"]);
      });

      it("in the routing header → ENVELOPE_BAD_SIGNATURE", async () => {
        const { envelope } = await seal();
        const payload = editJsonPart(envelope.payload, (json) => json.replace('"priority":"normal"', '"priority":"urgent"'));
        expect(await codeOpening({ ...envelope, payload })).to.equal("ENVELOPE_BAD_SIGNATURE");
        const caseFlip = editJsonPart(envelope.payload, (json) => json.replace("3f0e9a52", "3f0e9a53"));
        expect(await codeOpening({ ...envelope, payload: caseFlip })).to.equal("ENVELOPE_BAD_SIGNATURE");
      });

      it("in the outer signature → ENVELOPE_BAD_SIGNATURE", async () => {
        const { envelope } = await seal();
        for (const index of [0, 17, -1]) {
          expect(await codeOpening({ ...envelope, signature: flipBase64url(envelope.signature, index) })).to.equal(
            "ENVELOPE_BAD_SIGNATURE",
          );
        }
      });

      it("in the JWE ciphertext or tag, unsigned → ENVELOPE_BAD_SIGNATURE", async () => {
        const { envelope } = await seal();
        const payload = editJsonPart(envelope.payload, (json) => {
          const routing = JSON.parse(json) as { payload: string };
          return json.replace(routing.payload, replacePart(routing.payload, 3, (part) => flipBase64url(part, 0)));
        });
        expect(await codeOpening({ ...envelope, payload })).to.equal("ENVELOPE_BAD_SIGNATURE");
      });

      it("in the JWE ciphertext, tag, IV or wrapped key, re-signed by the sender → ENVELOPE_DECRYPT_FAILED", async () => {
        for (const part of [1, 2, 3, 4]) {
          const mutateJwe = (jwe: string) => replacePart(jwe, part, (text) => flipBase64url(text, -1));
          expect(await codeOfCrafted({ mutateJwe }), `part ${part}`).to.equal("ENVELOPE_DECRYPT_FAILED");
        }
        // The JWE protected header is the GCM additional data.
        const mutateJwe = (jwe: string) => replacePart(jwe, 0, (text) => editJsonPart(text, (json) => json.replace('"A256GCM"', '"A256\\u0047CM"')));
        expect(await codeOfCrafted({ mutateJwe })).to.equal("ENVELOPE_DECRYPT_FAILED");
      });

      it("in the inner JWS → ENVELOPE_BAD_SIGNATURE", async () => {
        const flipPayload = (jws: string) => replacePart(jws, 1, (part) => editJsonPart(part, (json) => json.replace("crafted", "crafteD")));
        expect(await codeOfCrafted({ mutateInner: flipPayload })).to.equal("ENVELOPE_BAD_SIGNATURE");
        const flipSignature = (jws: string) => replacePart(jws, 2, (part) => flipBase64url(part, 5));
        expect(await codeOfCrafted({ mutateInner: flipSignature })).to.equal("ENVELOPE_BAD_SIGNATURE");
      });
    });

    describe("addressing and identity", () => {
      it("refuses an envelope for another authority (ENVELOPE_WRONG_RECIPIENT)", async () => {
        const { envelope } = await seal();
        const failure = await failureOf(
          openEnvelope(envelope, { ...usOptions(), self: pair.gb.authority, decryptionKeys: pair.gb.decryptionKeys() }),
        );
        expect(failure.code).to.equal("ENVELOPE_WRONG_RECIPIENT");
      });

      it("refuses an envelope addressed to us but encrypted to another key (ENVELOPE_DECRYPT_FAILED)", async () => {
        expect(await codeOfCrafted({ recipientKey: pair.gb.encrypt })).to.equal("ENVELOPE_DECRYPT_FAILED");
        // Our kid, someone else's key: the unwrap fails.
        expect(await codeOfCrafted({ recipientKey: pair.gb.encrypt, jweHeader: { kid: pair.us.encrypt.kid } })).to.equal(
          "ENVELOPE_DECRYPT_FAILED",
        );
      });

      it("refuses a TLS client other than the sender (ENVELOPE_TLS_IDENTITY)", async () => {
        const { envelope } = await seal();
        expect(await codeOpening(envelope, { tlsClientAuthority: "FR-MJ-BEPI" })).to.equal("ENVELOPE_TLS_IDENTITY");
        const opened = await openEnvelope(envelope, usOptions({ tlsClientAuthority: undefined }));
        expect(opened.header.from).to.equal("GB-UKCA");
      });

      it("refuses a sender without trust material (ENVELOPE_UNKNOWN_SENDER)", async () => {
        const { envelope } = await seal();
        expect(await codeOpening(envelope, { trustFor: () => undefined })).to.equal("ENVELOPE_UNKNOWN_SENDER");
      });

      it("refuses a signer certificate of another authority (ENVELOPE_SIGNER_AUTHORITY)", async () => {
        const { envelope } = await seal({ signer: pair.us.signer() }); // from GB-UKCA, signed by US-DOJ-OIA
        const failure = await failureOf(openEnvelope(envelope, usOptions()));
        expect(failure.code).to.equal("ENVELOPE_SIGNER_AUTHORITY");
      });

      it("refuses a certificate from a forged root of the same authority (ENVELOPE_SIGNER_UNTRUSTED)", async () => {
        const rootPair = generateKeyPair(profile, "root");
        const fakeRoot = await createRootCertificate({ authority: "GB-UKCA", ...rootPair, now: pair.now });
        const signPair = generateKeyPair(profile, "sign");
        const certificate = await issueCertificate({
          issuer: { certificate: fakeRoot, privateKey: rootPair.privateKey },
          use: "sign",
          publicKey: signPair.publicKey,
          now: pair.now,
        });
        const forged: Leaf = { certificate, ...signPair, kid: await jwkThumbprint(signPair.publicKey) };
        const failure = await failureOf(openEnvelope(await craftEnvelope({ pair, outerSigner: forged }), usOptions()));
        expect(failure.code).to.equal("ENVELOPE_SIGNER_UNTRUSTED");
        expect(failure.details?.pkiCode).to.equal("PKI_CHAIN_UNTRUSTED");
        // Chain given as the forged root in x5c changes nothing: only the pinned root counts.
        expect(await codeOfCrafted({ outerSigner: forged, outerCertificates: [certificate, fakeRoot] })).to.equal(
          "ENVELOPE_SIGNER_UNTRUSTED",
        );
      });

      it("refuses a revoked signer (ENVELOPE_SIGNER_REVOKED)", async () => {
        const { envelope } = await seal({ signer: pair.gb.signer(pair.gb.revokedSign) });
        const failure = await failureOf(openEnvelope(envelope, usOptions()));
        expect(failure.code).to.equal("ENVELOPE_SIGNER_REVOKED");
        expect(failure.details?.pkiCode).to.equal("PKI_CERT_REVOKED");
      });

      it("refuses a signer expired at createdAt (ENVELOPE_SIGNER_EXPIRED)", async () => {
        const { envelope } = await seal({ signer: pair.gb.signer(pair.gb.expiredSign) });
        const failure = await failureOf(openEnvelope(envelope, usOptions()));
        expect(failure.code).to.equal("ENVELOPE_SIGNER_EXPIRED");
        expect(failure.details?.pkiCode).to.equal("PKI_CERT_EXPIRED");
      });

      it("refuses a TLS (not sign) certificate as signer (ENVELOPE_SIGNER_KEY_USAGE)", async () => {
        const { envelope } = await seal({ signer: pair.gb.signer(pair.gb.tls) });
        const failure = await failureOf(openEnvelope(envelope, usOptions()));
        expect(failure.code).to.equal("ENVELOPE_SIGNER_KEY_USAGE");
        expect(failure.details?.pkiCode).to.equal("PKI_KEY_USAGE");
      });

      it("refuses a kid that is not the x5c key's thumbprint (ENVELOPE_KID_MISMATCH)", async () => {
        expect(await codeOfCrafted({ outerHeader: { kid: pair.gb.previousSign.kid } })).to.equal("ENVELOPE_KID_MISMATCH");
        expect(await codeOfCrafted({ innerHeader: { kid: pair.gb.previousSign.kid } })).to.equal("ENVELOPE_KID_MISMATCH");
      });

      it("refuses an inner document signed by another authority (ENVELOPE_INNER_SIGNER_MISMATCH)", async () => {
        expect(await codeOfCrafted({ innerSigner: pair.us.sign })).to.equal("ENVELOPE_INNER_SIGNER_MISMATCH");
      });

      it("accepts an inner document signed by another valid sign key of the sender", async () => {
        const opened = await openEnvelope(await craftEnvelope({ pair, innerSigner: pair.gb.previousSign }), usOptions());
        expect(opened.innerSigner.kid).to.equal(pair.gb.previousSign.kid);
        expect(opened.signer.kid).to.equal(pair.gb.sign.kid);
      });

      it("refuses an inner signer that is revoked, even when the outer one is fine", async () => {
        expect(await codeOfCrafted({ innerSigner: pair.gb.revokedSign })).to.equal("ENVELOPE_SIGNER_REVOKED");
      });
    });

    describe("algorithms", () => {
      it("refuses alg none at the outer and inner layers (ENVELOPE_ALG_NOT_ALLOWED)", async () => {
        expect(await codeOfCrafted({ outerHeader: { alg: "none" } })).to.equal("ENVELOPE_ALG_NOT_ALLOWED");
        expect(await codeOfCrafted({ innerHeader: { alg: "none" } })).to.equal("ENVELOPE_ALG_NOT_ALLOWED");
      });

      it("refuses HS256 keyed with the sender's public key (ENVELOPE_ALG_NOT_ALLOWED)", async () => {
        expect(await codeOfCrafted({ outerHeader: { alg: "HS256" } })).to.equal("ENVELOPE_ALG_NOT_ALLOWED");
        expect(await codeOfCrafted({ innerHeader: { alg: "HS256" } })).to.equal("ENVELOPE_ALG_NOT_ALLOWED");
      });

      it("refuses RS256, lower-case and missing algs (ENVELOPE_ALG_NOT_ALLOWED)", async () => {
        const { envelope } = await seal();
        for (const alg of ["RS256", "PS256", "eddsa", "ES512", undefined, 1]) {
          const protectedPart = editJsonPart(envelope.protected, (json) => {
            const header = JSON.parse(json) as Record<string, unknown>;
            header.alg = alg;
            return JSON.stringify(header);
          });
          expect(await codeOpening({ ...envelope, protected: protectedPart }), String(alg)).to.equal("ENVELOPE_ALG_NOT_ALLOWED");
        }
      });

      it("refuses an allowed alg that does not match the signer's key (ENVELOPE_ALG_NOT_ALLOWED)", async () => {
        const other = profile === "ed25519" ? "ES256" : "EdDSA";
        const { envelope } = await seal();
        const protectedPart = editJsonPart(envelope.protected, (json) => json.replace(/"alg":"[A-Za-z0-9]+"/, `"alg":"${other}"`));
        expect(await codeOpening({ ...envelope, protected: protectedPart })).to.equal("ENVELOPE_ALG_NOT_ALLOWED");
      });

      it("refuses JWE algorithms other than ECDH-ES+A256KW / A256GCM (ENVELOPE_ALG_NOT_ALLOWED)", async () => {
        for (const [alg, enc] of [
          ["ECDH-ES", "A256GCM"],
          ["ECDH-ES+A128KW", "A256GCM"],
          ["ECDH-ES+A256KW", "A128GCM"],
          ["ECDH-ES+A256KW", "A256CBC-HS512"],
        ] as const) {
          expect(await codeOfCrafted({ jweHeader: { alg, enc } }), `${alg}/${enc}`).to.equal("ENVELOPE_ALG_NOT_ALLOWED");
        }
        // Attacker-chosen header on an otherwise bogus JWE: refused before any key is touched.
        for (const alg of ["RSA1_5", "dir", "PBES2-HS512+A256KW"]) {
          const mutateJwe = (jwe: string) =>
            replacePart(jwe, 0, (part) => editJsonPart(part, (json) => json.replace('"ECDH-ES+A256KW"', `"${alg}"`)));
          expect(await codeOfCrafted({ mutateJwe }), alg).to.equal("ENVELOPE_ALG_NOT_ALLOWED");
        }
      });
    });

    describe("envelope ids and time", () => {
      it("refuses an eid that differs at any layer (ENVELOPE_EID_MISMATCH)", async () => {
        const other = "99999999-9999-4999-8999-999999999999";
        expect(await codeOfCrafted({ outerHeader: { eid: other } })).to.equal("ENVELOPE_EID_MISMATCH");
        expect(await codeOfCrafted({ jweHeader: { eid: other } })).to.equal("ENVELOPE_EID_MISMATCH");
        expect(await codeOfCrafted({ innerHeader: { eid: other } })).to.equal("ENVELOPE_EID_MISMATCH");
        expect(await codeOfCrafted({ innerHeader: { eid: undefined } })).to.equal("ENVELOPE_EID_MISMATCH");
      });

      it("refuses an inner cty other than the routing type (ENVELOPE_TYPE_MISMATCH)", async () => {
        expect(await codeOfCrafted({ innerHeader: { cty: "status-update" } })).to.equal("ENVELOPE_TYPE_MISMATCH");
      });

      it("refuses a createdAt outside the clock skew (ENVELOPE_CLOCK_SKEW)", async () => {
        const { envelope } = await seal();
        const late = new Date(pair.now.getTime() + 6 * MINUTE);
        const early = new Date(pair.now.getTime() - 6 * MINUTE);
        expect(await codeOpening(envelope, { now: late })).to.equal("ENVELOPE_CLOCK_SKEW");
        expect(await codeOpening(envelope, { now: early })).to.equal("ENVELOPE_CLOCK_SKEW");
        const opened = await openEnvelope(envelope, usOptions({ now: late, clockSkewMs: 10 * MINUTE }));
        expect(opened.envelopeId).to.be.a("string");
      });

      it("accepts late retries up to maxAgeMs but never from the future beyond the skew", async () => {
        const { envelope } = await seal();
        const hourLater = new Date(pair.now.getTime() + 60 * MINUTE);
        expect(await codeOpening(envelope, { now: hourLater })).to.equal("ENVELOPE_CLOCK_SKEW");
        const opened = await openEnvelope(envelope, usOptions({ now: hourLater, maxAgeMs: 2 * 60 * MINUTE }));
        expect(opened.duplicate).to.equal(false);
        const hourEarlier = new Date(pair.now.getTime() - 60 * MINUTE);
        expect(await codeOpening(envelope, { now: hourEarlier, maxAgeMs: 2 * 60 * MINUTE })).to.equal("ENVELOPE_CLOCK_SKEW");
      });

      it("reports a redelivery of the same bytes as a duplicate, even after the skew", async () => {
        const sealed = await seal();
        const seen = (id: string) => (id === sealed.envelopeId ? sealed.envelopeDigest : undefined);
        const opened = await openEnvelope(sealed.bytes, usOptions({ seen }));
        expect(opened.duplicate).to.equal(true);
        expect(opened.envelopeDigest).to.equal(sealed.envelopeDigest);
        const later = await openEnvelope(sealed.bytes, usOptions({ seen, now: new Date(pair.now.getTime() + 60 * MINUTE) }));
        expect(later.duplicate).to.equal(true);
      });

      it("refuses a known id with other bytes (ENVELOPE_REPLAY)", async () => {
        const first = await seal();
        const second = await seal({ id: first.envelopeId });
        const seen = (id: string) => (id === first.envelopeId ? first.envelopeDigest : undefined);
        const failure = await failureOf(openEnvelope(second.envelope, usOptions({ seen })));
        expect(failure.code).to.equal("ENVELOPE_REPLAY");
        expect(failure.details).to.include({ envelopeId: first.envelopeId, storedDigest: first.envelopeDigest });
      });

      it("does not reveal known ids to unsigned envelopes (signature checked before the replay store)", async () => {
        const first = await seal();
        let asked = false;
        const seen = () => {
          asked = true;
          return first.envelopeDigest;
        };
        const forged = { ...first.envelope, signature: flipBase64url(first.envelope.signature, 3) };
        expect(await codeOpening(forged, { seen })).to.equal("ENVELOPE_BAD_SIGNATURE");
        expect(asked).to.equal(false);
      });
    });

    describe("shape and size", () => {
      it("refuses oversized envelopes and headers before parsing them (ENVELOPE_TOO_LARGE)", async () => {
        const sealed = await seal();
        const limits = { maxEnvelopeBytes: sealed.bytes.length - 1 };
        expect(await codeOpening(sealed.bytes, { limits })).to.equal("ENVELOPE_TOO_LARGE");
        expect(await codeOpening(new TextDecoder().decode(sealed.bytes), { limits })).to.equal("ENVELOPE_TOO_LARGE");
        const { protected: p, payload, signature } = sealed.envelope;
        const objectLimits = { maxEnvelopeBytes: p.length + payload.length + signature.length - 1 };
        expect(await codeOpening(sealed.envelope, { limits: objectLimits })).to.equal("ENVELOPE_TOO_LARGE");
        const huge = new TextEncoder().encode(`{"protected":"${"A".repeat(17 * 1024 * 1024)}"}`);
        expect(await codeOpening(huge)).to.equal("ENVELOPE_TOO_LARGE");
        expect(await codeOfCrafted({ outerHeader: { pad: "x".repeat(40 * 1024) } })).to.equal("ENVELOPE_TOO_LARGE");
        expect(await codeOfCrafted({ innerHeader: { pad: "x".repeat(40 * 1024) } })).to.equal("ENVELOPE_TOO_LARGE");
      });

      it("refuses malformed wire objects (ENVELOPE_MALFORMED)", async () => {
        const { envelope } = await seal();
        const notJson = new TextEncoder().encode("{not json");
        const cases: unknown[] = [
          null,
          42,
          [envelope],
          notJson,
          "",
          new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]),
          { ...envelope, header: { kid: "x" } },
          { protected: envelope.protected, payload: envelope.payload },
          { ...envelope, signature: 7 },
          { ...envelope, signatures: [] },
          { ...envelope, protected: envelope.protected + "=" },
          { ...envelope, protected: envelope.protected.replace(/^./, "+") },
          { ...envelope, signature: `${envelope.signature.slice(1)}/` },
          { ...envelope, payload: Buffer.from("[1,2]").toString("base64url") },
          { ...envelope, payload: Buffer.from("not json").toString("base64url") },
        ];
        for (const wire of cases) {
          expect(await codeOpening(wire), JSON.stringify(wire)?.slice(0, 60)).to.equal("ENVELOPE_MALFORMED");
        }
      });

      it("refuses unexpected header members and routing fields (ENVELOPE_MALFORMED)", async () => {
        const attacker = "https://attacker.example/jwks.json";
        expect(await codeOfCrafted({ outerHeader: { jku: attacker } })).to.equal("ENVELOPE_MALFORMED");
        const { envelope } = await seal();
        const withCrit = editJsonPart(envelope.protected, (json) => json.replace("{", '{"crit":["exp"],"exp":1,'));
        expect(await codeOpening({ ...envelope, protected: withCrit })).to.equal("ENVELOPE_MALFORMED");
        expect(await codeOfCrafted({ outerHeader: { typ: "JWT" } })).to.equal("ENVELOPE_MALFORMED");
        expect(await codeOfCrafted({ outerHeader: { x5c: [] } })).to.equal("ENVELOPE_MALFORMED");
        expect(await codeOfCrafted({ outerHeader: { x5c: ["not base64!"] } })).to.equal("ENVELOPE_MALFORMED");
        expect(await codeOfCrafted({ outerHeader: { x5c: ["AAAA"] } })).to.equal("ENVELOPE_MALFORMED");
        expect(await codeOfCrafted({ outerHeader: { x5c: Array(5).fill(pair.gb.root.der.toString("base64")) } })).to.equal(
          "ENVELOPE_MALFORMED",
        );
        expect(await codeOfCrafted({ jweHeader: { zip: "DEF" } })).to.equal("ENVELOPE_MALFORMED");
        expect(await codeOfCrafted({ jweHeader: { typ: "JWT" } })).to.equal("ENVELOPE_MALFORMED");
        expect(await codeOfCrafted({ innerHeader: { jwk: { kty: "OKP" } } })).to.equal("ENVELOPE_MALFORMED");
        expect(await codeOfCrafted({ innerHeader: { typ: undefined } })).to.equal("ENVELOPE_MALFORMED");
        expect(await codeOfCrafted({ routing: { bcc: "FR-MJ-BEPI" } })).to.equal("ENVELOPE_MALFORMED");
        expect(await codeOfCrafted({ routing: { valise: 2 } })).to.equal("ENVELOPE_MALFORMED");
        expect(await codeOfCrafted({ routing: { createdAt: "2025-13-45" } })).to.equal("ENVELOPE_MALFORMED");
        expect(await codeOfCrafted({ routing: { payload: "a.b.c" } })).to.equal("ENVELOPE_MALFORMED");
        expect(await codeOfCrafted({ mutateInner: () => "not-a-jws" })).to.equal("ENVELOPE_MALFORMED");
      });

      it("refuses a middle JWE that does not say it is valise-document+jwe (ENVELOPE_MALFORMED, field typ)", async () => {
        // Explicit typing: a JWE without typ, or typed for something else, is not an encrypted Valise document.
        for (const typ of [undefined, "JWT", "valise-document+jws", "valise-envelope+jws"]) {
          const failure = await failureOf(openEnvelope(await craftEnvelope({ pair, jweHeader: { typ } }), usOptions()));
          expect(failure.code, String(typ)).to.equal("ENVELOPE_MALFORMED");
          expect(failure.details, String(typ)).to.deep.equal({ field: "typ" });
        }
      });

      it("refuses an inner document that is not a JSON object (ENVELOPE_MALFORMED)", async () => {
        expect(await codeOfCrafted({ document: [1, 2] as never })).to.equal("ENVELOPE_MALFORMED");
        expect(await codeOfCrafted({ document: "text" as never })).to.equal("ENVELOPE_MALFORMED");
      });
    });

    describe("rotation", () => {
      it("opens envelopes signed with the previous sign key, both ways", async () => {
        for (const [sender, recipient] of [
          [pair.gb, pair.us],
          [pair.us, pair.gb],
        ] as const) {
          const { envelope } = await seal({
            from: sender.authority,
            to: recipient.authority,
            signer: sender.signer(sender.previousSign),
            recipient: recipient.recipient(),
          });
          const opened = await openEnvelope(envelope, {
            self: recipient.authority,
            decryptionKeys: recipient.decryptionKeys(),
            trustFor: pair.trustFor,
            now: pair.now,
          });
          expect(opened.signer.kid).to.equal(sender.previousSign.kid);
        }
      });

      it("opens envelopes encrypted to the previous encrypt key while it is among the decryption keys, both ways", async () => {
        for (const [sender, recipient] of [
          [pair.gb, pair.us],
          [pair.us, pair.gb],
        ] as const) {
          const { envelope } = await seal({
            from: sender.authority,
            to: recipient.authority,
            signer: sender.signer(),
            recipient: recipient.recipient(recipient.previousEncrypt),
          });
          const options = { self: recipient.authority, trustFor: pair.trustFor, now: pair.now };
          const opened = await openEnvelope(envelope, { ...options, decryptionKeys: recipient.decryptionKeys() });
          expect(opened.header.from).to.equal(sender.authority);
          const currentOnly = recipient.decryptionKeys().slice(0, 1);
          expect((await failureOf(openEnvelope(envelope, { ...options, decryptionKeys: currentOnly }))).code).to.equal(
            "ENVELOPE_DECRYPT_FAILED",
          );
        }
      });
    });

    describe("document validation hook", () => {
      it("passes the type and document to validateDocument and lets its error through", async () => {
        const { envelope } = await seal();
        const calls: Array<[string, unknown]> = [];
        await openEnvelope(envelope, usOptions({ validateDocument: (type, document) => void calls.push([type, document]) }));
        expect(calls).to.deep.equal([["mla-request", { kind: "mla-request", summary: "records" }]]);
        const refusing = () => {
          throw Object.assign(new Error("schema"), { code: "SCHEMA_INVALID" });
        };
        expect(await codeOpening(envelope, { validateDocument: refusing })).to.equal("SCHEMA_INVALID");
      });
    });

    it("reuses a certificate cache but still checks revocation every time", async () => {
      const parsedCertificates = new Map();
      const { envelope } = await seal();
      await openEnvelope(envelope, usOptions({ parsedCertificates }));
      expect(parsedCertificates.size).to.equal(1);
      const crl = await createCrl({
        issuer: { certificate: pair.gb.root, privateKey: pair.gb.rootKey },
        crlNumber: 2,
        entries: [{ serial: pair.gb.sign.certificate.serial, revokedAt: pair.now, reason: "keyCompromise" }],
        now: new Date(pair.now.getTime() - 60 * MINUTE),
      });
      const trustFor = (authority: string) => (authority === "GB-UKCA" ? { root: pair.gb.root, crl } : undefined);
      const failure = await failureOf(openEnvelope(envelope, usOptions({ parsedCertificates, trustFor })));
      expect(failure.code).to.equal("ENVELOPE_SIGNER_REVOKED");
      // Certificates that fail validation are never cached.
      const revoked = await seal({ signer: pair.gb.signer(pair.gb.revokedSign) });
      await failureOf(openEnvelope(revoked.envelope, usOptions({ parsedCertificates })));
      expect(parsedCertificates.size).to.equal(1);
    });

    it("live path: a key revoked after the envelope's createdAt is still refused when the envelope arrives after the revocation", async () => {
      // Only an auditor's check of history judges at the signing time; a
      // thief of the key can back-date createdAt within the clock skew.
      const { envelope } = await seal();
      const revokedAt = new Date(pair.now.getTime() + 1 * MINUTE);
      const crl = await createCrl({
        issuer: { certificate: pair.gb.root, privateKey: pair.gb.rootKey },
        crlNumber: 3,
        entries: [{ serial: pair.gb.sign.certificate.serial, revokedAt, reason: "superseded" }],
        now: revokedAt,
      });
      const trustFor = (authority: string) => (authority === "GB-UKCA" ? { root: pair.gb.root, crl } : undefined);
      const failure = await failureOf(openEnvelope(envelope, usOptions({ trustFor, now: new Date(pair.now.getTime() + 2 * MINUTE) })));
      expect(failure.code).to.equal("ENVELOPE_SIGNER_REVOKED");
    });

    it("is deterministic: the same inputs give the same result", async () => {
      const sealed = await seal();
      const a = await openEnvelope(sealed.bytes, usOptions());
      const b = await openEnvelope(sealed.bytes, usOptions());
      expect(a).to.deep.equal(b);
    });

    it("leaves the wire object untouched", async () => {
      const { envelope } = await seal();
      const copy: FlattenedJws = { ...envelope };
      await openEnvelope(envelope, usOptions());
      expect(envelope).to.deep.equal(copy);
    });
  });
}
