import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createCrl, isRevoked, parseCrlDer, parseCrlPem, untrustedSince, verifyCrl, verifyCrlIssuer } from "../../pki/crl.js";
import { expectCode, makeAuthority, NOW, openssl } from "./fixtures.js";

const DAY = 24 * 60 * 60 * 1000;

for (const profile of ["ed25519", "p256"] as const) {
  describe(`pki/crl (${profile})`, () => {
    it("creates a v2 CRL with number, dates and reasoned entries, and verifies it", async () => {
      const a = await makeAuthority(profile);
      const revokedAt = new Date(NOW.getTime() - 1000);
      const crl = await createCrl({ issuer: a.issuer, crlNumber: 7, entries: [{ serial: a.leaves.sign.serial, revokedAt, reason: "keyCompromise" }], now: NOW });
      const parsed = parseCrlPem(crl.pem);
      expect(parsed.pem).to.contain("-----BEGIN X509 CRL-----");
      expect(parsed.crlNumber).to.equal(7);
      expect(parsed.nextUpdate!.getTime() - parsed.thisUpdate.getTime()).to.equal(7 * DAY);
      expect(parsed.thisUpdate.getTime()).to.be.at.most(NOW.getTime());
      expect(verifyCrl(parsed, a.root, NOW).crlNumber).to.equal(7);
      const entry = isRevoked(parsed, a.leaves.sign.serial.toUpperCase());
      expect(entry?.reason).to.equal("keyCompromise");
      expect(entry?.revokedAt.getTime()).to.equal(Math.floor(revokedAt.getTime() / 1000) * 1000);
      expect(isRevoked(parsed, a.leaves.tls.serial)).to.equal(undefined);
    });

    it("refuses a CRL of another root, a tampered one, an expired one and a future one", async () => {
      const a = await makeAuthority(profile);
      const impostor = await makeAuthority(profile); // same authority id and DN, other key
      const other = await makeAuthority(profile, "FR-MJ");
      expectCode(() => verifyCrl(impostor.crl, a.root, NOW), "PKI_CRL_BAD_SIGNATURE");
      expectCode(() => verifyCrl(other.crl, a.root, NOW), "PKI_CRL_BAD_SIGNATURE");
      const tampered = Buffer.from(a.crl.der);
      tampered.writeUInt8(tampered.readUInt8(tampered.length - 5) ^ 0x01, tampered.length - 5);
      expectCode(() => verifyCrl(parseCrlDer(tampered), a.root, NOW), "PKI_CRL_BAD_SIGNATURE");
      expectCode(() => verifyCrl(a.crl, a.root, new Date(NOW.getTime() + 8 * DAY)), "PKI_CRL_EXPIRED");
      expectCode(() => verifyCrl(a.crl, a.root, new Date(NOW.getTime() - DAY)), "PKI_CRL_NOT_YET_VALID");
    });

    it("verifyCrlIssuer: an expired CRL is still the root's signed record; a forged or tampered one is not", async () => {
      const a = await makeAuthority(profile);
      const impostor = await makeAuthority(profile);
      expect(verifyCrlIssuer(a.crl, a.root).crlNumber).to.equal(1); // whatever the date: no time argument
      expectCode(() => verifyCrlIssuer(impostor.crl, a.root), "PKI_CRL_BAD_SIGNATURE");
      const tampered = Buffer.from(a.crl.der);
      tampered.writeUInt8(tampered.readUInt8(tampered.length - 5) ^ 0x01, tampered.length - 5);
      expectCode(() => verifyCrlIssuer(parseCrlDer(tampered), a.root), "PKI_CRL_BAD_SIGNATURE");
    });

    it("writes a keyCompromise entry's invalidity date, reads it back, and OpenSSL reads the same date", async () => {
      const a = await makeAuthority(profile);
      const invalidityDate = new Date(NOW.getTime() - 3 * DAY);
      const revokedAt = new Date(NOW.getTime() - 1000);
      const crl = await createCrl({
        issuer: a.issuer,
        crlNumber: 2,
        entries: [
          { serial: a.leaves.sign.serial, revokedAt, reason: "keyCompromise", invalidityDate },
          { serial: a.leaves.tls.serial, revokedAt, reason: "superseded" },
        ],
        now: NOW,
      });
      const parsed = parseCrlPem(crl.pem);
      const compromised = isRevoked(parsed, a.leaves.sign.serial)!;
      expect(compromised.invalidityDate?.toISOString()).to.equal(invalidityDate.toISOString());
      expect(untrustedSince(compromised).toISOString()).to.equal(invalidityDate.toISOString());
      const superseded = isRevoked(parsed, a.leaves.tls.serial)!;
      expect(superseded.invalidityDate).to.equal(undefined);
      expect(untrustedSince(superseded).getTime()).to.equal(Math.floor(revokedAt.getTime() / 1000) * 1000);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "valise-crl-"));
      try {
        fs.writeFileSync(path.join(dir, "crl.pem"), crl.pem);
        const text = openssl(["crl", "-in", path.join(dir, "crl.pem"), "-noout", "-text"]);
        expect(text.status, text.output).to.equal(0);
        expect(text.output).to.match(/Invalidity Date:\s*\n?\s*Jan 12 12:00:00 2026 GMT/);
        expect(text.output).to.contain("Key Compromise");
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("untrustedSince: an invalidity date later than the revocation counts as the revocation date", () => {
      const revokedAt = new Date(NOW.getTime() - DAY);
      expect(untrustedSince({ serial: "01", revokedAt, reason: "keyCompromise", invalidityDate: NOW }).getTime()).to.equal(revokedAt.getTime());
    });
  });
}

describe("pki/crl parsing of hostile input", () => {
  it("refuses garbage and a certificate posing as a CRL", async () => {
    const a = await makeAuthority("ed25519");
    expectCode(() => parseCrlDer(Buffer.from("garbage")), "PKI_CRL_PARSE");
    expectCode(() => parseCrlDer(a.root.der), "PKI_CRL_PARSE");
    expectCode(() => parseCrlDer(Buffer.concat([a.crl.der, Buffer.from([0])])), "PKI_CRL_PARSE");
    expectCode(() => parseCrlPem(a.root.pem), "PKI_CRL_PARSE");
  });
});
