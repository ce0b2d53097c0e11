/**
 * C2SP signed notes (https://c2sp.org/signed-note): a UTF-8 text ending in a
 * newline, a blank line, then one or more signature lines
 * `— <key name> <base64(4-byte key id ‖ signature)>`.
 *
 * Notes arrive from peers, witnesses and exports: every byte is hostile until
 * a trusted key's signature over it verifies. Parsing is strict (canonical
 * base64, no control characters, bounded size and signature count) and
 * happens before any signature is checked.
 */
import { GatewayError } from "../errors.js";
import { decodeBase64Strict } from "./base64.js";
import { isValidKeyName, type NoteSigner, type NoteVerifier } from "./note-keys.js";

/** Most signature lines accepted in one note (the Go reference's limit; the spec asks for at least 16). */
export const MAX_NOTE_SIGNATURES = 100;
/** Largest note accepted, in UTF-8 bytes: bounds the work an attacker can ask for. */
export const MAX_NOTE_BYTES = 1024 * 1024;

/** The em dash and space that open every signature line. */
const SIGNATURE_PREFIX = "\u2014 ";
const CONTROL = /[\u0000-\u0009\u000b-\u001f]/;
const LONE_SURROGATE = /[\ud800-\udfff]/u;

/** One signature line of a note. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** The signature bytes after the 4-byte key id. */
  readonly signature: Buffer;
}

/** A note split into text and signatures, none verified. */
export interface ParsedNote {
  /** The note text, with its final newline. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** A note whose text at least one trusted key signed. */
export interface OpenedNote {
  /** The note text, with its final newline. */
  readonly text: string;
  /** Signatures that verified, one per trusted key, in note order. */
  readonly verified: readonly NoteSignature[];
  /** Signatures from keys not among the verifiers (e.g. other witnesses), kept unverified and de-duplicated. */
  readonly unverified: readonly NoteSignature[];
}

/** `— <name> <base64(keyId ‖ signature)>\n`. */
export function formatSignatureLine(signature: NoteSignature): string {
  const bytes = Buffer.alloc(4 + signature.signature.length);
  bytes.writeUInt32BE(signature.keyId >>> 0, 0);
  Buffer.from(signature.signature).copy(bytes, 4);
  return `${SIGNATURE_PREFIX}${signature.name} ${bytes.toString("base64")}\n`;
}

/**
 * Signs `text` (which must end in a newline) with every signer, in order,
 * and returns the note. Throws AUDIT_NOTE_MALFORMED for a text that would not
 * parse back, AUDIT_KEY_INVALID without signers.
 */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  const bytes = checkedText(text);
  if (signers.length === 0 || signers.length > MAX_NOTE_SIGNATURES) {
    throw new GatewayError("AUDIT_KEY_INVALID", "A note needs between 1 and 100 signers.", { details: { signers: signers.length } });
  }
  const lines = signers.map((signer) => {
    if (!isValidKeyName(signer.name)) throw new GatewayError("AUDIT_KEY_INVALID", "Invalid note signer name.");
    return formatSignatureLine({ name: signer.name, keyId: signer.keyId, signature: signer.sign(bytes) });
  });
  const note = `${text}\n${lines.join("")}`;
  if (Buffer.byteLength(note, "utf8") > MAX_NOTE_BYTES) {
    throw new GatewayError("AUDIT_NOTE_MALFORMED", "The signed note would exceed the size limit.");
  }
  return note;
}

/**
 * Splits a note into text and signature lines without verifying anything.
 * Throws AUDIT_NOTE_MALFORMED. Use {@link openNote} to trust the text.
 */
export function parseNote(note: string | Uint8Array): ParsedNote {
  const text = decodeNote(note);
  if (!text.endsWith("\n")) throw malformed("the note does not end with a newline");
  // The text ends at the last blank line; signature lines hold no blank line.
  const split = text.lastIndexOf("\n\n");
  if (split < 0) throw malformed("no blank line before the signatures");
  const block = text.slice(split + 2);
  if (block.length === 0) throw malformed("no signature lines");
  return { text: text.slice(0, split + 1), signatures: parseSignatureLines(block) };
}

/**
 * Parses a block of signature lines, each ending in a newline, as found
 * after a note's blank line or in a tlog-witness response body. Throws
 * AUDIT_NOTE_MALFORMED (also for more than {@link MAX_NOTE_SIGNATURES} lines).
 */
export function parseSignatureLines(block: string): NoteSignature[] {
  if (block.length === 0 || !block.endsWith("\n")) throw malformed("signature lines must end with a newline");
  if (CONTROL.test(block) || LONE_SURROGATE.test(block)) throw malformed("control character or invalid UTF-16");
  const lines = block.slice(0, -1).split("\n");
  // Counted before any decoding: a flood of lines must cost nothing.
  if (lines.length > MAX_NOTE_SIGNATURES) throw malformed("too many signatures");
  return lines.map((line) => {
    if (!line.startsWith(SIGNATURE_PREFIX)) throw malformed("a signature line does not start with an em dash and a space");
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.indexOf(" ");
    if (space < 0) throw malformed("a signature line has no signature");
    const name = rest.slice(0, space);
    if (!isValidKeyName(name)) throw malformed("a signature line has an invalid key name");
    const bytes = decodeBase64Strict(rest.slice(space + 1));
    if (bytes === undefined || bytes.length < 5) throw malformed("a signature is not canonical base64 of at least 5 bytes");
    return { name, keyId: bytes.readUInt32BE(0), signature: bytes.subarray(4) };
  });
}

/**
 * Appends signature lines (e.g. a witness's cosignatures) to a note, after
 * checking both. Throws AUDIT_NOTE_MALFORMED.
 */
export function appendSignatureLines(note: string, lines: string): string {
  parseSignatureLines(lines);
  const combined = note + lines;
  parseNote(combined);
  return combined;
}

/**
 * Parses `note` and verifies its signatures against `verifiers`, following
 * the spec and the Go reference (golang.org/x/mod/sumdb/note):
 * - a signature whose (name, key id) matches no verifier is kept in
 *   `unverified` (identical lines once) and never trusted;
 * - a signature from a known key is verified; if it fails, the whole note is
 *   rejected (AUDIT_SIGNATURE_INVALID); later lines of an already verified
 *   key are skipped;
 * - if no known key signed, the note is rejected (AUDIT_SIGNATURE_INVALID).
 * Throws AUDIT_NOTE_MALFORMED before any verification for a malformed note,
 * AUDIT_KEY_INVALID when two verifiers share a name and key id.
 *
 * @example
 * const { text } = openNote(note, [verifierFromKey(vkey)]);
 */
export function openNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): OpenedNote {
  const known = new Map<string, NoteVerifier>();
  for (const verifier of verifiers) {
    const key = keyOf(verifier.name, verifier.keyId);
    if (known.has(key)) {
      throw new GatewayError("AUDIT_KEY_INVALID", "Two verifiers share a key name and key id.", { details: { name: verifier.name } });
    }
    known.set(key, verifier);
  }
  const parsed = parseNote(note);
  const textBytes = Buffer.from(parsed.text, "utf8");
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seenVerified = new Set<string>();
  const seenUnverified = new Set<string>();
  for (const signature of parsed.signatures) {
    const key = keyOf(signature.name, signature.keyId);
    const verifier = known.get(key);
    if (verifier === undefined) {
      const line = formatSignatureLine(signature);
      if (!seenUnverified.has(line)) {
        seenUnverified.add(line);
        unverified.push(signature);
      }
      continue;
    }
    if (seenVerified.has(key)) continue;
    seenVerified.add(key);
    if (!verifier.verify(textBytes, signature.signature)) {
      throw new GatewayError("AUDIT_SIGNATURE_INVALID", "A signature from a trusted key does not verify.", {
        details: { name: signature.name, keyId: signature.keyId },
      });
    }
    verified.push(signature);
  }
  if (verified.length === 0) {
    throw new GatewayError("AUDIT_SIGNATURE_INVALID", "The note carries no signature from a trusted key.", {
      details: { signers: parsed.signatures.map((s) => s.name).slice(0, 16) },
    });
  }
  return { text: parsed.text, verified, unverified };
}

/** Checks a note text for signing and returns its bytes. */
function checkedText(text: string): Buffer {
  const fail = (reason: string): GatewayError =>
    new GatewayError("AUDIT_NOTE_MALFORMED", `Invalid note text: ${reason}.`, { details: { reason } });
  if (text.length === 0 || !text.endsWith("\n")) throw fail("the text must end with a newline");
  if (CONTROL.test(text) || LONE_SURROGATE.test(text)) throw fail("control character or invalid UTF-16");
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length > MAX_NOTE_BYTES) throw fail("too large");
  return bytes;
}

/** Decodes and screens a whole note: size, UTF-8, control characters. */
function decodeNote(note: string | Uint8Array): string {
  let text: string;
  if (typeof note === "string") {
    // Checked on UTF-16 length first so a huge string costs nothing more.
    if (note.length > MAX_NOTE_BYTES || Buffer.byteLength(note, "utf8") > MAX_NOTE_BYTES) throw malformed("too large");
    if (LONE_SURROGATE.test(note)) throw malformed("not valid UTF-8");
    text = note;
  } else {
    if (note.length > MAX_NOTE_BYTES) throw malformed("too large");
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(note);
    } catch (cause) {
      throw new GatewayError("AUDIT_NOTE_MALFORMED", "Malformed note: not valid UTF-8.", { cause, details: { reason: "not valid UTF-8" } });
    }
  }
  if (CONTROL.test(text)) throw malformed("control character other than newline");
  return text;
}

function malformed(reason: string): GatewayError {
  return new GatewayError("AUDIT_NOTE_MALFORMED", `Malformed note: ${reason}.`, { details: { reason } });
}

function keyOf(name: string, keyId: number): string {
  return `${name}\n${keyId >>> 0}`;
}
