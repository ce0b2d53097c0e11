/**
 * node-jose.ts produces what jose produces and opens what jose seals: the
 * wire format of every layer is unchanged by the move to node:crypto.
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { expect } from "chai";
import { CompactEncrypt, CompactSign, FlattenedSign, compactDecrypt as joseDecrypt, compactVerify, flattenedVerify } from "jose";
import { compactDecrypt, compactEncrypt, compactSign, flattenedSign, jwsVerify } from "../../../gateway/envelope/node-jose.js";
import type { SigningAlgorithm } from "../../../gateway/envelope/algorithms.js";

const payload = new TextEncoder().encode(JSON.stringify({ hello: "wörld", n: 1 }));

function partsOf(jwe: string) {
  const [p, k, iv, c, t] = jwe.split(".") as [string, string, string, string, string];
  const b = (s: string) => new Uint8Array(Buffer.from(s, "base64url"));
  return { protectedPart: p, header: JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as Record<string, unknown>, encryptedKey: b(k), iv: b(iv), ciphertext: b(c), tag: b(t) };
}

describe("gateway/envelope/node-jose (jose compatibility)", () => {
  const signers: Array<[SigningAlgorithm, { privateKey: KeyObject; publicKey: KeyObject }]> = [
    ["EdDSA", generateKeyPairSync("ed25519")],
    ["ES256", generateKeyPairSync("ec", { namedCurve: "P-256" })],
    ["ES384", generateKeyPairSync("ec", { namedCurve: "P-384" })],
  ];
  for (const [alg, pair] of signers) {
    it(`${alg}: jose verifies our compact and flattened JWS, we verify jose's`, async () => {
      const header = { alg, kid: "k1", typ: "test+jws" };
      const ours = compactSign(payload, header, alg, pair.privateKey);
      expect((await compactVerify(ours, pair.publicKey, { algorithms: [alg] })).payload).to.deep.equal(payload);
      const flat = flattenedSign(payload, header, alg, pair.privateKey);
      await flattenedVerify(flat, pair.publicKey, { algorithms: [alg] });
      const theirs = await new CompactSign(payload).setProtectedHeader(header).sign(pair.privateKey);
      const [p, b, s] = theirs.split(".") as [string, string, string];
      // Same protected header and payload text; Ed25519 is deterministic, so the same JWS.
      expect(ours.split(".").slice(0, 2)).to.deep.equal([p, b]);
      if (alg === "EdDSA") expect(ours).to.equal(theirs);
      const theirFlat = await new FlattenedSign(payload).setProtectedHeader(header).sign(pair.privateKey);
      expect([flat.protected, flat.payload]).to.deep.equal([theirFlat.protected, theirFlat.payload]);
      expect(jwsVerify(alg, pair.publicKey, `${p}.${b}`, Buffer.from(s, "base64url"))).to.equal(true);
      // Refusals: one flipped byte, a truncated signature, another key.
      const sig = Buffer.from(s, "base64url");
      sig[0] = (sig[0] ?? 0) ^ 1;
      expect(jwsVerify(alg, pair.publicKey, `${p}.${b}`, sig)).to.equal(false);
      expect(jwsVerify(alg, pair.publicKey, `${p}.${b}`, Buffer.from(s, "base64url").subarray(1))).to.equal(false);
      const otherKey = alg === "EdDSA" ? generateKeyPairSync("ed25519").publicKey : generateKeyPairSync("ec", { namedCurve: alg === "ES256" ? "P-256" : "P-384" }).publicKey;
      expect(jwsVerify(alg, otherKey, `${p}.${b}`, Buffer.from(s, "base64url"))).to.equal(false);
    });
  }

  const recipients: Array<[string, { privateKey: KeyObject; publicKey: KeyObject }]> = [
    ["X25519", generateKeyPairSync("x25519")],
    ["P-256", generateKeyPairSync("ec", { namedCurve: "P-256" })],
    ["P-384", generateKeyPairSync("ec", { namedCurve: "P-384" })],
  ];
  for (const [name, pair] of recipients) {
    it(`${name}: jose decrypts our ECDH-ES+A256KW/A256GCM JWE, we decrypt jose's`, async () => {
      const header = { alg: "ECDH-ES+A256KW", enc: "A256GCM", kid: "e1", typ: "test+jwe" };
      const ours = compactEncrypt(payload, header, pair.publicKey);
      const opened = await joseDecrypt(ours, pair.privateKey, { keyManagementAlgorithms: ["ECDH-ES+A256KW"], contentEncryptionAlgorithms: ["A256GCM"] });
      expect(opened.plaintext).to.deep.equal(payload);
      expect(Object.keys(opened.protectedHeader)).to.deep.equal(["alg", "enc", "kid", "typ", "epk"]);
      const theirs = await new CompactEncrypt(payload).setProtectedHeader(header).encrypt(pair.publicKey);
      expect(Object.keys(partsOf(theirs).header)).to.deep.equal(Object.keys(partsOf(ours).header));
      expect(Object.keys(partsOf(theirs).header.epk as object)).to.deep.equal(Object.keys(partsOf(ours).header.epk as object));
      expect(new Uint8Array(compactDecrypt(partsOf(theirs), pair.privateKey))).to.deep.equal(payload);
    });

    it(`${name}: refuses a tampered JWE, a short tag, a private epk or an epk of another curve`, () => {
      const header = { alg: "ECDH-ES+A256KW", enc: "A256GCM", kid: "e1", typ: "test+jwe" };
      const parts = partsOf(compactEncrypt(payload, header, pair.publicKey));
      const throws = (p: Parameters<typeof compactDecrypt>[0]) => expect(() => compactDecrypt(p, pair.privateKey)).to.throw();
      const flip = (bytes: Uint8Array) => { const copy = Uint8Array.from(bytes); copy[0]! ^= 1; return copy; };
      throws({ ...parts, ciphertext: flip(parts.ciphertext) });
      throws({ ...parts, tag: flip(parts.tag) });
      throws({ ...parts, tag: parts.tag.subarray(0, 12) });
      throws({ ...parts, encryptedKey: flip(parts.encryptedKey) });
      throws({ ...parts, iv: flip(parts.iv) });
      throws({ ...parts, iv: parts.iv.subarray(0, 8) });
      const otherHeader = partsOf(compactEncrypt(payload, { ...header, kid: "e2" }, pair.publicKey)).protectedPart;
      throws({ ...parts, protectedPart: otherHeader }); // the AAD binds the header
      throws({ ...parts, header: { ...parts.header, epk: { ...(parts.header.epk as object), d: "AAAA" } } });
      const foreign = name === "X25519" ? generateKeyPairSync("ec", { namedCurve: "P-256" }) : generateKeyPairSync("x25519");
      const foreignEpk = foreign.publicKey.export({ format: "jwk" });
      throws({ ...parts, header: { ...parts.header, epk: foreignEpk } });
      throws({ ...parts, header: { ...parts.header, epk: undefined } });
    });
  }
});
