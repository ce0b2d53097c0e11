import { createPrivateKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { expect } from "chai";
import {
  SIGNATURE_TYPE_ED25519,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  formatVerifierKey,
  isValidKeyName,
  noteKeyId,
  parseVerifierKey,
  rawEd25519PublicKey,
  verifierFromKey,
} from "../../../gateway/audit/note-keys.js";
import {
  MAX_NOTE_BYTES,
  appendSignatureLines,
  formatSignatureLine,
  openNote,
  parseNote,
  parseSignatureLines,
  signNote,
} from "../../../gateway/audit/note.js";
import { codeOf } from "../../error-code.js";

/** An Ed25519 private key from its 32-byte seed (PKCS#8 DER: fixed prefix ‖ seed). */
function ed25519FromSeed(seed: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]), format: "der", type: "pkcs8" });
}

// The reference vector of golang.org/x/mod/sumdb/note (note_test.go), also
// used by the C2SP signed-note implementations: a key pair and a note it signed.
const PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_NOTE =
  PETER_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const peterPrivateKey = (): KeyObject => ed25519FromSeed(Buffer.from(PETER_SKEY.split("+").slice(4).join("+"), "base64").subarray(1));

describe("gateway/audit/note (C2SP signed-note)", () => {
  const alice = generateKeyPairSync("ed25519");
  const bob = generateKeyPairSync("ed25519");
  const aliceSigner = ed25519NoteSigner("alice.example/log", alice.privateKey);
  const bobSigner = ed25519NoteSigner("bob.example/w", bob.privateKey);
  const aliceVerifier = ed25519NoteVerifier("alice.example/log", alice.publicKey);
  const bobVerifier = ed25519NoteVerifier("bob.example/w", bob.publicKey);
  const text = "hello\nworld\n";

  describe("reference vector (golang.org/x/mod/sumdb/note)", () => {
    it("parses the PeterNeumann vkey and recomputes its key id", () => {
      const key = parseVerifierKey(PETER_VKEY);
      expect(key.name).to.equal("PeterNeumann");
      expect(key.keyId).to.equal(0xc74f20a3);
      expect(key.type).to.equal(SIGNATURE_TYPE_ED25519);
      expect(noteKeyId(key.name, key.type, key.publicKey)).to.equal(0xc74f20a3);
      expect(formatVerifierKey(key.name, key.publicKey)).to.equal(PETER_VKEY);
      expect(formatVerifierKey("PeterNeumann", rawEd25519PublicKey(peterPrivateKey()))).to.equal(PETER_VKEY);
    });

    it("opens the reference note and signs it again byte for byte (Ed25519 is deterministic)", () => {
      const opened = openNote(PETER_NOTE, [verifierFromKey(PETER_VKEY)]);
      expect(opened.text).to.equal(PETER_TEXT);
      expect(opened.verified.map((s) => s.name)).to.deep.equal(["PeterNeumann"]);
      expect(opened.unverified).to.deep.equal([]);
      expect(signNote(PETER_TEXT, [ed25519NoteSigner("PeterNeumann", peterPrivateKey())])).to.equal(PETER_NOTE);
      expect(openNote(Buffer.from(PETER_NOTE, "utf8"), [verifierFromKey(PETER_VKEY)]).text).to.equal(PETER_TEXT);
    });

    it("refuses the reference note with one letter of its text changed", () => {
      const tampered = PETER_NOTE.replace("cryptography", "cryptographY");
      expect(codeOf(() => openNote(tampered, [verifierFromKey(PETER_VKEY)]))).to.equal("AUDIT_SIGNATURE_INVALID");
    });

    it("refuses every substring and every one-character mangling of the vkey (as the Go tests do)", () => {
      const refused = (candidate: string): void => {
        expect(codeOf(() => parseVerifierKey(candidate)), candidate).to.equal("AUDIT_KEY_INVALID");
      };
      for (let i = 0; i <= PETER_VKEY.length; i++) {
        for (let j = i + 1; j <= PETER_VKEY.length; j++) if (i !== 0 || j !== PETER_VKEY.length) refused(PETER_VKEY.slice(i, j));
      }
      for (let i = 0; i < PETER_VKEY.length; i++) {
        refused(PETER_VKEY.slice(0, i) + String.fromCharCode(PETER_VKEY.charCodeAt(i) + 1) + PETER_VKEY.slice(i + 1));
      }
      refused("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="); // wrong key length
      refused("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"); // unknown algorithm
      refused("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"); // upper-case key id
    });
  });

  describe("signing and opening", () => {
    it("round-trips a note signed by two keys, in signer order", () => {
      const note = signNote(text, [aliceSigner, bobSigner]);
      const opened = openNote(note, [aliceVerifier, bobVerifier]);
      expect(opened.text).to.equal(text);
      expect(opened.verified.map((s) => s.name)).to.deep.equal(["alice.example/log", "bob.example/w"]);
      expect(note.startsWith(`${text}\n\u2014 alice.example/log `)).to.equal(true);
    });

    it("keeps signatures of unknown keys unverified, de-duplicated", () => {
      const note = signNote(text, [aliceSigner, bobSigner, bobSigner]);
      const opened = openNote(note, [aliceVerifier]);
      expect(opened.verified.map((s) => s.name)).to.deep.equal(["alice.example/log"]);
      expect(opened.unverified).to.have.length(1);
      expect(opened.unverified[0]).to.deep.include({ name: "bob.example/w", keyId: bobSigner.keyId });
    });

    it("treats a known name with another key id as an unknown key", () => {
      const impostor = ed25519NoteSigner("alice.example/log", bob.privateKey);
      const note = signNote(text, [impostor, aliceSigner]);
      const opened = openNote(note, [aliceVerifier]);
      expect(opened.verified).to.have.length(1);
      expect(opened.unverified[0]?.keyId).to.equal(impostor.keyId);
      expect(codeOf(() => openNote(signNote(text, [impostor]), [aliceVerifier]))).to.equal("AUDIT_SIGNATURE_INVALID");
    });

    it("keeps texts with blank lines intact (the text ends at the last blank line)", () => {
      const poem = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n";
      expect(openNote(signNote(poem, [aliceSigner]), [aliceVerifier]).text).to.equal(poem);
      expect(openNote(signNote("a\n\n", [aliceSigner]), [aliceVerifier]).text).to.equal("a\n\n");
    });

    it("refuses a note without a signature from a trusted key", () => {
      expect(codeOf(() => openNote(signNote(text, [bobSigner]), [aliceVerifier]))).to.equal("AUDIT_SIGNATURE_INVALID");
      expect(codeOf(() => openNote(signNote(text, [bobSigner]), []))).to.equal("AUDIT_SIGNATURE_INVALID");
    });

    it("refuses the whole note when a trusted key's signature fails, even beside a valid one", () => {
      const good = parseNote(signNote(text, [aliceSigner, bobSigner]));
      const otherBob = parseNote(signNote("other\n", [bobSigner])).signatures[0];
      const forged = `${text}\n${formatSignatureLine(good.signatures[0]!)}${formatSignatureLine(otherBob!)}`;
      expect(codeOf(() => openNote(forged, [aliceVerifier, bobVerifier]))).to.equal("AUDIT_SIGNATURE_INVALID");
      // A signature of the wrong length for Ed25519 is a failed signature, not a crash.
      const short = `${text}\n${formatSignatureLine({ name: "alice.example/log", keyId: aliceSigner.keyId, signature: Buffer.alloc(63) })}`;
      expect(codeOf(() => openNote(short, [aliceVerifier]))).to.equal("AUDIT_SIGNATURE_INVALID");
    });

    it("refuses two verifiers with the same name and key id", () => {
      const note = signNote(text, [aliceSigner]);
      expect(codeOf(() => openNote(note, [aliceVerifier, ed25519NoteVerifier("alice.example/log", alice.publicKey)]))).to.equal(
        "AUDIT_KEY_INVALID",
      );
    });

    it("appends cosignature-style lines to a note", () => {
      const note = signNote(text, [aliceSigner]);
      const bobLine = formatSignatureLine(parseNote(signNote(text, [bobSigner])).signatures[0]!);
      const both = appendSignatureLines(note, bobLine);
      expect(openNote(both, [aliceVerifier, bobVerifier]).verified).to.have.length(2);
      expect(codeOf(() => appendSignatureLines(note, "— bob.example/w\n"))).to.equal("AUDIT_NOTE_MALFORMED");
    });

    it("refuses to sign a text that would not parse back, or with no signer or a bad key", () => {
      expect(codeOf(() => signNote("no newline", [aliceSigner]))).to.equal("AUDIT_NOTE_MALFORMED");
      expect(codeOf(() => signNote("", [aliceSigner]))).to.equal("AUDIT_NOTE_MALFORMED");
      expect(codeOf(() => signNote("tab\there\n", [aliceSigner]))).to.equal("AUDIT_NOTE_MALFORMED");
      expect(codeOf(() => signNote(text, []))).to.equal("AUDIT_KEY_INVALID");
      expect(codeOf(() => ed25519NoteSigner("has space", alice.privateKey))).to.equal("AUDIT_KEY_INVALID");
      expect(codeOf(() => ed25519NoteSigner("a+b", alice.privateKey))).to.equal("AUDIT_KEY_INVALID");
      expect(codeOf(() => ed25519NoteSigner("", alice.privateKey))).to.equal("AUDIT_KEY_INVALID");
      const p256 = generateKeyPairSync("ec", { namedCurve: "P-256" });
      expect(codeOf(() => ed25519NoteSigner("p256", p256.privateKey))).to.equal("AUDIT_KEY_INVALID");
      expect(codeOf(() => ed25519NoteSigner("pub", alice.publicKey))).to.equal("AUDIT_KEY_INVALID");
    });

    it("names: no Unicode spaces, no plus, no control characters", () => {
      expect(isValidKeyName("example.com/log42")).to.equal(true);
      expect(isValidKeyName("oid/1.3.6.1.4.1")).to.equal(true);
      for (const bad of ["", "a b", "a\u00a0b", "a\u2003b", "a\u0085b", "a+b", "a\tb", "\ud800"]) expect(isValidKeyName(bad), bad).to.equal(false);
    });
  });

  describe("strict parsing of hostile notes", () => {
    const note = signNote(text, [aliceSigner]);
    const line = note.slice(text.length + 1);
    const malformed = (candidate: string | Uint8Array, label: string): void => {
      expect(codeOf(() => openNote(candidate, [aliceVerifier])), label).to.equal("AUDIT_NOTE_MALFORMED");
    };

    it("refuses structural damage", () => {
      malformed(note.slice(0, -1), "no final newline");
      malformed(`${text}${line}`, "no blank line");
      malformed(`${text}\n`, "no signature lines");
      malformed(`${note}\n`, "blank line after the signatures");
      malformed(`${text}\n${line.replace("\u2014 ", "-- ")}`, "ASCII dashes");
      malformed(`${text}\n${line.replace("\u2014 ", "\u2014")}`, "no space after the dash");
      malformed(`${text}\n${line.replace("\u2014 ", "\u2014  ")}`, "empty name");
      malformed(`${text}\n${line.replace(" ", "\u00a0")}`, "non-breaking space");
      malformed(`${text}\n\u2014 alice.example/log\n`, "no signature");
      malformed(`${text}\n\u2014 alice.example/log AAAAAA==\n`, "signature shorter than 5 bytes");
      malformed(`${text}\n\u2014 a+b ${line.split(" ")[2]}`, "plus in the name");
      malformed(`${text}\n${line.slice(0, -1)} \n`, "trailing space");
    });

    it("refuses non-canonical base64", () => {
      const b64 = line.trimEnd().split(" ")[2] as string;
      expect(b64.endsWith("=")).to.equal(true); // 68 bytes: one padding character, two unused bits
      const last = b64.at(-2) as string;
      const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      const sloppy = b64.slice(0, -2) + alphabet[alphabet.indexOf(last) ^ 1] + "=";
      expect(Buffer.from(sloppy, "base64").equals(Buffer.from(b64, "base64"))).to.equal(true); // Node would accept it
      malformed(note.replace(b64, sloppy), "non-zero padding bits");
      malformed(note.replace(b64, b64.slice(0, -1)), "missing padding");
      malformed(note.replace(b64, b64.replace(/=$/, "") + "=="), "extra padding");
      malformed(note.replace(b64, `${b64.slice(0, 8)}\u00e9${b64.slice(8)}`), "junk character");
      malformed(note.replace(b64, `${b64.slice(0, 4)}-${b64.slice(5)}`), "base64url alphabet"); // whatever the signature's characters
    });

    it("refuses control characters and invalid UTF-8", () => {
      malformed(`a\rb\n\n${line}`, "carriage return");
      malformed(`a\u0000b\n\n${line}`, "NUL");
      malformed(`a\ud800b\n\n${line}`, "lone surrogate");
      malformed(Buffer.concat([Buffer.from("a"), Buffer.from([0xff]), Buffer.from(`\n\n${line}`)]), "invalid UTF-8 bytes");
      malformed(Buffer.concat([Buffer.from("a"), Buffer.from([0xc0, 0x80]), Buffer.from(`\n\n${line}`)]), "overlong NUL");
    });

    it("accepts 100 signature lines and refuses 101", () => {
      const stranger = ed25519NoteSigner("stranger.example", bob.privateKey);
      const strangerLine = formatSignatureLine(parseNote(signNote(text, [stranger])).signatures[0]!);
      expect(openNote(note + strangerLine.repeat(99), [aliceVerifier]).unverified).to.have.length(1);
      malformed(note + strangerLine.repeat(100), "101 signatures");
      expect(codeOf(() => parseSignatureLines(strangerLine.repeat(101)))).to.equal("AUDIT_NOTE_MALFORMED");
    });

    it("refuses a note above the size limit before parsing it", () => {
      malformed(`${"a".repeat(MAX_NOTE_BYTES)}\n\n${line}`, "oversized string");
      malformed(Buffer.alloc(MAX_NOTE_BYTES + 1, 0x61), "oversized bytes");
      malformed(`${"\u00e9".repeat(MAX_NOTE_BYTES / 2)}\n\n${line}`, "oversized in UTF-8 only");
    });
  });
});
