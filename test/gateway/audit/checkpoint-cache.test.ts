/**
 * The sender's memo of verified checkpoint notes (verifyEntryInLog): a hit
 * must never accept what verification without it refuses.
 */
import { generateKeyPairSync } from "node:crypto";
import { expect } from "chai";
import { checkpointOrigin, formatCheckpoint, signCheckpoint } from "../../../gateway/audit/checkpoint.js";
import { verifyLogPosition } from "../../../gateway/audit/checkpoints.js";
import { canonicalize } from "../../../gateway/envelope/canonical-json.js";
import { inclusionProof, leafHash } from "../../../gateway/audit/merkle.js";
import { InMemoryTree } from "../../../gateway/audit/merkle-tree.js";
import { codeOf } from "../../error-code.js";

describe("gateway/audit/checkpoints: remembered checkpoint verifications", () => {
  const log = generateKeyPairSync("ed25519");
  const other = generateKeyPairSync("ed25519");
  const origin = checkpointOrigin("US-DOJ-OIA");
  const digest = (i: number) => i.toString(16).padStart(64, "0");
  const entries = Array.from({ length: 7 }, (_, index) => ({
    index,
    kind: "envelope.received",
    envelopeId: `00000000-0000-4000-8000-00000000000${index}`,
    envelopeDigest: digest(index),
  }));
  const tree = InMemoryTree.fromLeafHashes(entries.map((entry) => leafHash(Buffer.from(canonicalize(entry), "utf8"))));
  const note = signCheckpoint(formatCheckpoint({ origin, size: entries.length, rootHash: tree.root(), extensions: [] }), { name: origin, privateKey: log.privateKey });
  const position = (index: number, checkpoint = note, at = origin) => ({
    origin: at,
    index,
    checkpoint,
    inclusionProof: inclusionProof(tree, index, entries.length).map((hash) => hash.toString("base64")),
    entry: entries[index] as unknown as Record<string, unknown>,
  });
  const expected = (index: number, logKeys = [log.publicKey]) => ({
    receiver: "US-DOJ-OIA",
    envelopeId: entries[index]!.envelopeId,
    envelopeDigest: entries[index]!.envelopeDigest,
    logKeys,
  });

  it("verifies every receipt of a batch sharing one checkpoint, each with its own proof", () => {
    for (let index = 0; index < entries.length; index++) {
      const verified = verifyLogPosition(position(index), expected(index));
      expect(verified.size).to.equal(entries.length);
      expect(verified.root.equals(tree.root())).to.equal(true);
    }
  });

  it("still refuses, after a hit, a wrong proof, another entry, other note bytes, another key or another origin", () => {
    verifyLogPosition(position(2), expected(2)); // remembered now
    // The proof is checked on every hit.
    const badProof = { ...position(2), inclusionProof: position(3).inclusionProof };
    expect(codeOf(() => verifyLogPosition(badProof, expected(2)))).to.match(/^AUDIT_/);
    // The entry must record this envelope.
    expect(codeOf(() => verifyLogPosition(position(2), expected(3)))).to.equal("RECEIPT_MISMATCH");
    // One flipped byte of the signature: not the remembered note.
    const lines = note.split("\n");
    const sigLine = lines[lines.length - 2]!;
    const flipped = sigLine.slice(0, -3) + (sigLine.at(-3) === "A" ? "B" : "A") + sigLine.slice(-2);
    const tampered = [...lines.slice(0, -2), flipped, ""].join("\n");
    expect(codeOf(() => verifyLogPosition(position(2, tampered), expected(2)))).to.not.equal(undefined);
    // Another body signed by another key, under the same origin.
    const forged = signCheckpoint(formatCheckpoint({ origin, size: entries.length, rootHash: tree.root(), extensions: [] }), { name: origin, privateKey: other.privateKey });
    expect(codeOf(() => verifyLogPosition(position(2, forged), expected(2)))).to.equal("AUDIT_SIGNATURE_INVALID");
    // The remembered note, checked against a key that did not sign it.
    expect(codeOf(() => verifyLogPosition(position(2), expected(2, [other.publicKey])))).to.equal("AUDIT_SIGNATURE_INVALID");
    // The remembered note under another (valid) origin of the receiver: the note names valise/US-DOJ-OIA.
    expect(codeOf(() => verifyLogPosition(position(2, note, `${origin}/epoch-2`), expected(2)))).to.not.equal(undefined);
    // And the genuine one still passes.
    expect(verifyLogPosition(position(2), expected(2)).size).to.equal(entries.length);
  });
});
