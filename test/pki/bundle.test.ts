import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { CompactSign } from "jose";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { createTrustBundle, decodeTrustBundle, verifyTrustBundle } from "../../pki/bundle.js";
import type { TrustBundleFile } from "../../pki/bundle.js";
import { jwkThumbprint } from "../../pki/keys.js";
import { initAuthorityPki } from "../../pki/store.js";
import type { AuthorityPki } from "../../pki/store.js";
import { addPeer, listPeers, loadPeerTrust, removePeer, updatePeer } from "../../pki/peers.js";
import { validateCertificatePath } from "../../pki/path.js";
import { expectCodeAsync, expectCode, NOW } from "./fixtures.js";

const PASS = "bundle test passphrase";
const HOUR = 60 * 60 * 1000;
const SCHEMA = JSON.parse(fs.readFileSync(new URL("../../schemas/trust-bundle.schema.json", import.meta.url), "utf8"));

function colonHex(hex: string): string {
  return (hex.toUpperCase().match(/.{2}/g) ?? []).join(":");
}

/** Signs an arbitrary header/payload with the PKI's key of `use` (for forged bundles). */
async function forge(pki: AuthorityPki, payload: unknown, use: "sign" | "log" = "sign", header: Record<string, unknown> = {}): Promise<TrustBundleFile> {
  const cert = pki.currentCertificate(use);
  const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: cert.keyAlgorithm === "Ed25519" ? "EdDSA" : "ES256", typ: "valise-trust-bundle+jws", kid: await jwkThumbprint(cert.publicKey), x5c: [cert.der.toString("base64")], ...header })
    .sign(pki.loadPrivateKey(use, PASS));
  return { "valise-trust-bundle": 1, jws };
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

describe("pki/bundle and pki/peers", () => {
  let tmp: string;
  let gb: AuthorityPki;
  let us: AuthorityPki;
  let impostor: AuthorityPki; // claims GB-UKCA with another root
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "valise-bundle-"));
    gb = await initAuthorityPki(path.join(tmp, "gb"), { authority: "GB-UKCA", profile: "ed25519", endpoint: "https://valise.gb.example", passphrase: PASS, now: NOW });
    us = await initAuthorityPki(path.join(tmp, "us"), { authority: "US-DOJ-OIA", profile: "p256", endpoint: "https://valise.us.example", passphrase: PASS, now: NOW });
    impostor = await initAuthorityPki(path.join(tmp, "imp"), { authority: "GB-UKCA", profile: "ed25519", endpoint: "https://evil.example", passphrase: PASS, now: NOW });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const name of ["gb", "us"] as const) {
    it(`round-trips a bundle (${name}) and the schema validates file and payload`, async () => {
      const pki = name === "gb" ? gb : us;
      const file = await createTrustBundle(pki, PASS, NOW);
      const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
      addFormats.default(ajv);
      ajv.addSchema(SCHEMA);
      expect(ajv.validate(SCHEMA.$id, file), JSON.stringify(ajv.errors)).to.equal(true);
      const { header, payload } = decodeTrustBundle(file);
      expect(ajv.validate(`${SCHEMA.$id}#/$defs/payload`, payload)).to.equal(true);
      expect(ajv.validate(`${SCHEMA.$id}#/$defs/protectedHeader`, header)).to.equal(true);
      expect(header.alg).to.equal(name === "gb" ? "EdDSA" : "ES256");
      const verified = await verifyTrustBundle(JSON.parse(JSON.stringify(file)), { fingerprint: colonHex(pki.rootFingerprint()), now: NOW });
      expect(verified.authority).to.equal(pki.authority);
      expect(verified.endpoint).to.equal(pki.endpoint);
      expect(verified.certificates.map((c) => c.use)).to.have.members(["tls", "sign", "encrypt", "log"]);
      expect(verified.signer.serial).to.equal(pki.currentCertificate("sign").serial);
      const byPem = await verifyTrustBundle(file, { pinnedRootPem: pki.rootCertificate().pem, now: NOW });
      expect(byPem.rootFingerprint).to.equal(pki.rootFingerprint());
      expect(JSON.stringify(file)).to.not.contain("PRIVATE KEY");
    });
  }

  it("refuses a root that does not match the fingerprint (PKI_FINGERPRINT_MISMATCH)", async () => {
    const file = await createTrustBundle(impostor, PASS, NOW);
    await expectCodeAsync(verifyTrustBundle(file, { fingerprint: gb.rootFingerprint(), now: NOW }), "PKI_FINGERPRINT_MISMATCH");
    await expectCodeAsync(verifyTrustBundle(file, { pinnedRootPem: gb.rootCertificate().pem, now: NOW }), "PKI_FINGERPRINT_MISMATCH");
  });

  it("refuses a tampered signature or payload (PKI_BUNDLE_SIGNATURE)", async () => {
    const file = await createTrustBundle(gb, PASS, NOW);
    const [h, p, s] = file.jws.split(".") as [string, string, string];
    const flipped = `${s.slice(0, 10)}${s[10] === "A" ? "B" : "A"}${s.slice(11)}`;
    await expectCodeAsync(verifyTrustBundle({ ...file, jws: `${h}.${p}.${flipped}` }, { fingerprint: gb.rootFingerprint(), now: NOW }), "PKI_BUNDLE_SIGNATURE");
    const payload = decodeTrustBundle(file).payload;
    const moved = b64url({ ...payload, endpoint: "https://evil.example" });
    await expectCodeAsync(verifyTrustBundle({ ...file, jws: `${h}.${moved}.${s}` }, { fingerprint: gb.rootFingerprint(), now: NOW }), "PKI_BUNDLE_SIGNATURE");
  });

  it("refuses a bundle signed by a key that is not a sign certificate of the root (PKI_BUNDLE_SIGNATURE)", async () => {
    const payload = decodeTrustBundle(await createTrustBundle(gb, PASS, NOW)).payload;
    const byLog = await forge(gb, payload, "log");
    const error = await expectCodeAsync(verifyTrustBundle(byLog, { fingerprint: gb.rootFingerprint(), now: NOW }), "PKI_BUNDLE_SIGNATURE");
    expect(error.details).to.deep.equal({ reason: "PKI_KEY_USAGE" });
    const byImpostor = await forge(impostor, payload);
    await expectCodeAsync(verifyTrustBundle(byImpostor, { fingerprint: gb.rootFingerprint(), now: NOW }), "PKI_BUNDLE_SIGNATURE");
  });

  it("historical: an auditor's bundle still verifies after its CRL expired (30 days later), and its signer is judged at issuedAt", async () => {
    const bundle = await createTrustBundle(gb, PASS, NOW);
    const later = new Date(NOW.getTime() + 30 * 24 * HOUR);
    const live = await expectCodeAsync(verifyTrustBundle(bundle, { fingerprint: gb.rootFingerprint(), now: later }), "PKI_BUNDLE_SIGNATURE");
    expect(live.details).to.include({ reason: "PKI_CRL_EXPIRED" });
    const kept = await verifyTrustBundle(bundle, { fingerprint: gb.rootFingerprint(), now: later, historical: true });
    expect(kept.authority).to.equal("GB-UKCA");
    // Still pinned and still signed: history does not loosen either.
    await expectCodeAsync(verifyTrustBundle(bundle, { fingerprint: impostor.rootFingerprint(), now: later, historical: true }), "PKI_FINGERPRINT_MISMATCH");
    const forged = await createTrustBundle(impostor, PASS, NOW);
    await expectCodeAsync(verifyTrustBundle(forged, { fingerprint: gb.rootFingerprint(), now: later, historical: true }), "PKI_FINGERPRINT_MISMATCH");
  });

  it("refuses a wrong schema (PKI_BUNDLE_SCHEMA, listing the failing paths) and a disallowed alg", async () => {
    const good = await createTrustBundle(gb, PASS, NOW);
    const pin = { fingerprint: gb.rootFingerprint(), now: NOW };
    let error = await expectCodeAsync(verifyTrustBundle({ jws: good.jws }, pin), "PKI_BUNDLE_SCHEMA");
    expect(JSON.stringify(error.details)).to.contain("file");
    await expectCodeAsync(verifyTrustBundle({ ...good, extra: 1 }, pin), "PKI_BUNDLE_SCHEMA");
    await expectCodeAsync(verifyTrustBundle("nope", pin), "PKI_BUNDLE_SCHEMA");
    const { crl: _crl, ...payload } = decodeTrustBundle(good).payload;
    error = await expectCodeAsync(verifyTrustBundle(await forge(gb, { ...payload, profile: "rsa" }), pin), "PKI_BUNDLE_SCHEMA");
    const paths = (error.details?.["errors"] as { path: string }[]).map((e) => e.path);
    expect(paths).to.include.members(["payload", "payload/profile"]);
    const [, p, s] = good.jws.split(".") as [string, string, string];
    await expectCodeAsync(verifyTrustBundle({ ...good, jws: `${b64url({ alg: "none", typ: "valise-trust-bundle+jws" })}.${p}.${s}` }, pin), "PKI_BUNDLE_ALGORITHM");
    await expectCodeAsync(verifyTrustBundle({ ...good, jws: `${b64url({ alg: "HS256" })}.${p}.${s}` }, pin), "PKI_BUNDLE_ALGORITHM");
  });

  it("adds, lists, loads, updates and removes peers", async () => {
    const peers = path.join(tmp, "peers");
    const bundlePath = path.join(tmp, "us.bundle.json");
    fs.writeFileSync(bundlePath, JSON.stringify(await createTrustBundle(us, PASS, NOW)));
    await expectCodeAsync(addPeer(peers, bundlePath, gb.rootFingerprint(), NOW), "PKI_FINGERPRINT_MISMATCH");
    const added = await addPeer(peers, bundlePath, us.rootFingerprint().toUpperCase(), NOW);
    expect(added).to.include({ authority: "US-DOJ-OIA", endpoint: "https://valise.us.example", rootFingerprint: us.rootFingerprint() });
    await expectCodeAsync(addPeer(peers, bundlePath, us.rootFingerprint(), NOW), "PKI_PEER_EXISTS");
    expect(listPeers(peers).map((p) => p.authority)).to.deep.equal(["US-DOJ-OIA"]);

    const trust = loadPeerTrust(peers, "US-DOJ-OIA");
    const sign = trust.certificates.find((c) => c.use === "sign" && c.status === "current")!.certificate;
    expect(validateCertificatePath({ certificate: sign, trustedRoot: trust.root, crl: trust.crl, use: "sign", at: NOW, expectedAuthority: "US-DOJ-OIA" }).authority).to.equal("US-DOJ-OIA");

    await us.rotate("sign", PASS, new Date(NOW.getTime() + HOUR));
    const newer = await createTrustBundle(us, PASS, new Date(NOW.getTime() + 2 * HOUR));
    const updated = await updatePeer(peers, newer, new Date(NOW.getTime() + 2 * HOUR));
    expect(updated.issuedAt).to.equal(new Date(NOW.getTime() + 2 * HOUR).toISOString());
    expect(loadPeerTrust(peers, "US-DOJ-OIA").certificates.filter((c) => c.use === "sign").map((c) => c.status)).to.deep.equal(["current", "previous"]);
    await expectCodeAsync(updatePeer(peers, bundlePath, new Date(NOW.getTime() + 3 * HOUR)), "PKI_BUNDLE_STALE");

    expectCode(() => removePeer(peers, "FR-MJ"), "PKI_PEER_UNKNOWN");
    expectCode(() => loadPeerTrust(peers, "../gb"), "PKI_INVALID_AUTHORITY_ID");
    removePeer(peers, "US-DOJ-OIA");
    expect(listPeers(peers)).to.deep.equal([]);
    expectCode(() => loadPeerTrust(peers, "US-DOJ-OIA"), "PKI_PEER_UNKNOWN");
  });

  it("refuses an authority id already bound to another root (PKI_PEER_ROOT_CONFLICT) and unknown peers", async () => {
    const peers = path.join(tmp, "peers-conflict");
    await addPeer(peers, await createTrustBundle(gb, PASS, NOW), gb.rootFingerprint(), NOW);
    const evil = await createTrustBundle(impostor, PASS, new Date(NOW.getTime() + HOUR));
    // Even with the impostor's own (correct) fingerprint, GB-UKCA is already pinned to another root.
    await expectCodeAsync(addPeer(peers, evil, impostor.rootFingerprint(), new Date(NOW.getTime() + HOUR)), "PKI_PEER_ROOT_CONFLICT");
    await expectCodeAsync(updatePeer(peers, evil, new Date(NOW.getTime() + HOUR)), "PKI_PEER_ROOT_CONFLICT");
    await expectCodeAsync(updatePeer(peers, await createTrustBundle(us, PASS, NOW), NOW), "PKI_PEER_UNKNOWN");
    expect(loadPeerTrust(peers, "GB-UKCA").rootFingerprint).to.equal(gb.rootFingerprint());
  });
});
