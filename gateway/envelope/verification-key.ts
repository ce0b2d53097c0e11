/**
 * Signature checks through jose run on WebCrypto. Handed a node:crypto
 * `KeyObject`, jose converts it to a `CryptoKey` on every call — which
 * costs more than the Ed25519 verification itself and runs on the main
 * thread. A signer's certificate (hence its key object) is shared by every
 * envelope and receipt it signs (see `parsedCertificates`), so the
 * conversion is done once per key object and remembered for as long as the
 * object lives. Only public keys of the allow-listed algorithms are
 * converted; anything else is passed through for jose to refuse.
 */
import { webcrypto, type KeyObject } from "node:crypto";

const converted = new WeakMap<KeyObject, Promise<webcrypto.CryptoKey | KeyObject>>();

const CURVES: Readonly<Record<string, string>> = { prime256v1: "P-256", secp384r1: "P-384" };

/**
 * The key to verify JWS signatures with: `publicKey` as a non-extractable
 * WebCrypto key (Ed25519 or ECDSA P-256/P-384), imported once.
 *
 * @example
 * await compactVerify(jws, await verificationKey(certificate.publicKey), { algorithms: ["EdDSA"] });
 */
export function verificationKey(publicKey: KeyObject): Promise<webcrypto.CryptoKey | KeyObject> {
  let key = converted.get(publicKey);
  if (key === undefined) {
    key = importVerificationKey(publicKey);
    converted.set(publicKey, key);
  }
  return key;
}

async function importVerificationKey(publicKey: KeyObject): Promise<webcrypto.CryptoKey | KeyObject> {
  if (publicKey.type !== "public") return publicKey;
  const params =
    publicKey.asymmetricKeyType === "ed25519"
      ? { name: "Ed25519" }
      : publicKey.asymmetricKeyType === "ec" && CURVES[publicKey.asymmetricKeyDetails?.namedCurve ?? ""] !== undefined
        ? { name: "ECDSA", namedCurve: CURVES[publicKey.asymmetricKeyDetails?.namedCurve ?? ""]! }
        : undefined;
  if (params === undefined) return publicKey;
  return webcrypto.subtle.importKey("spki", publicKey.export({ type: "spki", format: "der" }), params, false, ["verify"]);
}
