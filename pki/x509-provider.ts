/**
 * @peculiar/x509 (and the ASN.1 libraries under it) wired to Node's
 * WebCrypto, loaded on first use. Take them from {@link peculiar}, never
 * import the packages directly: `reflect-metadata` must be loaded first, and
 * loading them costs ~150 ms, which commands that only read the home
 * (`valise case list`, `valise pki list`) no longer pay — own certificates
 * are parsed with Node's X509Certificate (see pki/certificate.ts).
 *
 * They are loaded with `require`, synchronously, so parsing stays
 * synchronous. Node resolves these packages to their CommonJS builds for an
 * `import` too, so there is one instance of each (the ASN.1 classes that
 * `instanceof` checks compare are the same).
 */
import { createRequire } from "node:module";
import { webcrypto } from "node:crypto";
import type { KeyObject, webcrypto as WebCryptoTypes } from "node:crypto";
import type * as X509 from "@peculiar/x509";
import type * as Asn1Schema from "@peculiar/asn1-schema";
import type * as Asn1X509 from "@peculiar/asn1-x509";
import type * as Asn1js from "asn1js";
import type { KeyAlgorithm } from "./profiles.js";

/** Node's WebCrypto (the crypto provider of every @peculiar/x509 call in `pki/`). */
export const webCrypto: WebCryptoTypes.Crypto = webcrypto;

/** A WebCrypto key. */
export type CryptoKey = WebCryptoTypes.CryptoKey;
/** A WebCrypto signature algorithm. */
export type SignatureAlgorithm = WebCryptoTypes.Algorithm | WebCryptoTypes.EcdsaParams;

/** The X.509 and ASN.1 libraries. */
export interface Peculiar {
  readonly x509: typeof X509;
  readonly asn1Schema: typeof Asn1Schema;
  readonly asn1X509: typeof Asn1X509;
  readonly asn1js: typeof Asn1js;
}

let loaded: Peculiar | undefined;

/** The X.509 and ASN.1 libraries, loaded (and the crypto provider set) on the first call. */
export function peculiar(): Peculiar {
  if (loaded === undefined) {
    const require = createRequire(import.meta.url);
    require("reflect-metadata");
    const x509 = require("@peculiar/x509") as typeof X509;
    // Set once, to the same immutable WebCrypto object; all async calls in `pki/` also pass it explicitly.
    x509.cryptoProvider.set(webCrypto);
    loaded = {
      x509,
      asn1Schema: require("@peculiar/asn1-schema") as typeof Asn1Schema,
      asn1X509: require("@peculiar/asn1-x509") as typeof Asn1X509,
      asn1js: require("asn1js") as typeof Asn1js,
    };
  }
  return loaded;
}

/** The WebCrypto signature algorithm a CA key of `algorithm` signs with. */
export function signingAlgorithmOf(algorithm: KeyAlgorithm): SignatureAlgorithm {
  switch (algorithm) {
    case "Ed25519":
      return { name: "Ed25519" };
    case "P-256":
      return { name: "ECDSA", hash: "SHA-256" };
    case "P-384":
      return { name: "ECDSA", hash: "SHA-384" };
    case "X25519":
      throw new TypeError("X25519 keys cannot sign");
  }
}

/** Imports a node:crypto private signing key as a non-extractable WebCrypto key. */
export async function toSigningCryptoKey(key: KeyObject, algorithm: KeyAlgorithm): Promise<CryptoKey> {
  const der = key.export({ type: "pkcs8", format: "der" });
  const params = algorithm === "Ed25519" ? { name: "Ed25519" } : { name: "ECDSA", namedCurve: algorithm };
  return webcrypto.subtle.importKey("pkcs8", der, params, false, ["sign"]);
}
