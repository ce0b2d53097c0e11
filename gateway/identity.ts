/**
 * The gateway's own key material, loaded once at start from the home's PKI:
 * the current `sign` key (envelopes, receipts), every usable `encrypt` key
 * (current and previous: an envelope sealed to a rotated key still opens),
 * and the `tls` key and certificate.
 */
import { readFileSync } from "node:fs";
import type { KeyObject } from "node:crypto";
import type { AuthorityPki } from "../pki/store.js";
import { jwkThumbprint } from "../pki/keys.js";
import type { EnvelopeSigner } from "./envelope/seal.js";
import type { DecryptionKey } from "./envelope/open.js";

/** What the gateway signs, decrypts and authenticates with. */
export interface GatewayIdentity {
  readonly authority: string;
  readonly signer: Required<EnvelopeSigner>;
  readonly decryptionKeys: readonly DecryptionKey[];
  /** The current `log` key: signs audit checkpoints and cosignatures. */
  readonly logKey: KeyObject;
  /** For node:tls: encrypted key PEM + passphrase, certificate chain PEM, own root PEM. */
  readonly tls: { readonly key: string; readonly passphrase: string; readonly cert: string; readonly rootPem: string };
}

/**
 * Decrypts the keys the gateway needs. A wrong passphrase fails here, at
 * start, with `PKI_BAD_PASSPHRASE`.
 */
export async function loadIdentity(pki: AuthorityPki, passphrase: string, now: Date): Promise<GatewayIdentity> {
  const root = pki.rootCertificate();
  const sign = pki.currentCertificate("sign");
  const signKey = pki.loadPrivateKey("sign", passphrase, sign.serial);
  const encrypt = pki
    .certificates("encrypt")
    .filter((issued) => issued.certificate.notAfter.getTime() > now.getTime())
    .map((issued) => pki.loadPrivateKey("encrypt", passphrase, issued.certificate.serial));
  const decryptionKeys = await Promise.all(encrypt.map(async (privateKey) => ({ kid: await jwkThumbprint(privateKey), privateKey })));
  const tlsCert = pki.currentCertificate("tls");
  const tlsListing = pki.list(now).find((row) => row.use === "tls" && row.serial === tlsCert.serial);
  if (tlsListing === undefined) throw new Error("the tls certificate is missing from the PKI index");
  pki.loadPrivateKey("tls", passphrase, tlsCert.serial); // fails early on a wrong passphrase
  return {
    authority: pki.authority,
    signer: { privateKey: signKey, certificates: [sign, root], kid: await jwkThumbprint(signKey) },
    decryptionKeys,
    logKey: pki.loadPrivateKey("log", passphrase),
    tls: { key: readFileSync(tlsListing.keyPath, "utf8"), passphrase, cert: tlsCert.pem, rootPem: root.pem },
  };
}
