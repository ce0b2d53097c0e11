/**
 * C2SP tlog checkpoints (https://c2sp.org/tlog-checkpoint): the signed note
 * body `<origin>\n<tree size>\n<base64 root hash>\n[extension lines…]`,
 * signed by the log's Ed25519 `log` key under the key name = origin.
 * A Valise log's origin is `valise/<AUTHORITY-ID>`.
 */
import type { KeyObject } from "node:crypto";
import { isAuthorityId } from "../../pki/authority.js";
import { GatewayError } from "../errors.js";
import { decodeBase64Strict } from "./base64.js";
import { HASH_SIZE, isSafeIndex } from "./merkle.js";
import { ed25519NoteSigner, ed25519NoteVerifier, isValidKeyName } from "./note-keys.js";
import { openNote, signNote, type OpenedNote } from "./note.js";

/** Prefix of a Valise log origin. */
export const VALISE_ORIGIN_PREFIX = "valise/";

/** A tree head as a checkpoint states it. */
export interface Checkpoint {
  /** The log's identity, e.g. `valise/GB-UKCA`. */
  readonly origin: string;
  /** Number of leaves; at most 2^53 - 1. */
  readonly size: number;
  /** The RFC 9162 root hash of the first `size` leaves (32 bytes). */
  readonly rootHash: Buffer;
  /** Opaque extension lines, each non-empty (NOT RECOMMENDED by the spec; Valise writes none). */
  readonly extensions: readonly string[];
}

/** The log's signing key: the `log` Ed25519 private key, named by the origin. */
export interface LogKey {
  readonly name: string;
  readonly privateKey: KeyObject;
}

/** What a verifier trusts about a log: its origin and `log` public key (KeyObject or raw 32 bytes). */
export interface LogPublicKey {
  readonly origin: string;
  readonly publicKey: KeyObject | Uint8Array;
}

/** A checkpoint whose note verified. */
export interface VerifiedCheckpoint {
  readonly checkpoint: Checkpoint;
  /** The checkpoint body (note text), e.g. to cosign it. */
  readonly text: string;
  /** The opened note: the log signature, and other signatures (cosignatures) unverified. */
  readonly note: OpenedNote;
}

/** `valise/<AUTHORITY-ID>`; throws AUDIT_INVALID_ARGUMENT for a malformed id. */
export function checkpointOrigin(authorityId: string): string {
  if (!isAuthorityId(authorityId)) {
    throw new GatewayError("AUDIT_INVALID_ARGUMENT", "Not an authority id.", { details: { authorityId: String(authorityId).slice(0, 64) } });
  }
  return VALISE_ORIGIN_PREFIX + authorityId;
}

/** The checkpoint body. Throws AUDIT_CHECKPOINT_MALFORMED for a value that would not parse back. */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const body = [
    checkpoint.origin,
    String(checkpoint.size),
    Buffer.from(checkpoint.rootHash).toString("base64"),
    ...checkpoint.extensions,
  ].join("\n") + "\n";
  parseCheckpoint(body);
  return body;
}

/**
 * Parses a checkpoint body strictly: at least three lines, each ending in a
 * newline and non-empty; origin a valid key name; size decimal without
 * leading zeros and at most 2^53 - 1; root hash canonical base64 of 32 bytes.
 * Throws AUDIT_CHECKPOINT_MALFORMED. The body is hostile until its note is
 * verified: call this on the text {@link verifyCheckpoint} returns.
 */
export function parseCheckpoint(text: string): Checkpoint {
  const bad = (reason: string): GatewayError =>
    new GatewayError("AUDIT_CHECKPOINT_MALFORMED", `Malformed checkpoint: ${reason}.`, { details: { reason } });
  if (!text.endsWith("\n")) throw bad("the body does not end with a newline");
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) throw bad("control character");
  const lines = text.slice(0, -1).split("\n");
  const [origin, sizeLine, rootLine, ...extensions] = lines;
  if (origin === undefined || sizeLine === undefined || rootLine === undefined) throw bad("fewer than three lines");
  // The spec only asks for a non-empty origin; Valise origins are key names (they name the log key too).
  if (!isValidKeyName(origin)) throw bad("the origin is empty or holds a space or '+'");
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeLine)) throw bad("the tree size is not a decimal without leading zeros");
  const size = Number(sizeLine);
  if (!isSafeIndex(size)) throw bad("the tree size exceeds 2^53 - 1");
  const rootHash = decodeBase64Strict(rootLine);
  if (rootHash === undefined || rootHash.length !== HASH_SIZE) throw bad("the root hash is not base64 of 32 bytes");
  if (extensions.some((line) => line.length === 0)) throw bad("an extension line is empty");
  return { origin, size, rootHash, extensions };
}

/**
 * Signs a checkpoint body with the log key and returns the note. The body
 * must parse, and the key name must equal its origin (the log key is named
 * after the log). Throws AUDIT_CHECKPOINT_MALFORMED, AUDIT_ORIGIN_MISMATCH,
 * AUDIT_KEY_INVALID.
 */
export function signCheckpoint(body: string, logKey: LogKey): string {
  const checkpoint = parseCheckpoint(body);
  if (checkpoint.origin !== logKey.name) {
    throw new GatewayError("AUDIT_ORIGIN_MISMATCH", "The log key name differs from the checkpoint origin.", {
      details: { origin: checkpoint.origin, keyName: logKey.name },
    });
  }
  return signNote(body, [ed25519NoteSigner(logKey.name, logKey.privateKey)]);
}

/**
 * Verifies a checkpoint note against a log's origin and public key and
 * parses its body. Other signatures (witness cosignatures) are ignored and
 * returned unverified. Throws AUDIT_NOTE_MALFORMED, AUDIT_SIGNATURE_INVALID,
 * AUDIT_CHECKPOINT_MALFORMED, AUDIT_ORIGIN_MISMATCH.
 *
 * @example
 * const { checkpoint } = verifyCheckpoint(note, { origin: "valise/GB-UKCA", publicKey: logPublicKey });
 */
export function verifyCheckpoint(note: string | Uint8Array, log: LogPublicKey): VerifiedCheckpoint {
  const opened = openNote(note, [ed25519NoteVerifier(log.origin, log.publicKey)]);
  const checkpoint = parseCheckpoint(opened.text);
  // The key signs whatever text it is given: the origin line must name the log we asked about.
  if (checkpoint.origin !== log.origin) {
    throw new GatewayError("AUDIT_ORIGIN_MISMATCH", "The checkpoint names another log.", {
      details: { origin: checkpoint.origin, expected: log.origin },
    });
  }
  return { checkpoint, text: opened.text, note: opened };
}
