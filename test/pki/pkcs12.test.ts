import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { exportPkcs12 } from "../../pki/pkcs12.js";
import { expectCode, makeAuthority, openssl } from "./fixtures.js";
import { OPENSSL, requireTool } from "../required-tools.js";

describe("pki/pkcs12", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "valise-p12-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const profile of ["ed25519", "p256"] as const) {
    it(`builds a PKCS#12 that OpenSSL 3 opens with the passphrase (${profile})`, async function () {
      requireTool(this, OPENSSL);
      const a = await makeAuthority(profile);
      const p12 = exportPkcs12({ chain: [a.leaves.tls, a.root], privateKey: a.leafKeys.tls.privateKey, passphrase: "p12 secret" });
      const file = path.join(dir, `${profile}.p12`);
      fs.writeFileSync(file, p12);
      const ok = openssl(["pkcs12", "-in", file, "-passin", "pass:p12 secret", "-nodes", "-info"]);
      expect(ok.status, ok.output).to.equal(0);
      expect(ok.output).to.contain("MAC: sha256");
      expect(ok.output).to.contain("PKCS7 Data");
      expect(ok.output).to.contain("Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC");
      expect((ok.output.match(/BEGIN CERTIFICATE/g) ?? []).length).to.equal(2);
      expect(ok.output).to.contain("BEGIN PRIVATE KEY");
      expect(ok.output).to.contain("friendlyName: GB-UKCA tls");
      // The key OpenSSL extracted is ours.
      const keyPem = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(ok.output)?.[0];
      expect(keyPem).to.equal((a.leafKeys.tls.privateKey.export({ type: "pkcs8", format: "pem" }) as string).trim());
      const wrong = openssl(["pkcs12", "-in", file, "-passin", "pass:wrong", "-nodes", "-info"]);
      expect(wrong.status).to.not.equal(0);
      expect(wrong.output).to.match(/mac verify (error|failure)/i);
    });
  }

  it("refuses a key that does not match the leaf, an empty chain and an empty passphrase", async () => {
    const a = await makeAuthority("ed25519");
    expectCode(() => exportPkcs12({ chain: [a.leaves.sign, a.root], privateKey: a.leafKeys.tls.privateKey, passphrase: "x" }), "PKI_PKCS12");
    expectCode(() => exportPkcs12({ chain: [], privateKey: a.leafKeys.tls.privateKey, passphrase: "x" }), "PKI_PKCS12");
    expectCode(() => exportPkcs12({ chain: [a.leaves.tls], privateKey: a.leafKeys.tls.privateKey, passphrase: "" }), "PKI_PASSPHRASE_MISSING");
  });
});
