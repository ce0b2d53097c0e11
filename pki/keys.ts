/**
 * Key pairs (node:crypto KeyObjects), private keys at rest as encrypted
 * PKCS#8 PEM, and the RFC 7638 JWK thumbprint that is the `kid` everywhere.
 */
import crypto from "node:crypto";
import type { KeyObject } from "node:crypto";
import type { JWK } from "jose";
import { PkiError } from "./errors.js";
import { writeFileAtomic } from "./atomic-file.js";
import { keyAlgorithmFor } from "./profiles.js";
import type { CertificateUse, KeyAlgorithm, Profile } from "./profiles.js";

/** A key pair as node:crypto KeyObjects. */
export interface KeyPair {
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
}

/** Generates a key pair of the given algorithm. */
export function generateKeyPairOf(algorithm: KeyAlgorithm): KeyPair {
  switch (algorithm) {
    case "Ed25519":
      return crypto.generateKeyPairSync("ed25519");
    case "X25519":
      return crypto.generateKeyPairSync("x25519");
    case "P-256":
      return crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    case "P-384":
      return crypto.generateKeyPairSync("ec", { namedCurve: "secp384r1" });
  }
}

/** Generates the key pair for `use` in `profile` (see {@link keyAlgorithmFor}). */
export function generateKeyPair(profile: Profile, use: CertificateUse): KeyPair {
  return generateKeyPairOf(keyAlgorithmFor(profile, use));
}

/** The Valise key algorithm of a key, or `undefined` for any other key (RSA, P-521, Ed448…). */
export function keyAlgorithmOf(key: KeyObject): KeyAlgorithm | undefined {
  switch (key.asymmetricKeyType) {
    case "ed25519":
      return "Ed25519";
    case "x25519":
      return "X25519";
    case "ec": {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === "prime256v1" || curve === "P-256") return "P-256";
      if (curve === "secp384r1" || curve === "P-384") return "P-384";
      return undefined;
    }
    default:
      return undefined;
  }
}

function assertPassphrase(passphrase: string | undefined): asserts passphrase is string {
  if (passphrase === undefined || passphrase === null || passphrase.length === 0) {
    throw new PkiError("PKI_PASSPHRASE_MISSING", "A passphrase is required (VALISE_PASSPHRASE or --passphrase-file).");
  }
}

/**
 * The private key as encrypted PKCS#8 PEM (PBES2, AES-256-CBC, key derived
 * from `passphrase`). Throws `PKI_PASSPHRASE_MISSING` on an empty passphrase.
 */
export function encryptPrivateKeyPem(key: KeyObject, passphrase: string | undefined): string {
  assertPassphrase(passphrase);
  if (key.type !== "private") throw new PkiError("PKI_INVALID_ARGUMENT", "encryptPrivateKeyPem needs a private key.");
  return key.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase }) as string;
}

/**
 * Decrypts an encrypted PKCS#8 PEM private key. Throws
 * `PKI_PASSPHRASE_MISSING` (no passphrase), `PKI_KEY_INVALID` (not an
 * encrypted PKCS#8 PEM: keys at rest must be encrypted) or
 * `PKI_BAD_PASSPHRASE` (wrong passphrase) — never the underlying OpenSSL error.
 */
export function decryptPrivateKeyPem(pem: string, passphrase: string | undefined): KeyObject {
  assertPassphrase(passphrase);
  if (!/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(pem)) {
    throw new PkiError("PKI_KEY_INVALID", "Expected an encrypted PKCS#8 PEM private key (BEGIN ENCRYPTED PRIVATE KEY).");
  }
  try {
    return crypto.createPrivateKey({ key: pem, format: "pem", passphrase });
  } catch {
    // A wrong passphrase surfaces as "bad decrypt" or as a DER error on garbage
    // plaintext; both mean the same to the operator. The cause is not kept:
    // it says nothing useful and must never reach a log with key material.
    throw new PkiError("PKI_BAD_PASSPHRASE", "The passphrase does not decrypt the private key.");
  }
}

/** Options of {@link writeKeyFile}. */
export interface WriteKeyFileOptions {
  /** Replace an existing file (default false). */
  force?: boolean;
}

/**
 * Writes a key file atomically with mode 0600. Refuses to overwrite an
 * existing file (`PKI_KEY_EXISTS`) unless `force`: losing a key is not undoable.
 */
export function writeKeyFile(file: string, pem: string, options: WriteKeyFileOptions = {}): void {
  try {
    writeFileAtomic(file, pem, { mode: 0o600, overwrite: options.force === true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new PkiError("PKI_KEY_EXISTS", `Refusing to overwrite the existing key file ${file} (use force).`, {
        details: { path: file },
      });
    }
    throw error;
  }
}

/** The public JWK of a key (private parts never exported). */
export function publicJwk(key: KeyObject): JWK {
  const publicKey = key.type === "private" ? crypto.createPublicKey(key) : key;
  return publicKey.export({ format: "jwk" }) as JWK;
}

/**
 * RFC 7638 SHA-256 JWK thumbprint (base64url) of the public key: the `kid`
 * naming which key signed or must decrypt.
 */
export async function jwkThumbprint(key: KeyObject): Promise<string> {
  const known = thumbprints.get(key);
  if (known !== undefined) return known;
  // jose is loaded on first use: commands that never sign (case list, pki list) skip its ~60 ms.
  const { calculateJwkThumbprint } = await import("jose");
  const thumbprint = await calculateJwkThumbprint(publicJwk(key), "sha256");
  thumbprints.set(key, thumbprint);
  return thumbprint;
}

// KeyObjects are immutable: a key's thumbprint is computed once (every seal
// and open asks for it).
const thumbprints = new WeakMap<KeyObject, string>();
