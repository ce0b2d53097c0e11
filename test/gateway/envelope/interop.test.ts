/**
 * Interoperability with a JOSE implementation that is not jose: Debian's
 * python3-jwcrypto (installed by .ci/run). Valise's envelope is verified and
 * decrypted by jwcrypto, and jwcrypto's envelope, built the same three-layer
 * way with real Valise certificates in x5c, is opened by openEnvelope.
 * Without jwcrypto the suite fails in CI and is skipped, saying so, elsewhere
 * (test/required-tools.ts).
 */
import { execFileSync } from "node:child_process";
import { randomUUID, type KeyObject } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { openEnvelope } from "../../../gateway/envelope/open.js";
import { sealEnvelope } from "../../../gateway/envelope/seal.js";
import { createPeerPair, exampleDocument, type PeerPair } from "./fixtures.js";
import { JWCRYPTO, requireTool } from "../../required-tools.js";

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "interop_jwcrypto.py");

function jwk(key: KeyObject): Record<string, unknown> {
  return key.export({ format: "jwk" }) as Record<string, unknown>;
}

for (const profile of ["ed25519", "p256"] as const) {
  describe(`gateway/envelope interop with jwcrypto (${profile})`, function () {
    let python: string;
    let pair: PeerPair;
    let dir: string;

    before(async function () {
      python = requireTool(this, JWCRYPTO);
      pair = await createPeerPair(profile);
    });

    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "valise-interop-"));
    });

    afterEach(() => {
      fs.rmSync(dir, { recursive: true, force: true });
    });

    function runPython(mode: "open" | "seal"): string {
      return execFileSync(python, [SCRIPT, mode, dir], { encoding: "utf8", timeout: 20000 });
    }

    it("jwcrypto verifies and decrypts an envelope sealed by Valise", async () => {
      const { document } = exampleDocument("mla-request");
      const sealed = await sealEnvelope({
        document,
        type: "mla-request",
        from: pair.gb.authority,
        to: pair.us.authority,
        caseId: "3f0e9a52-1c1e-4d0a-9b7e-0c5a2f4b9d11",
        priority: "emergency",
        createdAt: pair.now.toISOString(),
        signer: pair.gb.signer(),
        recipient: pair.us.recipient(),
      });
      fs.writeFileSync(path.join(dir, "envelope.json"), sealed.bytes);
      fs.writeFileSync(
        path.join(dir, "keys.json"),
        JSON.stringify({ senderSignPublic: jwk(pair.gb.sign.publicKey), recipientEncryptPrivate: jwk(pair.us.encrypt.privateKey) }),
      );
      const result = JSON.parse(runPython("open")) as Record<string, Record<string, unknown>>;
      expect(result.document).to.deep.equal(JSON.parse(JSON.stringify(document)));
      expect(result.routing).to.include({ id: sealed.envelopeId, from: "GB-UKCA", to: "US-DOJ-OIA", priority: "emergency" });
      expect(result.outerHeader).to.include({ typ: "valise-envelope+jws", eid: sealed.envelopeId });
      expect(result.jweHeader).to.include({ alg: "ECDH-ES+A256KW", enc: "A256GCM", kid: pair.us.encrypt.kid, typ: "valise-document+jwe" });
      expect(result.innerHeader).to.include({ typ: "valise-document+jws", cty: "mla-request" });
    });

    it("Valise opens an envelope sealed by jwcrypto", async () => {
      const id = randomUUID();
      const document = { kind: "status-update", status: "acknowledged", note: "sealed by jwcrypto — ünïcödé" };
      fs.writeFileSync(
        path.join(dir, "keys.json"),
        JSON.stringify({ senderSignPrivate: jwk(pair.us.sign.privateKey), recipientEncryptPublic: jwk(pair.gb.encrypt.publicKey) }),
      );
      fs.writeFileSync(
        path.join(dir, "input.json"),
        JSON.stringify({
          id,
          alg: profile === "ed25519" ? "EdDSA" : "ES256",
          signKid: pair.us.sign.kid,
          encryptKid: pair.gb.encrypt.kid,
          x5c: [pair.us.sign.certificate.der.toString("base64"), pair.us.root.der.toString("base64")],
          type: "status-update",
          from: pair.us.authority,
          to: pair.gb.authority,
          caseId: "3f0e9a52-1c1e-4d0a-9b7e-0c5a2f4b9d11",
          priority: "normal",
          createdAt: pair.now.toISOString(),
          document,
        }),
      );
      runPython("seal");
      const wire = fs.readFileSync(path.join(dir, "envelope.json"));
      const opened = await openEnvelope(new Uint8Array(wire), {
        self: pair.gb.authority,
        decryptionKeys: pair.gb.decryptionKeys(),
        trustFor: pair.trustFor,
        now: pair.now,
        tlsClientAuthority: pair.us.authority,
      });
      expect(opened.document).to.deep.equal(document);
      expect(opened.envelopeId).to.equal(id);
      expect(opened.signer).to.deep.equal({
        authority: "US-DOJ-OIA",
        kid: pair.us.sign.kid,
        fingerprint: pair.us.sign.certificate.fingerprint256,
      });
    });
  });
}
