/**
 * @peculiar/x509 wired to Node's WebCrypto. Import `x509` from here, never
 * from the package directly, so that `reflect-metadata` is loaded first.
 * (The provider is set once, to the same immutable WebCrypto object; all
 * async calls in `pki/` also pass it explicitly.)
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";
import type { KeyObject, webcrypto as WebCryptoTypes } from "node:crypto";
import type { KeyAlgorithm } from "./profiles.js";

/** Node's WebCrypto (the crypto provider of every @peculiar/x509 call in `pki/`). */
export const webCrypto: WebCryptoTypes.Crypto = webcrypto;

/** A WebCrypto key. */
export type CryptoKey = WebCryptoTypes.CryptoKey;
/** A WebCrypto signature algorithm. */
export type SignatureAlgorithm = WebCryptoTypes.Algorithm | WebCryptoTypes.EcdsaParams;

x509.cryptoProvider.set(webCrypto);

export { x509 };

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
