import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { parseCertificateDer, randomSerial } from "../../pki/certificate.js";
import type { ParsedCertificate } from "../../pki/certificate.js";
import { createCrl } from "../../pki/crl.js";
import { generateKeyPair } from "../../pki/keys.js";
import type { KeyPair } from "../../pki/keys.js";
import { validateCertificatePath } from "../../pki/path.js";
import type { PathValidationInput } from "../../pki/path.js";
import { LEAF_USES } from "../../pki/profiles.js";
import { peculiar, toSigningCryptoKey, webCrypto } from "../../pki/x509-provider.js";
import type * as X509 from "@peculiar/x509";
import { expectCode, makeAuthority, NOW, openssl } from "./fixtures.js";
import { OPENSSL, requireTool } from "../required-tools.js";
import type { TestAuthority } from "./fixtures.js";

const { x509 } = peculiar();

const DAY = 24 * 60 * 60 * 1000;

/** Crafts a certificate signed by an Ed25519 issuer, with arbitrary extensions (for negative tests). */
async function craft(issuer: { cert: ParsedCertificate; keys: KeyPair }, subjectKeys: KeyPair, subject: string, extensions: X509.Extension[]): Promise<ParsedCertificate> {
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject,
      issuer: new x509.X509Certificate(issuer.cert.der).subjectName,
      notBefore: new Date(NOW.getTime() - DAY),
      notAfter: new Date(NOW.getTime() + 30 * DAY),
      publicKey: subjectKeys.publicKey.export({ type: "spki", format: "der" }),
      signingKey: await toSigningCryptoKey(issuer.keys.privateKey, "Ed25519"),
      signingAlgorithm: { name: "Ed25519" },
      extensions: [new x509.AuthorityKeyIdentifierExtension(issuer.cert.subjectKeyId!, false), ...extensions],
    },
    webCrypto,
  );
  return parseCertificateDer(new Uint8Array(cert.rawData));
}

for (const profile of ["ed25519", "p256", "p384"] as const) {
  describe(`pki/path (${profile})`, () => {
    let a: TestAuthority;
    let other: TestAuthority;
    let dir: string;
    const input = (overrides: Partial<PathValidationInput> = {}): PathValidationInput => ({
      certificate: a.leaves.sign,
      trustedRoot: a.root,
      crl: a.crl,
      use: "sign",
      at: NOW,
      ...overrides,
    });

    before(async () => {
      a = await makeAuthority(profile);
      other = await makeAuthority(profile, "FR-MJ");
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "valise-path-"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("accepts every leaf for its own use, given as parsed, PEM or DER", () => {
      for (const use of LEAF_USES) {
        const result = validateCertificatePath(input({ certificate: a.leaves[use], use }));
        expect(result.authority).to.equal("GB-UKCA");
        expect(result.certificate.serial).to.equal(a.leaves[use].serial);
      }
      const fromText = validateCertificatePath(input({ certificate: a.leaves.sign.der, trustedRoot: a.root.pem, crl: a.crl.pem, expectedAuthority: "GB-UKCA", intermediates: [a.root.der] }));
      expect(fromText.root.fingerprint256).to.equal(a.root.fingerprint256);
    });

    it("refuses a certificate of another root (PKI_CHAIN_UNTRUSTED)", () => {
      expectCode(() => validateCertificatePath(input({ certificate: other.leaves.sign })), "PKI_CHAIN_UNTRUSTED");
      expectCode(() => validateCertificatePath(input({ trustedRoot: other.root, crl: other.crl })), "PKI_CHAIN_UNTRUSTED");
    });

    it("refuses expired and not-yet-valid certificates", () => {
      const leaf = a.leaves.sign;
      expectCode(() => validateCertificatePath(input({ at: new Date(leaf.notAfter.getTime() + 1000) })), "PKI_CERT_EXPIRED");
      expectCode(() => validateCertificatePath(input({ at: new Date(leaf.notBefore.getTime() - 1000) })), "PKI_CERT_NOT_YET_VALID");
    });

    it("refuses a revoked certificate with reason and date (PKI_CERT_REVOKED)", async () => {
      const revokedAt = new Date(NOW.getTime() - 60_000);
      const crl = await createCrl({ issuer: a.issuer, crlNumber: 2, entries: [{ serial: a.leaves.sign.serial, revokedAt, reason: "keyCompromise" }], now: NOW });
      const error = expectCode(() => validateCertificatePath(input({ crl })), "PKI_CERT_REVOKED");
      expect(error.details).to.include({ serial: a.leaves.sign.serial, reason: "keyCompromise", revokedAt: revokedAt.toISOString() });
      expect(validateCertificatePath(input({ crl, certificate: a.leaves.tls, use: "tls" })).authority).to.equal("GB-UKCA");
    });

    it("refuses a certificate of another use (PKI_KEY_USAGE / PKI_KEY_ALGORITHM)", () => {
      expectCode(() => validateCertificatePath(input({ certificate: a.leaves.tls, use: "sign" })), "PKI_KEY_USAGE");
      expectCode(() => validateCertificatePath(input({ certificate: a.leaves.log, use: "sign" })), "PKI_KEY_USAGE");
      expectCode(() => validateCertificatePath(input({ certificate: a.leaves.sign, use: "log" })), profile === "ed25519" ? "PKI_KEY_USAGE" : "PKI_KEY_ALGORITHM");
      expectCode(() => validateCertificatePath(input({ certificate: a.leaves.sign, use: "tls" })), "PKI_KEY_USAGE");
      expectCode(() => validateCertificatePath(input({ certificate: a.leaves.encrypt, use: "sign" })), profile === "ed25519" ? "PKI_KEY_ALGORITHM" : "PKI_KEY_USAGE");
      expectCode(() => validateCertificatePath(input({ certificate: a.leaves.sign, use: "encrypt" })), profile === "ed25519" ? "PKI_KEY_ALGORITHM" : "PKI_KEY_USAGE");
    });

    it("refuses the root presented as a leaf (PKI_LEAF_IS_CA) and a leaf as root (PKI_ROOT_INVALID)", () => {
      expectCode(() => validateCertificatePath(input({ certificate: a.root })), "PKI_LEAF_IS_CA");
      expectCode(() => validateCertificatePath(input({ trustedRoot: a.leaves.sign })), "PKI_ROOT_INVALID");
    });

    it("refuses another authority than expected (PKI_AUTHORITY_MISMATCH)", () => {
      const error = expectCode(() => validateCertificatePath(input({ expectedAuthority: "FR-MJ" })), "PKI_AUTHORITY_MISMATCH");
      expect(error.details).to.include({ certificate: "GB-UKCA", expected: "FR-MJ" });
    });

    it("refuses a stale, a future and a forged CRL", async () => {
      expectCode(() => validateCertificatePath(input({ at: new Date(NOW.getTime() + 8 * DAY) })), "PKI_CRL_EXPIRED");
      const future = await createCrl({ issuer: a.issuer, crlNumber: 3, entries: [], now: new Date(NOW.getTime() + DAY) });
      expectCode(() => validateCertificatePath(input({ crl: future })), "PKI_CRL_NOT_YET_VALID");
      // A signature made at NOW, checked a day later against the then-current CRL:
      expect(validateCertificatePath(input({ crl: future, crlAt: new Date(NOW.getTime() + DAY) })).authority).to.equal("GB-UKCA");
      expectCode(() => validateCertificatePath(input({ crl: other.crl })), "PKI_CRL_BAD_SIGNATURE");
      const impostor = await makeAuthority(profile); // same DN, other key: a forged CRL that hides a revocation
      expectCode(() => validateCertificatePath(input({ crl: impostor.crl })), "PKI_CRL_BAD_SIGNATURE");
    });

    it("live path: any listing refuses, even for a signing time before the revocation", async () => {
      const revokedAt = new Date(NOW.getTime() + DAY);
      const crl = await createCrl({ issuer: a.issuer, crlNumber: 5, entries: [{ serial: a.leaves.sign.serial, revokedAt, reason: "superseded" }], now: revokedAt });
      // A signature claiming NOW, arriving after the revocation: whoever holds the key can back-date.
      expectCode(() => validateCertificatePath(input({ crl, crlAt: new Date(revokedAt.getTime() + 60_000) })), "PKI_CERT_REVOKED");
    });

    it("history (at-signing-time): a key revoked later leaves earlier signatures valid, later ones fail", async () => {
      const revokedAt = new Date(NOW.getTime() + DAY);
      const crl = await createCrl({ issuer: a.issuer, crlNumber: 6, entries: [{ serial: a.leaves.sign.serial, revokedAt, reason: "superseded" }], now: revokedAt });
      const history = (at: Date): PathValidationInput => input({ crl, at, revocation: "at-signing-time" });
      expect(validateCertificatePath(history(NOW)).authority).to.equal("GB-UKCA");
      expect(validateCertificatePath(history(new Date(revokedAt.getTime() - 1000))).authority).to.equal("GB-UKCA");
      const error = expectCode(() => validateCertificatePath(history(revokedAt)), "PKI_CERT_REVOKED");
      expect(error.details).to.include({ reason: "superseded", revokedAt: revokedAt.toISOString() });
      expectCode(() => validateCertificatePath(history(new Date(revokedAt.getTime() + DAY))), "PKI_CERT_REVOKED");
    });

    it("history: keyCompromise counts from its invalidity date (or its revocation date without one)", async () => {
      const invalidSince = new Date(NOW.getTime() + DAY);
      const revokedAt = new Date(NOW.getTime() + 3 * DAY);
      const compromised = await createCrl({
        issuer: a.issuer,
        crlNumber: 7,
        entries: [{ serial: a.leaves.sign.serial, revokedAt, reason: "keyCompromise", invalidityDate: invalidSince }],
        now: revokedAt,
      });
      const history = (crl: typeof compromised, at: Date): PathValidationInput => input({ crl, at, revocation: "at-signing-time" });
      expect(validateCertificatePath(history(compromised, new Date(invalidSince.getTime() - 1000))).authority).to.equal("GB-UKCA");
      // Between the suspected compromise and the revocation: not trusted.
      const error = expectCode(() => validateCertificatePath(history(compromised, new Date(invalidSince.getTime() + DAY))), "PKI_CERT_REVOKED");
      expect(error.details).to.include({ reason: "keyCompromise", invalidSince: invalidSince.toISOString() });
      const undated = await createCrl({ issuer: a.issuer, crlNumber: 8, entries: [{ serial: a.leaves.sign.serial, revokedAt, reason: "keyCompromise" }], now: revokedAt });
      expect(validateCertificatePath(history(undated, new Date(invalidSince.getTime() + DAY))).authority).to.equal("GB-UKCA");
      expectCode(() => validateCertificatePath(history(undated, revokedAt)), "PKI_CERT_REVOKED");
    });

    it("history: a CRL long past its nextUpdate still decides (30 days later), a forged one never does", async () => {
      const verifiedLater = { at: NOW, revocation: "at-signing-time" as const, crlAt: new Date(NOW.getTime() + 30 * DAY) };
      expect(validateCertificatePath(input(verifiedLater)).authority).to.equal("GB-UKCA");
      expectCode(() => validateCertificatePath(input({ ...verifiedLater, revocation: "any-listing" })), "PKI_CRL_EXPIRED");
      const impostor = await makeAuthority(profile);
      expectCode(() => validateCertificatePath(input({ ...verifiedLater, crl: impostor.crl })), "PKI_CRL_BAD_SIGNATURE");
      // The certificate's own validity is still judged at the signing time.
      expectCode(() => validateCertificatePath(input({ ...verifiedLater, at: new Date(a.leaves.sign.notAfter.getTime() + DAY) })), "PKI_CERT_EXPIRED");
    });

    it("OpenSSL agrees: verify -crl_check accepts the leaves and rejects a revoked one", async function () {
      requireTool(this, OPENSSL);
      const write = (name: string, text: string): string => {
        const file = path.join(dir, name);
        fs.writeFileSync(file, text);
        return file;
      };
      const root = write("root.pem", a.root.pem);
      const crl = write("crl.pem", a.crl.pem);
      for (const use of LEAF_USES) {
        const leaf = write(`${use}.pem`, a.leaves[use].pem);
        const result = openssl(["verify", "-attime", String(NOW.getTime() / 1000), "-CAfile", root, "-crl_check", "-CRLfile", crl, leaf]);
        expect(result.status, result.output).to.equal(0);
        expect(result.output).to.contain(": OK");
      }
      const revoked = await createCrl({ issuer: a.issuer, crlNumber: 4, entries: [{ serial: a.leaves.tls.serial, revokedAt: NOW, reason: "superseded" }], now: NOW });
      const revokedFile = write("revoked.crl.pem", revoked.pem);
      const result = openssl(["verify", "-attime", String(NOW.getTime() / 1000), "-CAfile", root, "-crl_check", "-CRLfile", revokedFile, path.join(dir, "tls.pem")]);
      expect(result.status).to.not.equal(0);
      expect(result.output).to.contain("certificate revoked");
    });
  });
}

describe("pki/path with crafted certificates (ed25519)", () => {
  let a: TestAuthority;
  before(async () => {
    a = await makeAuthority("ed25519");
  });
  const root = (): { cert: ParsedCertificate; keys: KeyPair } => ({ cert: a.root, keys: a.rootKeys });

  it("refuses a leaf naming another authority than its root (PKI_AUTHORITY_MISMATCH)", async () => {
    const keys = generateKeyPair("ed25519", "sign");
    const leaf = await craft(root(), keys, "CN=GB-UKCA sign, O=GB-UKCA", [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true),
      new x509.SubjectAlternativeNameExtension([{ type: "url", value: "urn:valise:authority:FR-MJ" }]),
    ]);
    expectCode(() => validateCertificatePath({ certificate: leaf, trustedRoot: a.root, crl: a.crl, use: "sign", at: NOW }), "PKI_AUTHORITY_MISMATCH");
    const noUri = await craft(root(), keys, "CN=GB-UKCA sign, O=GB-UKCA", [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true),
    ]);
    expectCode(() => validateCertificatePath({ certificate: noUri, trustedRoot: a.root, crl: a.crl, use: "sign", at: NOW }), "PKI_AUTHORITY_MISMATCH");
  });

  it("refuses a CA leaf issued by the root (PKI_LEAF_IS_CA) and a path through it (PKI_PATH_LENGTH)", async () => {
    const caKeys = generateKeyPair("ed25519", "root");
    const ca = await craft(root(), caKeys, "CN=GB-UKCA sub, O=GB-UKCA", [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey.export({ type: "spki", format: "der" }), false, webCrypto),
      new x509.SubjectAlternativeNameExtension([{ type: "url", value: "urn:valise:authority:GB-UKCA" }]),
    ]);
    expectCode(() => validateCertificatePath({ certificate: ca, trustedRoot: a.root, crl: a.crl, use: "sign", at: NOW }), "PKI_LEAF_IS_CA");
    const leaf = await craft({ cert: ca, keys: caKeys }, generateKeyPair("ed25519", "sign"), "CN=GB-UKCA sign, O=GB-UKCA", [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true),
      new x509.SubjectAlternativeNameExtension([{ type: "url", value: "urn:valise:authority:GB-UKCA" }]),
    ]);
    expectCode(() => validateCertificatePath({ certificate: leaf, intermediates: [ca], trustedRoot: a.root, crl: a.crl, use: "sign", at: NOW }), "PKI_PATH_LENGTH");
    expectCode(() => validateCertificatePath({ certificate: leaf, trustedRoot: a.root, crl: a.crl, use: "sign", at: NOW }), "PKI_CHAIN_UNTRUSTED");
  });

  it("refuses an unknown critical extension (PKI_CRITICAL_EXTENSION)", async () => {
    const leaf = await craft(root(), generateKeyPair("ed25519", "sign"), "CN=GB-UKCA sign, O=GB-UKCA", [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true),
      new x509.SubjectAlternativeNameExtension([{ type: "url", value: "urn:valise:authority:GB-UKCA" }]),
      new x509.Extension("1.3.6.1.4.1.99999.1", true, new Uint8Array([0x05, 0x00])),
    ]);
    expectCode(() => validateCertificatePath({ certificate: leaf, trustedRoot: a.root, crl: a.crl, use: "sign", at: NOW }), "PKI_CRITICAL_EXTENSION");
  });

  it("refuses malformed arguments", () => {
    expectCode(() => validateCertificatePath({ certificate: a.leaves.sign, trustedRoot: a.root, crl: a.crl, use: "root" as never, at: NOW }), "PKI_INVALID_ARGUMENT");
    expectCode(() => validateCertificatePath({ certificate: a.leaves.sign, trustedRoot: a.root, crl: a.crl, use: "sign", at: new Date(NaN) }), "PKI_INVALID_ARGUMENT");
    expectCode(() => validateCertificatePath({ certificate: "junk", trustedRoot: a.root, crl: a.crl, use: "sign", at: NOW }), "PKI_CERT_PARSE");
  });
});
