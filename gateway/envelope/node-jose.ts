/**
 * The JWS and JWE operations of the envelope hot path, on node:crypto's
 * one-shot primitives with the caller's `KeyObject`s.
 *
 * jose 6 runs on WebCrypto: each call converts the key to a `CryptoKey`,
 * dispatches a promise job per primitive and base64url-encodes in JavaScript.
 * At a thousand envelopes a second that costs more than the cryptography. The
 * serialisations here are the ones jose produces, byte for byte where jose
 * is deterministic (same protected header member order, unpadded base64url,
 * IEEE P1363 ECDSA signatures, the `epk` as `{x, crv, kty[, y]}`), and the
 * primitives are the ones RFC 7518 names: Ed25519 / ECDSA (§3.4), ECDH-ES
 * with the Concat KDF of NIST SP 800-56A (§4.6.2), AES key wrap
 * (`id-aes256-wrap`, RFC 3394) and AES-256-GCM (§5.3). No primitive is
 * implemented here; only formatting and the KDF's hash input.
 *
 * Verification and decryption refuse what jose refuses for these algorithms
 * (wrong signature length, wrong IV/tag/wrapped-key size, an `epk` that is not
 * a public key of the recipient key's curve); callers check headers against
 * their allow-lists first.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from "node:crypto";
import type { SigningAlgorithm } from "./algorithms.js";

/** Unpadded base64url of `bytes`. */
export function b64u(bytes: Uint8Array): string {
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString("base64url");
}

/** Unpadded base64url of the UTF-8 of `text`. */
export function b64uText(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

const HASHES: Readonly<Record<SigningAlgorithm, string | null>> = { EdDSA: null, ES256: "sha256", ES384: "sha384" };
const SIGNATURE_BYTES: Readonly<Record<SigningAlgorithm, number>> = { EdDSA: 64, ES256: 64, ES384: 96 };

/** The JWS signature of the ASCII `signingInput` (`protected.payload`), base64url. */
export function jwsSign(alg: SigningAlgorithm, privateKey: KeyObject, signingInput: string): string {
  const data = Buffer.from(signingInput, "latin1");
  const signature =
    alg === "EdDSA" ? nodeSign(null, data, privateKey) : nodeSign(HASHES[alg], data, { key: privateKey, dsaEncoding: "ieee-p1363" });
  return signature.toString("base64url");
}

/**
 * True when `signature` (raw bytes) is a valid `alg` signature of the ASCII
 * `signingInput` by `publicKey`. The caller has checked that `alg` is the
 * algorithm of the key. Never throws for a bad signature.
 */
export function jwsVerify(alg: SigningAlgorithm, publicKey: KeyObject, signingInput: string, signature: Uint8Array): boolean {
  if (signature.byteLength !== SIGNATURE_BYTES[alg]) return false;
  const data = Buffer.from(signingInput, "utf8");
  try {
    return alg === "EdDSA"
      ? nodeVerify(null, data, publicKey, signature)
      : nodeVerify(HASHES[alg], data, { key: publicKey, dsaEncoding: "ieee-p1363" }, signature);
  } catch {
    return false;
  }
}

/** A compact JWS (`protected.payload.signature`) of `payload` with the protected header `header` (members in the given order). */
export function compactSign(payload: Uint8Array, header: Record<string, unknown>, alg: SigningAlgorithm, privateKey: KeyObject): string {
  const signingInput = `${b64uText(JSON.stringify(header))}.${b64u(payload)}`;
  return `${signingInput}.${jwsSign(alg, privateKey, signingInput)}`;
}

/** A flattened JWS of `payload` with the protected header `header`. */
export function flattenedSign(
  payload: Uint8Array,
  header: Record<string, unknown>,
  alg: SigningAlgorithm,
  privateKey: KeyObject,
): { protected: string; payload: string; signature: string } {
  const protectedPart = b64uText(JSON.stringify(header));
  const payloadPart = b64u(payload);
  return { protected: protectedPart, payload: payloadPart, signature: jwsSign(alg, privateKey, `${protectedPart}.${payloadPart}`) };
}

const KW_ALG = "ECDH-ES+A256KW";
const KW_IV = Buffer.from("a6a6a6a6a6a6a6a6", "hex");
const CURVE_OF: Readonly<Record<string, { crv: string; kty: string; bits: number }>> = {
  prime256v1: { crv: "P-256", kty: "EC", bits: 256 },
  secp384r1: { crv: "P-384", kty: "EC", bits: 384 },
};

/** OtherInfo of the Concat KDF for ECDH-ES+A256KW with empty apu/apv (RFC 7518 §4.6.2). */
const OTHER_INFO = (() => {
  const algorithmId = Buffer.from(KW_ALG, "ascii");
  const info = Buffer.alloc(4 + algorithmId.length + 4 + 4 + 4);
  let offset = info.writeUInt32BE(algorithmId.length, 0);
  offset += algorithmId.copy(info, offset);
  offset = info.writeUInt32BE(0, offset); // PartyUInfo: empty
  offset = info.writeUInt32BE(0, offset); // PartyVInfo: empty
  info.writeUInt32BE(256, offset); // SuppPubInfo: keydatalen in bits
  return info;
})();
const COUNTER_1 = Buffer.from([0, 0, 0, 1]);

/** The A256KW key-encryption key from the shared secret `z`: one SHA-256 round of the Concat KDF. */
function concatKdf(z: Buffer): Buffer {
  return createHash("sha256").update(COUNTER_1).update(z).update(OTHER_INFO).digest();
}

/** The key type an ephemeral key must have to agree with `key` (X25519, P-256 or P-384). */
function agreementType(key: KeyObject): { crv: string; kty: string; nodeCurve?: string } | undefined {
  if (key.asymmetricKeyType === "x25519") return { crv: "X25519", kty: "OKP" };
  if (key.asymmetricKeyType === "ec") {
    const nodeCurve = key.asymmetricKeyDetails?.namedCurve ?? "";
    const curve = CURVE_OF[nodeCurve];
    if (curve !== undefined) return { crv: curve.crv, kty: curve.kty, nodeCurve };
  }
  return undefined;
}

/**
 * A compact JWE (ECDH-ES+A256KW, A256GCM) of `plaintext` to `recipient`, the
 * protected header being `header` followed by the ephemeral `epk` (as jose
 * writes it).
 *
 * @throws Error when `recipient` is not an X25519, P-256 or P-384 public key.
 */
export function compactEncrypt(plaintext: Uint8Array, header: Record<string, unknown>, recipient: KeyObject): string {
  const type = agreementType(recipient);
  if (type === undefined) throw new Error("The recipient key is not an X25519, P-256 or P-384 key.");
  const ephemeral =
    type.nodeCurve === undefined ? generateKeyPairSync("x25519") : generateKeyPairSync("ec", { namedCurve: type.nodeCurve });
  const jwk = ephemeral.publicKey.export({ format: "jwk" });
  const epk: Record<string, unknown> = { x: jwk.x, crv: type.crv, kty: type.kty };
  if (type.kty === "EC") epk.y = jwk.y;
  const kek = concatKdf(diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient }));
  const cek = randomBytes(32);
  const wrapper = createCipheriv("id-aes256-wrap", kek, KW_IV);
  const encryptedKey = Buffer.concat([wrapper.update(cek), wrapper.final()]);
  const protectedPart = b64uText(JSON.stringify({ ...header, epk }));
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", cek, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(protectedPart, "latin1"));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `${protectedPart}.${encryptedKey.toString("base64url")}.${iv.toString("base64url")}.${ciphertext.toString("base64url")}.${tag.toString("base64url")}`;
}

const PRIVATE_JWK_MEMBERS = ["d", "k", "p", "q", "dp", "dq", "qi", "oth", "priv"];

/** The parts of a compact JWE, decoded by the caller (strict base64url). */
export interface JweParts {
  /** The protected header as it appears (base64url text): the AAD. */
  readonly protectedPart: string;
  /** Its decoded members (the caller checked alg, enc and the member allow-list). */
  readonly header: Record<string, unknown>;
  readonly encryptedKey: Uint8Array;
  readonly iv: Uint8Array;
  readonly ciphertext: Uint8Array;
  readonly tag: Uint8Array;
}

/**
 * Decrypt a compact JWE (ECDH-ES+A256KW, A256GCM) with `privateKey`.
 *
 * @throws Error for any failure (bad epk, sizes, key unwrap or tag check);
 *   the caller maps it to its own error code.
 */
export function compactDecrypt(parts: JweParts, privateKey: KeyObject): Buffer {
  const type = agreementType(privateKey);
  if (type === undefined) throw new Error("The decryption key is not an X25519, P-256 or P-384 key.");
  const epk = parts.header.epk;
  if (typeof epk !== "object" || epk === null || Array.isArray(epk)) throw new Error("epk is missing or not an object.");
  const jwk = epk as Record<string, unknown>;
  if (PRIVATE_JWK_MEMBERS.some((member) => Object.hasOwn(jwk, member))) throw new Error("epk holds private key members.");
  if (jwk.kty !== type.kty || jwk.crv !== type.crv || typeof jwk.x !== "string" || (type.kty === "EC" && typeof jwk.y !== "string")) {
    throw new Error("epk is not a public key of the recipient key's curve.");
  }
  if (parts.encryptedKey.byteLength !== 40) throw new Error("The wrapped key is not 40 bytes.");
  if (parts.iv.byteLength !== 12) throw new Error("The IV is not 12 bytes.");
  if (parts.tag.byteLength !== 16) throw new Error("The tag is not 16 bytes.");
  const publicJwk = type.kty === "EC" ? { kty: "EC", crv: type.crv, x: jwk.x, y: jwk.y } : { kty: "OKP", crv: type.crv, x: jwk.x };
  const ephemeral = createPublicKey({ key: publicJwk as import("node:crypto").JsonWebKey, format: "jwk" });
  const kek = concatKdf(diffieHellman({ privateKey, publicKey: ephemeral }));
  const unwrapper = createDecipheriv("id-aes256-wrap", kek, KW_IV);
  const cek = Buffer.concat([unwrapper.update(parts.encryptedKey), unwrapper.final()]);
  if (cek.byteLength !== 32) throw new Error("The content encryption key is not 256 bits.");
  const decipher = createDecipheriv("aes-256-gcm", cek, parts.iv, { authTagLength: 16 });
  decipher.setAAD(Buffer.from(parts.protectedPart, "utf8"));
  decipher.setAuthTag(parts.tag);
  return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]);
}
