import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import { expect } from "chai";
import {
  describeCertificate,
  fingerprint256,
  normalizeFingerprint,
  normalizeSerial,
  parseCertificateDer,
  parseCertificatePem,
  useOfCertificate,
} from "../../pki/certificate.js";
import { LEAF_USES } from "../../pki/profiles.js";
import type { Profile } from "../../pki/profiles.js";
import { expectCode, makeAuthority, NOW, openssl } from "./fixtures.js";
import { OPENSSL, requireTool } from "../required-tools.js";
import type { TestAuthority } from "./fixtures.js";

const PROFILE_KEYS: Record<Profile, Record<string, string>> = {
  ed25519: { root: "ED25519", tls: "ED25519", sign: "ED25519", encrypt: "X25519", log: "ED25519" },
  p256: { root: "id-ecPublicKey", tls: "id-ecPublicKey", sign: "id-ecPublicKey", encrypt: "id-ecPublicKey", log: "ED25519" },
  p384: { root: "id-ecPublicKey", tls: "id-ecPublicKey", sign: "id-ecPublicKey", encrypt: "id-ecPublicKey", log: "ED25519" },
};

for (const profile of ["ed25519", "p256"] as const) {
  describe(`pki/certificate (${profile})`, () => {
    let a: TestAuthority;
    let dir: string;
    before(async () => {
      a = await makeAuthority(profile);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "valise-cert-"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("creates a root: self-signed, CA pathLen 0, keyCertSign+cRLSign, SAN URI, 10 years", () => {
      const root = a.root;
      expect(root.isCa).to.equal(true);
      expect(root.pathLength).to.equal(0);
      expect(root.keyUsage).to.have.members(["keyCertSign", "cRLSign"]);
      expect(root.san.uris).to.deep.equal(["urn:valise:authority:GB-UKCA"]);
      expect(root.subject).to.equal("CN=GB-UKCA root, O=GB-UKCA");
      expect(root.x509.verify(root.publicKey)).to.equal(true);
      expect(root.notAfter.getUTCFullYear() - root.notBefore.getUTCFullYear()).to.equal(10);
      expect(root.notBefore.getTime()).to.be.lessThan(NOW.getTime());
      expect(root.serial).to.match(/^[4-7][0-9a-f]{31}$/);
      expect(root.subjectKeyId).to.be.a("string");
    });

    it("issues leaves with the profile's keys, SAN URI on every one, DNS/IP on tls, AKI = root SKI, 1 year", () => {
      for (const use of LEAF_USES) {
        const leaf = a.leaves[use];
        expect(leaf.subject, use).to.equal(`CN=GB-UKCA ${use}, O=GB-UKCA`);
        expect(leaf.san.uris).to.deep.equal(["urn:valise:authority:GB-UKCA"]);
        expect(leaf.authorityKeyId).to.equal(a.root.subjectKeyId);
        expect(leaf.isCa).to.equal(false);
        expect(useOfCertificate(leaf)).to.equal(use);
        expect(leaf.x509.checkIssued(a.root.x509)).to.equal(true);
        expect(leaf.notAfter.getUTCFullYear() - leaf.notBefore.getUTCFullYear()).to.equal(1);
      }
      expect(a.leaves.tls.san.dns).to.deep.equal(["valise.example.org"]);
      expect(a.leaves.tls.san.ips).to.deep.equal(["192.0.2.10"]);
      expect(a.leaves.sign.san.dns).to.deep.equal([]);
    });

    it("openssl x509 -text shows the key usages, EKUs and key algorithm of each use", function () {
      requireTool(this, OPENSSL);
      const expected: Record<string, string[]> = {
        root: ["CA:TRUE, pathlen:0", "Certificate Sign, CRL Sign"],
        tls: ["CA:FALSE", "Digital Signature", "TLS Web Server Authentication, TLS Web Client Authentication", "DNS:valise.example.org", "IP Address:192.0.2.10"],
        sign: ["CA:FALSE", "Digital Signature, Non Repudiation"],
        encrypt: ["CA:FALSE", "Key Agreement"],
        log: ["CA:FALSE", "Digital Signature"],
      };
      for (const [use, cert] of [["root", a.root], ...LEAF_USES.map((u) => [u, a.leaves[u]] as const)] as const) {
        const file = path.join(dir, `${use}.pem`);
        fs.writeFileSync(file, cert.pem);
        const { status, output } = openssl(["x509", "-in", file, "-text", "-noout"]);
        expect(status, output).to.equal(0);
        for (const text of expected[use] ?? []) expect(output, `${use}: ${text}`).to.contain(text);
        expect(output).to.contain("URI:urn:valise:authority:GB-UKCA");
        expect(output).to.contain(`Public Key Algorithm: ${PROFILE_KEYS[profile][use]}`);
        if (use !== "tls") expect(output).not.to.contain("TLS Web");
        if (use === "log") expect(output).not.to.contain("Non Repudiation");
      }
    });

    it("parses PEM and DER alike and fingerprints the DER", () => {
      const cert = parseCertificatePem(a.leaves.sign.pem);
      expect(cert.fingerprint256).to.equal(crypto.createHash("sha256").update(a.leaves.sign.der).digest("hex"));
      expect(fingerprint256(a.leaves.sign.der)).to.equal(cert.fingerprint256);
      expect(parseCertificateDer(cert.der).serial).to.equal(cert.serial);
      const d = describeCertificate(a.leaves.tls);
      expect(d).to.include({ use: "tls", serial: a.leaves.tls.serial, fingerprint: a.leaves.tls.fingerprint256 });
      expect(d.sans).to.deep.equal(["URI:urn:valise:authority:GB-UKCA", "DNS:valise.example.org", "IP:192.0.2.10"]);
    });
  });
}

describe("pki/certificate parsing of hostile input", () => {
  it("refuses garbage, trailing bytes and several PEM blocks with PKI_CERT_PARSE", async () => {
    const a = await makeAuthority("ed25519");
    expectCode(() => parseCertificateDer(Buffer.from("not a certificate")), "PKI_CERT_PARSE");
    expectCode(() => parseCertificateDer(Buffer.concat([a.root.der, Buffer.from([0])])), "PKI_CERT_PARSE");
    expectCode(() => parseCertificateDer(new Uint8Array(0)), "PKI_CERT_PARSE");
    expectCode(() => parseCertificatePem(a.root.pem + a.leaves.sign.pem), "PKI_CERT_PARSE");
    expectCode(() => parseCertificatePem("nothing"), "PKI_CERT_PARSE");
  });

  it("normalises serials and fingerprints", () => {
    expect(normalizeSerial("00:AB:01")).to.equal("ab01");
    expect(normalizeFingerprint("AB:".repeat(31) + "AB")).to.equal("ab".repeat(32));
    expectCode(() => normalizeFingerprint("abc"), "PKI_INVALID_ARGUMENT");
  });
});
