/**
 * The gateway's own certificates are parsed by Node's parser first and by
 * @peculiar/x509's only when a field only it reads is used (start-up time of
 * the commands that read the home): every field must come out exactly as
 * the full parse gives it, for each profile and for TLS names of each kind.
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { parseCertificateDer, parseOwnCertificateDer, parseOwnCertificatePem, type ParsedCertificate } from "../../pki/certificate.js";
import { initAuthorityPki, openAuthorityPki } from "../../pki/store.js";
import { LEAF_USES, PROFILES } from "../../pki/profiles.js";
import { PkiError } from "../../pki/errors.js";

/** Every field but Node's object (compared by its bytes) as plain data. */
function fields(cert: ParsedCertificate): Record<string, unknown> {
  const { x509, publicKey, ...rest } = cert;
  return { ...rest, x509: x509.raw.toString("hex"), publicKey: publicKey.export({ type: "spki", format: "der" }).toString("hex") };
}

describe("own certificates: lazy parse, same fields as the full parse", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "valise-own-cert-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const profile of PROFILES) {
    it(`${profile}: root and every leaf, TLS names DNS, IPv4 and IPv6`, async () => {
      const pki = await initAuthorityPki(join(dir, profile), {
        authority: "GB-UKCA",
        profile,
        endpoint: "https://valise.example.org:8443",
        dns: ["valise.example.org", "xn--bcher-kva.example"],
        ips: ["192.0.2.10", "2001:db8:0:0:1:0:0:1", "2001:db8::7"],
        passphrase: "own certificate test passphrase",
      });
      const certificates = [pki.rootCertificate(), ...LEAF_USES.flatMap((use) => pki.certificates(use).map((c) => c.certificate))];
      expect(certificates).to.have.length(5);
      for (const own of certificates) {
        const full = parseCertificateDer(own.der);
        expect(fields(own), own.subject).to.deep.equal(fields(full));
        expect(fields(parseOwnCertificateDer(own.der))).to.deep.equal(fields(full));
      }
      const tls = openAuthorityPki(join(dir, profile)).currentCertificate("tls");
      expect(tls.san.ips).to.deep.equal(["192.0.2.10", "2001:db8::1:0:0:1", "2001:db8::7"]);
      expect(tls.keyUsage).to.deep.equal(["digitalSignature"]);
    });
  }

  it("a malformed file is PKI_CERT_PARSE at once, and a replaced file is read again", async () => {
    expect(() => parseOwnCertificatePem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")).to.throw(PkiError).with.property("code", "PKI_CERT_PARSE");
    expect(() => parseOwnCertificateDer(new Uint8Array(0))).to.throw(PkiError).with.property("code", "PKI_CERT_PARSE");
    const pki = openAuthorityPki(join(dir, "ed25519"));
    const der = pki.rootCertificate().der;
    expect(() => parseOwnCertificateDer(Buffer.concat([der, Buffer.from([0])]))).to.throw(PkiError).with.property("code", "PKI_CERT_PARSE");
    // The PEM on disk is what is parsed: a replaced file is read again, not remembered.
    const file = join(dir, "ed25519", JSON.parse(readFileSync(join(dir, "ed25519", "index.json"), "utf8")).root.cert as string);
    writeFileSync(file, "not a certificate\n");
    expect(() => pki.rootCertificate()).to.throw(PkiError).with.property("code", "PKI_CERT_PARSE");
  });
});
