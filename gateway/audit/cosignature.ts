/**
 * Witness cosignatures of checkpoints, C2SP tlog-cosignature
 * (https://c2sp.org/tlog-cosignature) `cosignature/v1` over Ed25519:
 *
 * - key id `SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4]`;
 * - signed message `cosignature/v1\ntime <unix seconds>\n` + checkpoint body;
 * - signature bytes: 8-byte big-endian timestamp ‖ 64-byte Ed25519 signature.
 *
 * A Valise gateway witnesses its peers' logs under the name
 * `valise-witness/<AUTHORITY-ID>` (its own authority id), signing with its
 * `log` key. The Ed25519 cosignature does not commit to the witness name,
 * so that key must cosign under that one name only.
 *
 * Times are numbers of seconds, exact up to 2^53 - 1 (the spec allows up to
 * 2^63 - 1; a cosignature beyond 2^53 - 1 is refused as invalid).
 */
import { type KeyObject, sign } from "node:crypto";
import { isAuthorityId } from "../../pki/authority.js";
import { GatewayError } from "../errors.js";
import { parseCheckpoint, type Checkpoint } from "./checkpoint.js";
import { isSafeIndex } from "./merkle.js";
import {
  SIGNATURE_TYPE_COSIGNATURE_V1,
  ed25519PublicKeyFromRaw,
  isValidKeyName,
  noteKeyId,
  rawEd25519PublicKey,
  verifyQuietly,
  type NoteSigner,
  type NoteVerifier,
} from "./note-keys.js";
import { formatSignatureLine, openNote } from "./note.js";

/** Prefix of a Valise witness name. */
export const VALISE_WITNESS_PREFIX = "valise-witness/";

/** A witness's signing key and name. */
export interface WitnessKey {
  readonly name: string;
  readonly privateKey: KeyObject;
}

/** A trusted witness: its name and Ed25519 public key (KeyObject or raw 32 bytes). */
export interface WitnessPublicKey {
  readonly name: string;
  readonly publicKey: KeyObject | Uint8Array;
}

/** A cosignature that verified. */
export interface VerifiedCosignature {
  /** When the witness cosigned, in POSIX seconds. Compare with `now` yourself; the spec lets verifiers refuse future times. */
  readonly time: number;
  /** The cosigned checkpoint (not yet checked against the log's own key). */
  readonly checkpoint: Checkpoint;
}

/** `valise-witness/<AUTHORITY-ID>`; throws AUDIT_INVALID_ARGUMENT for a malformed id. */
export function witnessName(authorityId: string): string {
  if (!isAuthorityId(authorityId)) {
    throw new GatewayError("AUDIT_INVALID_ARGUMENT", "Not an authority id.", { details: { authorityId: String(authorityId).slice(0, 64) } });
  }
  return VALISE_WITNESS_PREFIX + authorityId;
}

/** The bytes a cosignature/v1 signs: the header line, the time line, then the checkpoint body. */
export function cosignatureMessage(body: string, timeSeconds: number): Buffer {
  checkTime(timeSeconds);
  return Buffer.concat([Buffer.from(`cosignature/v1\ntime ${timeSeconds}\n`, "utf8"), Buffer.from(body, "utf8")]);
}

/** A note signer producing cosignature/v1 signatures at `timeSeconds`. */
export function cosignatureSigner(witness: WitnessKey, timeSeconds: number): NoteSigner {
  checkName(witness.name);
  checkTime(timeSeconds);
  if (witness.privateKey.type !== "private") throw new GatewayError("AUDIT_KEY_INVALID", "A witness needs a private key.");
  const keyId = noteKeyId(witness.name, SIGNATURE_TYPE_COSIGNATURE_V1, rawEd25519PublicKey(witness.privateKey));
  return {
    name: witness.name,
    keyId,
    sign(text) {
      const stamp = Buffer.alloc(8);
      stamp.writeBigUInt64BE(BigInt(timeSeconds));
      const message = Buffer.concat([Buffer.from(`cosignature/v1\ntime ${timeSeconds}\n`, "utf8"), text]);
      return Buffer.concat([stamp, sign(null, message, witness.privateKey)]);
    },
  };
}

/** A note verifier of cosignature/v1 signatures by `witness`. */
export function cosignatureVerifier(witness: WitnessPublicKey): NoteVerifier {
  checkName(witness.name);
  const raw = witness.publicKey instanceof Uint8Array ? Buffer.from(witness.publicKey) : rawEd25519PublicKey(witness.publicKey);
  const key = ed25519PublicKeyFromRaw(raw);
  return {
    name: witness.name,
    keyId: noteKeyId(witness.name, SIGNATURE_TYPE_COSIGNATURE_V1, raw),
    verify(text, signature) {
      if (signature.length !== 72) return false;
      const time = signature.readBigUInt64BE(0);
      if (time > BigInt(Number.MAX_SAFE_INTEGER)) return false;
      const message = Buffer.concat([Buffer.from(`cosignature/v1\ntime ${time}\n`, "utf8"), text]);
      return verifyQuietly(message, key, signature.subarray(8));
    },
  };
}

/**
 * The witness's cosignature line (`— <name> <base64>\n`) over a checkpoint
 * body, as a tlog-witness response carries it. Pass the `text` that
 * `verifyCheckpoint` returned: a witness cosigns only what it has verified
 * against the log key and checked for consistency. Throws
 * AUDIT_CHECKPOINT_MALFORMED for a body that is not a checkpoint.
 */
export function cosignCheckpoint(body: string, witness: WitnessKey, timeSeconds: number): string {
  parseCheckpoint(body);
  const signer = cosignatureSigner(witness, timeSeconds);
  return formatSignatureLine({ name: signer.name, keyId: signer.keyId, signature: signer.sign(Buffer.from(body, "utf8")) });
}

/**
 * Verifies `witness`'s cosignature on a checkpoint note and returns its time
 * and the checkpoint. Signatures by other keys (the log's own, other
 * witnesses) are ignored here: check the log signature with
 * `verifyCheckpoint`. Throws AUDIT_NOTE_MALFORMED, AUDIT_SIGNATURE_INVALID
 * (no cosignature by that witness, or a bad one), AUDIT_CHECKPOINT_MALFORMED.
 */
export function verifyCosignature(note: string | Uint8Array, witness: WitnessPublicKey): VerifiedCosignature {
  const opened = openNote(note, [cosignatureVerifier(witness)]);
  const checkpoint = parseCheckpoint(opened.text);
  const signature = opened.verified[0]?.signature;
  if (signature === undefined) throw new GatewayError("AUDIT_SIGNATURE_INVALID", "No cosignature by that witness.");
  return { time: Number(signature.readBigUInt64BE(0)), checkpoint };
}

function checkTime(timeSeconds: number): void {
  if (!isSafeIndex(timeSeconds)) {
    throw new GatewayError("AUDIT_INVALID_ARGUMENT", "A cosignature time is a whole number of seconds from 0 to 2^53 - 1.", {
      details: { timeSeconds },
    });
  }
}

function checkName(name: string): void {
  if (!isValidKeyName(name)) throw new GatewayError("AUDIT_KEY_INVALID", "Invalid witness name.", { details: { name: name.slice(0, 64) } });
}
