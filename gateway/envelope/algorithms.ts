/**
 * The JOSE algorithm allow-lists of Valise, and the signing algorithm each key
 * type implies.
 *
 * Every JOSE header is attacker-controlled: a verifier that lets the header pick
 * the algorithm can be talked into `none`, into HMAC keyed with a public key, or
 * into RSA with a weak key. Valise decides from the allow-list and the key, and
 * only then looks at what the header claims.
 */
import type { KeyObject } from "node:crypto";
import { GatewayError } from "../errors.js";

/** JWS algorithms Valise signs and accepts. Never `none`, HS*, RS* or PS*. */
export const SIGNING_ALGORITHMS = ["EdDSA", "ES256", "ES384"] as const;

/** A JWS algorithm of {@link SIGNING_ALGORITHMS}. */
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** The only JWE key management algorithm Valise uses. */
export const KEY_MANAGEMENT_ALGORITHM = "ECDH-ES+A256KW";

/** The only JWE content encryption algorithm Valise uses. */
export const CONTENT_ENCRYPTION_ALGORITHM = "A256GCM";

/** True when `alg` is one of {@link SIGNING_ALGORITHMS}. */
export function isSigningAlgorithm(alg: unknown): alg is SigningAlgorithm {
  return typeof alg === "string" && (SIGNING_ALGORITHMS as readonly string[]).includes(alg);
}

/**
 * The JWS algorithm for a signing key: EdDSA for Ed25519, ES256 for P-256,
 * ES384 for P-384. Works for private and public keys alike.
 *
 * @throws GatewayError `ENVELOPE_INVALID_ARGUMENT` for any other key.
 */
export function signingAlgorithmFor(key: KeyObject): SigningAlgorithm {
  if (key.asymmetricKeyType === "ed25519") return "EdDSA";
  if (key.asymmetricKeyType === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === "prime256v1") return "ES256";
    if (curve === "secp384r1") return "ES384";
  }
  throw new GatewayError("ENVELOPE_INVALID_ARGUMENT", "The key is not an Ed25519, P-256 or P-384 signing key.", {
    details: { keyType: key.asymmetricKeyType },
  });
}

/**
 * Check that `key` can be a JWE recipient key (X25519, P-256 or P-384).
 *
 * @throws GatewayError `ENVELOPE_INVALID_ARGUMENT` for any other key.
 */
export function assertEncryptionKey(key: KeyObject): void {
  if (key.asymmetricKeyType === "x25519") return;
  if (key.asymmetricKeyType === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === "prime256v1" || curve === "secp384r1") return;
  }
  throw new GatewayError("ENVELOPE_INVALID_ARGUMENT", "The key is not an X25519, P-256 or P-384 key agreement key.", {
    details: { keyType: key.asymmetricKeyType },
  });
}
