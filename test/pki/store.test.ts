import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { initAuthorityPki, openAuthorityPki } from "../../pki/store.js";
import type { AuthorityPki } from "../../pki/store.js";
import { isRevoked } from "../../pki/crl.js";
import { validateCertificatePath } from "../../pki/path.js";
import { expectCode, expectCodeAsync, NOW } from "./fixtures.js";

const PASS = "store test passphrase";
const LATER = new Date(NOW.getTime() + 60 * 60 * 1000);

describe("pki/store", () => {
  let tmp: string;
  let dir: string;
  let pki: AuthorityPki;
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "valise-store-"));
    dir = path.join(tmp, "pki");
    pki = await initAuthorityPki(dir, { authority: "GB-UKCA", profile: "ed25519", endpoint: "https://valise.example.org:8443", ips: ["192.0.2.10"], passphrase: PASS, now: NOW });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("creates root, tls, sign, encrypt and log certificates, an empty CRL and 0600 keys", () => {
    const list = pki.list(NOW);
    expect(list.map((c) => c.use)).to.deep.equal(["root", "tls", "sign", "encrypt", "log"]);
    expect(list.every((c) => c.status === "current")).to.equal(true);
    for (const c of list) expect(fs.statSync(c.keyPath).mode & 0o777, c.keyPath).to.equal(0o600);
    expect(list.find((c) => c.use === "tls")?.sans).to.deep.equal(["URI:urn:valise:authority:GB-UKCA", "DNS:valise.example.org", "IP:192.0.2.10"]);
    expect(pki.crl().entries).to.deep.equal([]);
    expect(pki.rootFingerprint()).to.match(/^[0-9a-f]{64}$/);
    for (const use of ["tls", "sign", "encrypt", "log"] as const) {
      validateCertificatePath({ certificate: pki.currentCertificate(use), trustedRoot: pki.rootCertificate(), crl: pki.crl(), use, at: NOW });
    }
    expect(openAuthorityPki(dir).authority).to.equal("GB-UKCA");
  });

  it("refuses an existing PKI without force, and an invalid authority or missing passphrase", async () => {
    await expectCodeAsync(initAuthorityPki(dir, { authority: "GB-UKCA", profile: "ed25519", endpoint: "https://x.example", passphrase: PASS, now: NOW }), "PKI_EXISTS");
    await expectCodeAsync(initAuthorityPki(path.join(tmp, "bad"), { authority: "uk", profile: "ed25519", endpoint: "https://x.example", passphrase: PASS }), "PKI_INVALID_AUTHORITY_ID");
    await expectCodeAsync(initAuthorityPki(path.join(tmp, "nopass"), { authority: "GB-UKCA", profile: "ed25519", endpoint: "https://x.example", passphrase: "" }), "PKI_PASSPHRASE_MISSING");
    expect(fs.existsSync(path.join(tmp, "bad"))).to.equal(false);
    expectCode(() => openAuthorityPki(path.join(tmp, "none")), "PKI_NOT_FOUND");
    const other = path.join(tmp, "forced");
    const first = (await initAuthorityPki(other, { authority: "FR-MJ", profile: "p256", endpoint: "https://10.0.0.1", passphrase: PASS, now: NOW })).rootFingerprint();
    const second = await initAuthorityPki(other, { authority: "FR-MJ", profile: "p256", endpoint: "https://10.0.0.1", passphrase: PASS, force: true, now: NOW });
    expect(second.rootFingerprint()).to.not.equal(first);
    expect(second.list(NOW).find((c) => c.use === "tls")?.sans).to.include("IP:10.0.0.1");
    expect(fs.readdirSync(tmp).some((f) => f.startsWith("forced.replaced-"))).to.equal(true); // old keys kept aside
  });

  it("decrypts keys with the passphrase only", () => {
    expect(pki.loadPrivateKey("sign", PASS).asymmetricKeyType).to.equal("ed25519");
    expect(pki.loadPrivateKey("encrypt", PASS).asymmetricKeyType).to.equal("x25519");
    expect(pki.loadPrivateKey("root", PASS).type).to.equal("private");
    expectCode(() => pki.loadPrivateKey("sign", "wrong"), "PKI_BAD_PASSPHRASE");
    expectCode(() => pki.loadPrivateKey("sign", ""), "PKI_PASSPHRASE_MISSING");
  });

  it("rotates: a new current certificate, the old one previous and still valid for verification", async () => {
    const old = pki.currentCertificate("sign");
    await expectCodeAsync(pki.rotate("sign", "wrong", LATER), "PKI_BAD_PASSPHRASE");
    const rotated = await pki.rotate("sign", PASS, LATER);
    expect(rotated.status).to.equal("current");
    expect(pki.currentCertificate("sign").serial).to.equal(rotated.serial);
    const usable = pki.certificates("sign");
    expect(usable.map((c) => [c.status, c.certificate.serial])).to.deep.equal([["current", rotated.serial], ["previous", old.serial]]);
    expect(pki.list(LATER).find((c) => c.serial === old.serial)?.status).to.equal("previous");
    validateCertificatePath({ certificate: old, trustedRoot: pki.rootCertificate(), crl: pki.crl(), use: "sign", at: LATER });
    expect(pki.loadPrivateKey("sign", PASS, old.serial).type).to.equal("private");
    const expiredAt = new Date(old.notAfter.getTime() + 1000);
    expect(pki.list(expiredAt).find((c) => c.serial === old.serial)?.status).to.equal("expired");
  });

  it("revokes: writes a CRL listing the serial, refuses unknown, repeated and root revocations", async () => {
    const previous = pki.certificates("sign").find((c) => c.status === "previous")!.certificate;
    const before = pki.crl().crlNumber!;
    const revocation = await pki.revoke(previous.serial.toUpperCase(), "superseded", PASS, LATER);
    expect(revocation).to.include({ serial: previous.serial, reason: "superseded", use: "sign" });
    const crl = pki.crl();
    expect(crl.crlNumber).to.equal(before + 1);
    expect(isRevoked(crl, previous.serial)?.reason).to.equal("superseded");
    expectCode(
      () => validateCertificatePath({ certificate: previous, trustedRoot: pki.rootCertificate(), crl, use: "sign", at: LATER }),
      "PKI_CERT_REVOKED",
    );
    expect(pki.certificates("sign").map((c) => c.status)).to.deep.equal(["current"]);
    expect(pki.list(LATER).find((c) => c.serial === previous.serial)).to.include({ status: "revoked", reason: "superseded" });
    await expectCodeAsync(pki.revoke(previous.serial, "superseded", PASS, LATER), "PKI_ALREADY_REVOKED");
    await expectCodeAsync(pki.revoke("7f00", "keyCompromise", PASS, LATER), "PKI_UNKNOWN_SERIAL");
    await expectCodeAsync(pki.revoke(pki.rootCertificate().serial, "keyCompromise", PASS, LATER), "PKI_ROOT_NOT_REVOCABLE");
    await expectCodeAsync(pki.revoke(pki.currentCertificate("tls").serial, "keyCompromise", "wrong", LATER), "PKI_BAD_PASSPHRASE");
    expect(pki.list(LATER).find((c) => c.use === "tls" && c.status === "current")).to.not.equal(undefined);
  });

  it("after revoking the current certificate there is none until a rotation", async () => {
    const current = pki.currentCertificate("log");
    await pki.revoke(current.serial, "keyCompromise", PASS, LATER);
    expectCode(() => pki.currentCertificate("log"), "PKI_NO_CURRENT_CERTIFICATE");
    await pki.rotate("log", PASS, LATER);
    expect(pki.currentCertificate("log").serial).to.not.equal(current.serial);
    const refreshed = await pki.refreshCrl(PASS, new Date(LATER.getTime() + 6 * 24 * 3600 * 1000));
    expect(isRevoked(refreshed, current.serial)?.reason).to.equal("keyCompromise");
    // keyCompromise without a date: invalid since the revocation, kept through CRL renewals.
    expect(isRevoked(refreshed, current.serial)?.invalidityDate?.toISOString()).to.equal(LATER.toISOString());
  });

  it("keyCompromise carries the invalidity date given; other reasons and dates after the revocation are refused and change nothing", async () => {
    const target = pki.currentCertificate("encrypt");
    const since = new Date(NOW.getTime() + 1500); // whole seconds in the CRL
    const crlBefore = pki.crlPem();
    await expectCodeAsync(pki.revoke(target.serial, "superseded", PASS, LATER, { invalidSince: since }), "PKI_INVALID_ARGUMENT");
    await expectCodeAsync(pki.revoke(target.serial, "keyCompromise", PASS, LATER, { invalidSince: new Date(LATER.getTime() + 60_000) }), "PKI_INVALID_ARGUMENT");
    expect(pki.crlPem()).to.equal(crlBefore);
    expect(pki.list(LATER).find((c) => c.serial === target.serial)?.status).to.equal("current");

    const revocation = await pki.revoke(target.serial, "keyCompromise", PASS, LATER, { invalidSince: since });
    expect(revocation.invalidSince).to.equal(new Date(NOW.getTime() + 1000).toISOString());
    expect(isRevoked(pki.crl(), target.serial)?.invalidityDate?.toISOString()).to.equal(revocation.invalidSince);
    expect(pki.list(LATER).find((c) => c.serial === target.serial)).to.include({ status: "revoked", reason: "keyCompromise", invalidSince: revocation.invalidSince });
  });
});
