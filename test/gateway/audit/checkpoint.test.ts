import { generateKeyPairSync, sign, verify } from "node:crypto";
import { expect } from "chai";
import { checkpointOrigin, formatCheckpoint, parseCheckpoint, signCheckpoint, verifyCheckpoint } from "../../../gateway/audit/checkpoint.js";
import {
  cosignCheckpoint,
  cosignatureMessage,
  cosignatureVerifier,
  verifyCosignature,
  witnessName,
} from "../../../gateway/audit/cosignature.js";
import { leafHash } from "../../../gateway/audit/merkle.js";
import { InMemoryTree } from "../../../gateway/audit/merkle-tree.js";
import {
  SIGNATURE_TYPE_COSIGNATURE_V1,
  SIGNATURE_TYPE_ED25519,
  ed25519NoteSigner,
  formatVerifierKey,
  noteKeyId,
  parseVerifierKey,
  rawEd25519PublicKey,
} from "../../../gateway/audit/note-keys.js";
import { appendSignatureLines, formatSignatureLine, openNote, parseNote, parseSignatureLines, signNote } from "../../../gateway/audit/note.js";
import { codeOf } from "../../error-code.js";

// The example checkpoint body of c2sp.org/tlog-checkpoint and c2sp.org/tlog-cosignature.
const SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
// Its witness cosignature line from c2sp.org/tlog-cosignature, made at "time 1679315147".
const SPEC_COSIGNATURE =
  "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";

describe("gateway/audit/checkpoint (C2SP tlog-checkpoint)", () => {
  const log = generateKeyPairSync("ed25519");
  const origin = checkpointOrigin("GB-UKCA");
  const tree = InMemoryTree.fromLeafHashes(Array.from({ length: 21 }, (_, i) => leafHash(Buffer.from(`entry ${i}`))));
  const body = formatCheckpoint({ origin, size: 21, rootHash: tree.root(), extensions: [] });

  it("formats the Valise origin and parses the spec example", () => {
    expect(origin).to.equal("valise/GB-UKCA");
    expect(codeOf(() => checkpointOrigin("gb-ukca"))).to.equal("AUDIT_INVALID_ARGUMENT");
    const checkpoint = parseCheckpoint(SPEC_BODY);
    expect(checkpoint.origin).to.equal("example.com/behind-the-sofa");
    expect(checkpoint.size).to.equal(20852163);
    expect(checkpoint.rootHash.toString("base64")).to.equal("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
    expect(formatCheckpoint(checkpoint)).to.equal(SPEC_BODY);
  });

  it("round-trips bodies, with extension lines and the empty tree", () => {
    expect(body).to.equal(`valise/GB-UKCA\n21\n${tree.root().toString("base64")}\n`);
    const withExtensions = formatCheckpoint({ origin, size: 0, rootHash: new InMemoryTree().root(), extensions: ["ext one", "two"] });
    expect(withExtensions.startsWith("valise/GB-UKCA\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next one\ntwo\n")).to.equal(true);
    expect(parseCheckpoint(withExtensions).extensions).to.deep.equal(["ext one", "two"]);
    const max = formatCheckpoint({ origin, size: Number.MAX_SAFE_INTEGER, rootHash: tree.root(), extensions: [] });
    expect(parseCheckpoint(max).size).to.equal(Number.MAX_SAFE_INTEGER);
  });

  it("refuses malformed bodies strictly", () => {
    const root = tree.root().toString("base64");
    const bad: Record<string, string> = {
      "no final newline": `${origin}\n21\n${root}`,
      "two lines": `${origin}\n21\n`,
      "empty origin": `\n21\n${root}\n`,
      "space in origin": `valise GB\n21\n${root}\n`,
      "leading zero": `${origin}\n021\n${root}\n`,
      "plus sign": `${origin}\n+21\n${root}\n`,
      negative: `${origin}\n-1\n${root}\n`,
      exponent: `${origin}\n2e1\n${root}\n`,
      "hex size": `${origin}\n0x15\n${root}\n`,
      "empty size": `${origin}\n\n${root}\n`,
      "size above 2^53 - 1": `${origin}\n9007199254740992\n${root}\n`,
      "17 digits": `${origin}\n10000000000000000\n${root}\n`,
      "31-byte root": `${origin}\n21\n${tree.root().subarray(1).toString("base64")}\n`,
      "33-byte root": `${origin}\n21\n${Buffer.concat([tree.root(), Buffer.alloc(1)]).toString("base64")}\n`,
      "base64url root": `${origin}\n21\n${tree.root().toString("base64url")}\n`,
      "unpadded root": `${origin}\n21\n${root.replace(/=$/, "")}\n`,
      "hex root": `${origin}\n21\n${tree.root().toString("hex")}\n`,
      "empty extension line": `${origin}\n21\n${root}\n\next\n`,
      "carriage return": `${origin}\r\n21\n${root}\n`,
    };
    for (const [label, text] of Object.entries(bad)) expect(codeOf(() => parseCheckpoint(text)), label).to.equal("AUDIT_CHECKPOINT_MALFORMED");
    expect(codeOf(() => formatCheckpoint({ origin, size: -1, rootHash: tree.root(), extensions: [] }))).to.equal("AUDIT_CHECKPOINT_MALFORMED");
    expect(codeOf(() => formatCheckpoint({ origin, size: 1, rootHash: Buffer.alloc(20), extensions: [] }))).to.equal(
      "AUDIT_CHECKPOINT_MALFORMED",
    );
  });

  it("signs with the log key and verifies against origin and public key", () => {
    const note = signCheckpoint(body, { name: origin, privateKey: log.privateKey });
    const verified = verifyCheckpoint(note, { origin, publicKey: log.publicKey });
    expect(verified.text).to.equal(body);
    expect(verified.checkpoint.size).to.equal(21);
    expect(verified.checkpoint.rootHash.equals(tree.root())).to.equal(true);
    // The same by vkey material, and from bytes.
    const vkey = formatVerifierKey(origin, log.publicKey);
    expect(verifyCheckpoint(Buffer.from(note), { origin, publicKey: parseVerifierKey(vkey).publicKey }).checkpoint.size).to.equal(21);
  });

  it("refuses tampered checkpoints, other keys and other origins", () => {
    const note = signCheckpoint(body, { name: origin, privateKey: log.privateKey });
    const other = generateKeyPairSync("ed25519");
    const grown = note.replace("\n21\n", "\n22\n");
    expect(codeOf(() => verifyCheckpoint(grown, { origin, publicKey: log.publicKey }))).to.equal("AUDIT_SIGNATURE_INVALID");
    expect(codeOf(() => verifyCheckpoint(note, { origin, publicKey: other.publicKey }))).to.equal("AUDIT_SIGNATURE_INVALID");
    expect(codeOf(() => verifyCheckpoint(note, { origin: "valise/FR-MJ", publicKey: log.publicKey }))).to.equal("AUDIT_SIGNATURE_INVALID");
    // A key named for one log that signs another log's body: the signature is good, the origin is not.
    const misnamed = signNote(body, [ed25519NoteSigner("valise/FR-MJ", log.privateKey)]);
    expect(codeOf(() => verifyCheckpoint(misnamed, { origin: "valise/FR-MJ", publicKey: log.publicKey }))).to.equal("AUDIT_ORIGIN_MISMATCH");
    expect(codeOf(() => signCheckpoint(body, { name: "valise/FR-MJ", privateKey: log.privateKey }))).to.equal("AUDIT_ORIGIN_MISMATCH");
    // A signed note whose text is not a checkpoint.
    const prose = signNote("not a checkpoint\n", [ed25519NoteSigner(origin, log.privateKey)]);
    expect(codeOf(() => verifyCheckpoint(prose, { origin, publicKey: log.publicKey }))).to.equal("AUDIT_CHECKPOINT_MALFORMED");
    expect(codeOf(() => signCheckpoint("not a checkpoint\n", { name: origin, privateKey: log.privateKey }))).to.equal(
      "AUDIT_CHECKPOINT_MALFORMED",
    );
  });
});

describe("gateway/audit/cosignature (C2SP tlog-cosignature, cosignature/v1)", () => {
  const log = generateKeyPairSync("ed25519");
  const witness = generateKeyPairSync("ed25519");
  const origin = checkpointOrigin("GB-UKCA");
  const name = witnessName("US-DOJ-OIA");
  const tree = InMemoryTree.fromLeafHashes([leafHash(Buffer.from("a")), leafHash(Buffer.from("b")), leafHash(Buffer.from("c"))]);
  const body = formatCheckpoint({ origin, size: 3, rootHash: tree.root(), extensions: [] });
  const note = signCheckpoint(body, { name: origin, privateKey: log.privateKey });
  const time = 1_700_000_000;

  it("decodes the spec's example cosignature: key id, then the 8-byte time 1679315147, then 64 bytes", () => {
    const [signature] = parseSignatureLines(SPEC_COSIGNATURE);
    expect(signature?.name).to.equal("witness.example.com/w1");
    expect(signature?.signature).to.have.length(72);
    expect(Number(signature?.signature.readBigUInt64BE(0))).to.equal(1679315147);
    expect(parseNote(`${SPEC_BODY}\n${SPEC_COSIGNATURE}`).text).to.equal(SPEC_BODY);
  });

  it("signs 'cosignature/v1', the time line and the body, with a type 0x04 key id", () => {
    expect(name).to.equal("valise-witness/US-DOJ-OIA");
    const line = cosignCheckpoint(body, { name, privateKey: witness.privateKey }, time);
    const [signature] = parseSignatureLines(line);
    const raw = rawEd25519PublicKey(witness.publicKey);
    expect(signature?.name).to.equal(name);
    expect(signature?.keyId).to.equal(noteKeyId(name, SIGNATURE_TYPE_COSIGNATURE_V1, raw));
    expect(signature?.keyId).to.not.equal(noteKeyId(name, SIGNATURE_TYPE_ED25519, raw));
    expect(signature?.signature).to.have.length(72);
    expect(Number(signature?.signature.readBigUInt64BE(0))).to.equal(time);
    const message = Buffer.from(`cosignature/v1\ntime ${time}\n${body}`, "utf8");
    expect(cosignatureMessage(body, time).equals(message)).to.equal(true);
    expect(verify(null, message, witness.publicKey, signature!.signature.subarray(8))).to.equal(true);
    expect(formatVerifierKey(name, witness.publicKey, SIGNATURE_TYPE_COSIGNATURE_V1).split("+")[1]).to.equal(
      signature!.keyId.toString(16).padStart(8, "0"),
    );
  });

  it("round-trips: the cosigned note still verifies for the log, and the cosignature gives its time", () => {
    const line = cosignCheckpoint(body, { name, privateKey: witness.privateKey }, time);
    const cosigned = appendSignatureLines(note, line);
    const forLog = verifyCheckpoint(cosigned, { origin, publicKey: log.publicKey });
    expect(forLog.note.unverified.map((s) => s.name)).to.deep.equal([name]);
    const cosignature = verifyCosignature(cosigned, { name, publicKey: witness.publicKey });
    expect(cosignature.time).to.equal(time);
    expect(cosignature.checkpoint.size).to.equal(3);
    // Both at once, through the generic note verifier.
    expect(openNote(cosigned, [cosignatureVerifier({ name, publicKey: rawEd25519PublicKey(witness.publicKey) })]).verified).to.have.length(1);
    expect(verifyCosignature(appendSignatureLines(note, cosignCheckpoint(body, { name, privateKey: witness.privateKey }, 0)), {
      name,
      publicKey: witness.publicKey,
    }).time).to.equal(0);
  });

  it("refuses tampered cosignatures", () => {
    const line = cosignCheckpoint(body, { name, privateKey: witness.privateKey }, time);
    const [signature] = parseSignatureLines(line);
    const restamped = Buffer.from(signature!.signature);
    restamped.writeBigUInt64BE(BigInt(time + 1), 0);
    const cases: Record<string, string> = {
      "time changed": appendSignatureLines(note, formatSignatureLine({ ...signature!, signature: restamped })),
      "body changed": `${body.replace("\n3\n", "\n4\n")}\n${line}`,
      "ed25519 payload only": appendSignatureLines(note, formatSignatureLine({ ...signature!, signature: signature!.signature.subarray(8) })),
    };
    for (const [label, candidate] of Object.entries(cases)) {
      expect(codeOf(() => verifyCosignature(candidate, { name, publicKey: witness.publicKey })), label).to.equal("AUDIT_SIGNATURE_INVALID");
    }
    const other = generateKeyPairSync("ed25519");
    expect(codeOf(() => verifyCosignature(appendSignatureLines(note, line), { name, publicKey: other.publicKey }))).to.equal(
      "AUDIT_SIGNATURE_INVALID",
    );
    // A cosignature is not a log signature, even by the same key.
    const byWitnessKey = cosignCheckpoint(body, { name: origin, privateKey: log.privateKey }, time);
    expect(codeOf(() => verifyCheckpoint(`${body}\n${byWitnessKey}`, { origin, publicKey: log.publicKey }))).to.equal("AUDIT_SIGNATURE_INVALID");
    // And a log signature is not a cosignature.
    const plain = signNote(body, [ed25519NoteSigner(name, witness.privateKey)]);
    expect(codeOf(() => verifyCosignature(plain, { name, publicKey: witness.publicKey }))).to.equal("AUDIT_SIGNATURE_INVALID");
  });

  it("refuses cosignature times beyond 2^53 - 1 and bad arguments", () => {
    const huge = 2n ** 53n + 1n;
    const stamp = Buffer.alloc(8);
    stamp.writeBigUInt64BE(huge);
    const signed = sign(null, Buffer.from(`cosignature/v1\ntime ${huge}\n${body}`), witness.privateKey);
    const keyId = noteKeyId(name, SIGNATURE_TYPE_COSIGNATURE_V1, rawEd25519PublicKey(witness.publicKey));
    const line = formatSignatureLine({ name, keyId, signature: Buffer.concat([stamp, signed]) });
    expect(codeOf(() => verifyCosignature(`${body}\n${line}`, { name, publicKey: witness.publicKey }))).to.equal("AUDIT_SIGNATURE_INVALID");
    expect(codeOf(() => cosignCheckpoint(body, { name, privateKey: witness.privateKey }, -1))).to.equal("AUDIT_INVALID_ARGUMENT");
    expect(codeOf(() => cosignCheckpoint(body, { name, privateKey: witness.privateKey }, 1.5))).to.equal("AUDIT_INVALID_ARGUMENT");
    expect(codeOf(() => cosignCheckpoint("prose\n", { name, privateKey: witness.privateKey }, time))).to.equal("AUDIT_CHECKPOINT_MALFORMED");
    expect(codeOf(() => witnessName("US"))).to.equal("AUDIT_INVALID_ARGUMENT");
  });
});
