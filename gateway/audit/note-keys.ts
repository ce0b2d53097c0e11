/**
 * Keys of C2SP signed notes (https://c2sp.org/signed-note): key names, key
 * ids, verifier keys (`vkey`: `<name>+<hex key id>+<base64(type ‖ key)>`),
 * and Ed25519 note signers and verifiers (signature type 0x01).
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { GatewayError } from "../errors.js";
import { decodeBase64Strict } from "./base64.js";

/** Signature type byte of plain Ed25519 note signatures. */
export const SIGNATURE_TYPE_ED25519 = 0x01;
/** Signature type byte of timestamped Ed25519 cosignatures (c2sp.org/tlog-cosignature, cosignature/v1). */
export const SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04;

/** Signs note texts for one key. `keyId` is the uint32 that prefixes each signature. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  /** The signature over the note text (the bytes after the key id). */
  sign(text: Buffer): Buffer;
}

/** Verifies note signatures of one key, identified by (name, keyId). */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  /** True when `signature` (the bytes after the key id) is valid for `text`. */
  verify(text: Buffer, signature: Buffer): boolean;
}

/** A parsed verifier key (vkey). */
export interface VerifierKey {
  readonly name: string;
  readonly keyId: number;
  readonly type: number;
  /** The raw public key (32 bytes for the Ed25519 types). */
  readonly publicKey: Buffer;
}

/**
 * True for a valid key name: non-empty, well-formed, no Unicode space, no
 * `+` (which separates vkey fields), no control character.
 */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+\u0000-\u001f\u007f\u0085]/u.test(name) && !/[\ud800-\udfff]/u.test(name);
}

/** `SHA-256(name ‖ 0x0A ‖ type ‖ publicKey)[:4]` as a big-endian uint32. */
export function noteKeyId(name: string, type: number, publicKey: Uint8Array): number {
  return createHash("sha256").update(name, "utf8").update(Buffer.from([0x0a, type])).update(publicKey).digest().readUInt32BE(0);
}

/** The key id as 8 lower-case hex digits, as in a vkey. */
export function keyIdHex(keyId: number): string {
  return keyId.toString(16).padStart(8, "0");
}

/** The raw 32-byte public key of an Ed25519 key (public, or private whose public half is taken). */
export function rawEd25519PublicKey(key: KeyObject): Buffer {
  const publicKey = key.type === "private" ? createPublicKey(key) : key;
  if (publicKey.asymmetricKeyType !== "ed25519") {
    throw new GatewayError("AUDIT_KEY_INVALID", "Note keys must be Ed25519 keys.", {
      details: { type: publicKey.asymmetricKeyType ?? publicKey.type },
    });
  }
  return Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
}

/** An Ed25519 public KeyObject from its raw 32 bytes. */
export function ed25519PublicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) {
    throw new GatewayError("AUDIT_KEY_INVALID", "An Ed25519 public key is 32 bytes.", { details: { length: raw.length } });
  }
  try {
    return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(raw).toString("base64url") }, format: "jwk" });
  } catch (cause) {
    throw new GatewayError("AUDIT_KEY_INVALID", "Not a valid Ed25519 public key.", { cause });
  }
}

/** Formats a vkey: `<name>+<hex key id>+<base64(type ‖ publicKey)>`. */
export function formatVerifierKey(name: string, publicKey: KeyObject | Uint8Array, type: number = SIGNATURE_TYPE_ED25519): string {
  assertKeyName(name);
  const raw = publicKey instanceof Uint8Array ? Buffer.from(publicKey) : rawEd25519PublicKey(publicKey);
  checkTypeAndLength(type, raw);
  return `${name}+${keyIdHex(noteKeyId(name, type, raw))}+${Buffer.concat([Buffer.from([type]), raw]).toString("base64")}`;
}

/**
 * Parses a vkey strictly. Accepts the Ed25519 types 0x01 and 0x04 only,
 * and only when the key id is the one the name and key imply (a vkey comes
 * from configuration or a trust bundle; a mangled one must not load).
 * Throws AUDIT_KEY_INVALID.
 *
 * @example
 * parseVerifierKey("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
 */
export function parseVerifierKey(vkey: string): VerifierKey {
  const bad = (reason: string): GatewayError =>
    new GatewayError("AUDIT_KEY_INVALID", `Malformed verifier key: ${reason}.`, { details: { reason } });
  const first = vkey.indexOf("+");
  const second = first < 0 ? -1 : vkey.indexOf("+", first + 1);
  if (second < 0) throw bad("expected name+keyid+key");
  const name = vkey.slice(0, first);
  const hex = vkey.slice(first + 1, second);
  if (!isValidKeyName(name)) throw bad("invalid name");
  if (!/^[0-9a-f]{8}$/.test(hex)) throw bad("key id is not 8 lower-case hex digits");
  const key = decodeBase64Strict(vkey.slice(second + 1));
  if (key === undefined || key.length < 2) throw bad("key is not base64");
  const type = key[0] as number;
  const publicKey = key.subarray(1);
  checkTypeAndLength(type, publicKey);
  const keyId = Number.parseInt(hex, 16);
  if (noteKeyId(name, type, publicKey) !== keyId) throw bad("key id does not match name and key");
  return { name, keyId, type, publicKey };
}

/** An Ed25519 (type 0x01) note signer for `name`. Throws AUDIT_KEY_INVALID for a non-Ed25519 key. */
export function ed25519NoteSigner(name: string, privateKey: KeyObject): NoteSigner {
  assertKeyName(name);
  if (privateKey.type !== "private") throw new GatewayError("AUDIT_KEY_INVALID", "A note signer needs a private key.");
  const keyId = noteKeyId(name, SIGNATURE_TYPE_ED25519, rawEd25519PublicKey(privateKey));
  return { name, keyId, sign: (text) => sign(null, text, privateKey) };
}

/** An Ed25519 (type 0x01) note verifier for `name` and `publicKey` (KeyObject or raw 32 bytes). */
export function ed25519NoteVerifier(name: string, publicKey: KeyObject | Uint8Array): NoteVerifier {
  assertKeyName(name);
  const raw = publicKey instanceof Uint8Array ? Buffer.from(publicKey) : rawEd25519PublicKey(publicKey);
  const key = ed25519PublicKeyFromRaw(raw);
  return {
    name,
    keyId: noteKeyId(name, SIGNATURE_TYPE_ED25519, raw),
    verify: (text, signature) => signature.length === 64 && verifyQuietly(text, key, signature),
  };
}

/** A note verifier from a type-0x01 vkey. Throws AUDIT_KEY_INVALID for other types. */
export function verifierFromKey(vkey: string): NoteVerifier {
  const parsed = parseVerifierKey(vkey);
  if (parsed.type !== SIGNATURE_TYPE_ED25519) {
    throw new GatewayError("AUDIT_KEY_INVALID", "Not an Ed25519 note verifier key (type 0x01).", { details: { type: parsed.type } });
  }
  return ed25519NoteVerifier(parsed.name, parsed.publicKey);
}

/** Ed25519 verification that answers false, never throws, on a malformed signature. */
export function verifyQuietly(message: Buffer, publicKey: KeyObject, signature: Buffer): boolean {
  try {
    return verify(null, message, publicKey, signature);
  } catch {
    return false;
  }
}

function assertKeyName(name: string): void {
  if (!isValidKeyName(name)) {
    throw new GatewayError("AUDIT_KEY_INVALID", "Invalid note key name (empty, or holds a space, '+' or control character).", {
      details: { name: name.slice(0, 64) },
    });
  }
}

function checkTypeAndLength(type: number, publicKey: Uint8Array): void {
  if (type !== SIGNATURE_TYPE_ED25519 && type !== SIGNATURE_TYPE_COSIGNATURE_V1) {
    throw new GatewayError("AUDIT_KEY_INVALID", "Unsupported note signature type.", { details: { type } });
  }
  if (publicKey.length !== 32) {
    throw new GatewayError("AUDIT_KEY_INVALID", "An Ed25519 public key is 32 bytes.", { details: { length: publicKey.length } });
  }
}
