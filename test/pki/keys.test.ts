import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import { expect } from "chai";
import { decryptPrivateKeyPem, encryptPrivateKeyPem, generateKeyPair, jwkThumbprint, keyAlgorithmOf, writeKeyFile } from "../../pki/keys.js";
import { keyAlgorithmFor, LEAF_USES, PROFILES } from "../../pki/profiles.js";
import { expectCode } from "./fixtures.js";

describe("pki/keys", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "valise-keys-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("generates the algorithm of each (profile, use)", () => {
    for (const profile of PROFILES) {
      for (const use of ["root", ...LEAF_USES] as const) {
        expect(keyAlgorithmOf(generateKeyPair(profile, use).publicKey), `${profile}/${use}`).to.equal(keyAlgorithmFor(profile, use));
      }
    }
    expect(keyAlgorithmFor("ed25519", "encrypt")).to.equal("X25519");
    expect(keyAlgorithmFor("p256", "encrypt")).to.equal("P-256");
    expect(keyAlgorithmFor("p256", "log")).to.equal("Ed25519");
  });

  it("round-trips an encrypted PKCS#8 PEM and refuses a wrong or missing passphrase", () => {
    const { privateKey } = generateKeyPair("p256", "sign");
    const pem = encryptPrivateKeyPem(privateKey, "correct horse");
    expect(pem).to.contain("BEGIN ENCRYPTED PRIVATE KEY");
    const back = decryptPrivateKeyPem(pem, "correct horse");
    expect(back.export({ type: "pkcs8", format: "der" }).equals(privateKey.export({ type: "pkcs8", format: "der" }))).to.equal(true);
    expectCode(() => decryptPrivateKeyPem(pem, "wrong"), "PKI_BAD_PASSPHRASE");
    expectCode(() => decryptPrivateKeyPem(pem, ""), "PKI_PASSPHRASE_MISSING");
    expectCode(() => decryptPrivateKeyPem(pem, undefined), "PKI_PASSPHRASE_MISSING");
    expectCode(() => encryptPrivateKeyPem(privateKey, ""), "PKI_PASSPHRASE_MISSING");
    const plain = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    expectCode(() => decryptPrivateKeyPem(plain, "x"), "PKI_KEY_INVALID");
  });

  it("writes key files 0600 and refuses to overwrite without force", () => {
    const file = path.join(dir, "k.key.pem");
    writeKeyFile(file, "one");
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
    expectCode(() => writeKeyFile(file, "two"), "PKI_KEY_EXISTS");
    expect(fs.readFileSync(file, "utf8")).to.equal("one");
    writeKeyFile(file, "three", { force: true });
    expect(fs.readFileSync(file, "utf8")).to.equal("three");
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);
  });

  it("computes the RFC 7638 thumbprint (RFC 8037 Ed25519 vector)", async () => {
    // RFC 8037 §A.3: thumbprint of the Ed25519 key with this x.
    const key = crypto.createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }, format: "jwk" });
    expect(await jwkThumbprint(key)).to.equal("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    const { privateKey, publicKey } = generateKeyPair("ed25519", "encrypt");
    expect(await jwkThumbprint(privateKey)).to.equal(await jwkThumbprint(publicKey));
  });
});
