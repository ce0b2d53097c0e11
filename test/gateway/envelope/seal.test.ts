import { createHash, generateKeyPairSync } from "node:crypto";
import { expect } from "chai";
import { compactDecrypt, compactVerify, decodeProtectedHeader, flattenedVerify } from "jose";
import { canonicalize } from "../../../gateway/envelope/canonical-json.js";
import { openEnvelope } from "../../../gateway/envelope/open.js";
import { envelopeDigestOf, sealEnvelope, type SealEnvelopeInput } from "../../../gateway/envelope/seal.js";
import { assertDocument, ENVELOPE_WIRE, validateDocument } from "../../../schemas/validate.js";
import { createPeerPair, DOCUMENT_TYPES, exampleDocuments, type PeerPair } from "./fixtures.js";

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

function sealInput(pair: PeerPair, overrides: Partial<SealEnvelopeInput> = {}): SealEnvelopeInput {
  return {
    document: { kind: "status-update", status: "acknowledged" },
    type: "status-update",
    from: pair.gb.authority,
    to: pair.us.authority,
    caseId: "3f0e9a52-1c1e-4d0a-9b7e-0c5a2f4b9d11",
    priority: "normal",
    createdAt: pair.now.toISOString(),
    signer: pair.gb.signer(),
    recipient: pair.us.recipient(),
    ...overrides,
  };
}

for (const profile of ["ed25519", "p256"] as const) {
  describe(`gateway/envelope/seal (${profile})`, () => {
    let pair: PeerPair;
    before(async () => {
      pair = await createPeerPair(profile);
    });

    for (const type of DOCUMENT_TYPES) {
      it(`round-trips every ${type} example both ways, schema-valid at every step`, async () => {
        const examples = exampleDocuments(type);
        for (const { document, source } of examples) {
          for (const [sender, recipient] of [
            [pair.gb, pair.us],
            [pair.us, pair.gb],
          ] as const) {
            const sealed = await sealEnvelope({
              document,
              type,
              from: sender.authority,
              to: recipient.authority,
              caseId: "3f0e9a52-1c1e-4d0a-9b7e-0c5a2f4b9d11",
              inReplyTo: "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
              priority: "urgent",
              createdAt: pair.now.toISOString(),
              signer: sender.signer(),
              recipient: recipient.recipient(),
            });
            expect(validateDocument("envelope", sealed.header), `${source} routing header`).to.deep.equal({ valid: true });
            expect(validateDocument(ENVELOPE_WIRE, sealed.envelope), `${source} wire`).to.deep.equal({ valid: true });
            const opened = await openEnvelope(sealed.bytes, {
              self: recipient.authority,
              decryptionKeys: recipient.decryptionKeys(),
              trustFor: pair.trustFor,
              now: pair.now,
              tlsClientAuthority: sender.authority,
              validateDocument: source === "minimal" ? undefined : (name, value) => void assertDocument(name, value),
            });
            expect(opened.document, source).to.deep.equal(JSON.parse(canonicalize(document)));
            expect(opened.envelopeId).to.equal(sealed.envelopeId);
            expect(opened.envelopeDigest).to.equal(sealed.envelopeDigest);
            expect(opened.duplicate).to.equal(false);
            expect(opened.header).to.deep.equal(sealed.header);
            expect(opened.header.inReplyTo).to.equal("7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f");
            expect(opened.signer).to.deep.equal({
              authority: sender.authority,
              kid: sender.sign.kid,
              fingerprint: sender.sign.certificate.fingerprint256,
            });
            expect(opened.innerSigner).to.deep.equal(opened.signer);
          }
        }
      });
    }

    it("builds the three layers with exactly the headers of DESIGN.md", async () => {
      const sealed = await sealEnvelope(sealInput(pair, { id: "0b6a3c1e-5f2d-4e7a-9c8b-1d2e3f4a5b6c" }));
      const alg = profile === "ed25519" ? "EdDSA" : "ES256";
      const x5c = [pair.gb.sign.certificate.der.toString("base64"), pair.gb.root.der.toString("base64")];
      const eid = "0b6a3c1e-5f2d-4e7a-9c8b-1d2e3f4a5b6c";
      expect(Object.keys(sealed.envelope).sort()).to.deep.equal(["payload", "protected", "signature"]);

      // Outer: flattened JWS over the canonical routing header.
      const outerHeader = decodeProtectedHeader(sealed.envelope);
      expect(outerHeader).to.deep.equal({ alg, kid: pair.gb.sign.kid, x5c, eid, typ: "valise-envelope+jws" });
      const outer = await flattenedVerify(sealed.envelope, pair.gb.sign.publicKey);
      const routingText = new TextDecoder().decode(outer.payload);
      const routing = JSON.parse(routingText) as Record<string, unknown>;
      expect(routingText).to.equal(canonicalize(routing));
      expect(Object.keys(routing).sort()).to.deep.equal(
        ["caseId", "createdAt", "from", "id", "payload", "priority", "to", "type", "valise"].sort(),
      );
      expect(routing).to.include({ valise: 1, id: eid, type: "status-update", from: "GB-UKCA", to: "US-DOJ-OIA" });

      // Middle: compact JWE to the recipient's encrypt key.
      const jwe = routing.payload as string;
      const jweHeader = decodeProtectedHeader(jwe);
      expect(jweHeader).to.include({ alg: "ECDH-ES+A256KW", enc: "A256GCM", kid: pair.us.encrypt.kid, eid, typ: "valise-document+jwe" });
      expect(Object.keys(jweHeader).sort()).to.deep.equal(["alg", "eid", "enc", "epk", "kid", "typ"]);
      const { plaintext } = await compactDecrypt(jwe, pair.us.encrypt.privateKey);

      // Inner: compact JWS over the canonical document.
      const inner = new TextDecoder().decode(plaintext);
      expect(decodeProtectedHeader(inner)).to.deep.equal({
        alg,
        kid: pair.gb.sign.kid,
        x5c,
        eid,
        typ: "valise-document+jws",
        cty: "status-update",
      });
      const { payload } = await compactVerify(inner, pair.gb.sign.publicKey);
      expect(new TextDecoder().decode(payload)).to.equal('{"kind":"status-update","status":"acknowledged"}');

      // Digest and bytes.
      const digest = createHash("sha256").update(`${sealed.envelope.protected}.${sealed.envelope.payload}`).digest("hex");
      expect(sealed.envelopeDigest).to.equal(digest).and.match(/^[0-9a-f]{64}$/);
      expect(envelopeDigestOf(sealed.envelope)).to.equal(digest);
      expect(new TextDecoder().decode(sealed.bytes)).to.equal(canonicalize(sealed.envelope));
    });

    it("mints a fresh id per envelope and keeps a given one", async () => {
      const a = await sealEnvelope(sealInput(pair, { createdAt: undefined }));
      const b = await sealEnvelope(sealInput(pair));
      expect(a.envelopeId).to.match(/^[0-9a-f-]{36}$/);
      expect(a.envelopeId).to.not.equal(b.envelopeId);
      expect(Date.parse(a.header.createdAt)).to.be.a("number").and.not.NaN;
      const c = await sealEnvelope(sealInput(pair, { id: a.envelopeId }));
      expect(c.envelopeId).to.equal(a.envelopeId);
      expect(c.envelopeDigest).to.not.equal(a.envelopeDigest); // fresh ECDH and nonce each time
    });

    it("refuses malformed arguments with ENVELOPE_INVALID_ARGUMENT", async () => {
      const ed448 = generateKeyPairSync("ed448");
      const cases: Partial<SealEnvelopeInput>[] = [
        { from: "gb-ukca" },
        { to: "UNITED-KINGDOM-OF-GREAT-BRITAIN" },
        { type: "MLA Request" },
        { caseId: "" },
        { inReplyTo: "../etc/passwd" },
        { priority: "whenever" as never },
        { createdAt: "yesterday" },
        { id: "has spaces" },
        { document: [] as never },
        { signer: { ...pair.gb.signer(), kid: pair.us.sign.kid } },
        { signer: { ...pair.gb.signer(), certificates: [] } },
        { signer: { privateKey: ed448.privateKey, certificates: [pair.gb.sign.certificate] } },
        { recipient: { publicKey: ed448.publicKey } },
        { recipient: { publicKey: pair.us.encrypt.publicKey, kid: pair.us.previousEncrypt.kid } },
      ];
      for (const overrides of cases) {
        expect(await codeOf(sealEnvelope(sealInput(pair, overrides))), JSON.stringify(Object.keys(overrides))).to.equal(
          "ENVELOPE_INVALID_ARGUMENT",
        );
      }
    });

    it("refuses a document that is not canonical JSON", async () => {
      expect(await codeOf(sealEnvelope(sealInput(pair, { document: { amount: Number.NaN } })))).to.equal(
        "CANONICAL_JSON_UNSUPPORTED",
      );
    });
  });
}

describe("gateway/envelope/seal (p384)", () => {
  it("round-trips with ES384 and P-384 ECDH-ES", async () => {
    const pair = await createPeerPair("p384");
    const sealed = await sealEnvelope(sealInput(pair));
    expect(decodeProtectedHeader(sealed.envelope).alg).to.equal("ES384");
    const opened = await openEnvelope(sealed.envelope, {
      self: "US-DOJ-OIA",
      decryptionKeys: pair.us.decryptionKeys(),
      trustFor: pair.trustFor,
      now: pair.now,
    });
    expect(opened.document).to.deep.equal({ kind: "status-update", status: "acknowledged" });
  });
});
