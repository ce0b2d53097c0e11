import { generateKeyPairSync } from "node:crypto";
import { expect } from "chai";
import { checkpointOrigin, formatCheckpoint, signCheckpoint, verifyCheckpoint } from "../../../gateway/audit/checkpoint.js";
import { cosignCheckpoint, verifyCosignature, witnessName } from "../../../gateway/audit/cosignature.js";
import { consistencyProof, leafHash } from "../../../gateway/audit/merkle.js";
import { InMemoryTree } from "../../../gateway/audit/merkle-tree.js";
import { verifyConsistency } from "../../../gateway/audit/merkle-verify.js";
import { appendSignatureLines, parseSignatureLines } from "../../../gateway/audit/note.js";
import {
  MAX_WITNESS_REQUEST_BYTES,
  formatAddCheckpointRequest,
  parseAddCheckpointRequest,
} from "../../../gateway/audit/witness-request.js";
import { codeOf } from "../../error-code.js";

// The example request and response bodies of c2sp.org/tlog-witness.
const SPEC_REQUEST = `old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
\u2014 example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
`;
const SPEC_RESPONSE = `\u2014 witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==
\u2014 witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==
\u2014 witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==
`;

describe("gateway/audit/witness-request (C2SP tlog-witness add-checkpoint)", () => {
  it("parses the spec's example request and response", () => {
    const request = parseAddCheckpointRequest(SPEC_REQUEST);
    expect(request.oldSize).to.equal(20852014);
    expect(request.proof.map((h) => h.toString("base64"))).to.deep.equal([
      "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=",
      "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=",
      "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=",
      "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=",
    ]);
    expect(request.checkpoint.startsWith("example.com/behind-the-sofa\n20852163\n")).to.equal(true);
    expect(formatAddCheckpointRequest(request)).to.equal(SPEC_REQUEST);
    expect(parseAddCheckpointRequest(Buffer.from(SPEC_REQUEST)).oldSize).to.equal(20852014);
    expect(parseSignatureLines(SPEC_RESPONSE).map((s) => s.name)).to.deep.equal(["witness.example/w1", "witness.example/w1", "witness.example/w2"]);
  });

  it("carries a Valise log's checkpoint and proof to a witness and its cosignature back", () => {
    const log = generateKeyPairSync("ed25519");
    const witness = generateKeyPairSync("ed25519");
    const origin = checkpointOrigin("GB-UKCA");
    const tree = InMemoryTree.fromLeafHashes(Array.from({ length: 1000 }, (_, i) => leafHash(Buffer.from(`entry ${i}`))));
    const note = signCheckpoint(formatCheckpoint({ origin, size: 1000, rootHash: tree.root(), extensions: [] }), {
      name: origin,
      privateKey: log.privateKey,
    });
    const body = formatAddCheckpointRequest({ oldSize: 700, proof: consistencyProof(tree, 700, 1000), checkpoint: note });

    // The witness side.
    const request = parseAddCheckpointRequest(Buffer.from(body, "utf8"));
    const { checkpoint, text } = verifyCheckpoint(request.checkpoint, { origin, publicKey: log.publicKey });
    verifyConsistency(request.oldSize, checkpoint.size, tree.root(700), checkpoint.rootHash, request.proof);
    const response = cosignCheckpoint(text, { name: witnessName("US-DOJ-OIA"), privateKey: witness.privateKey }, 1_700_000_000);

    // The log side.
    const cosigned = appendSignatureLines(note, response);
    expect(verifyCosignature(cosigned, { name: "valise-witness/US-DOJ-OIA", publicKey: witness.publicKey }).time).to.equal(1_700_000_000);
    expect(formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: note }).startsWith("old 0\n\nvalise/GB-UKCA\n")).to.equal(true);
  });

  it("refuses malformed requests", () => {
    const [, ...rest] = SPEC_REQUEST.split("\n");
    const tail = rest.join("\n");
    const proofLine = "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n";
    const checkpoint = SPEC_REQUEST.slice(SPEC_REQUEST.indexOf("\n\n") + 2);
    const bad: Record<string, string | Uint8Array> = {
      empty: "",
      "no old line": `\n${checkpoint}`,
      "upper-case Old": `Old 20852014\n${tail}`,
      "leading zero": `old 020852014\n${tail}`,
      "two spaces": `old  20852014\n${tail}`,
      negative: `old -1\n${tail}`,
      "size above 2^53 - 1": `old 9007199254740992\n\n${checkpoint}`,
      "trailing space": `old 20852014 \n${tail}`,
      "CRLF": SPEC_REQUEST.replaceAll("\n", "\r\n"),
      "64 proof lines": `old 5\n${proofLine.repeat(64)}\n${checkpoint}`,
      "31-byte hash": `old 5\n${Buffer.alloc(31).toString("base64")}\n\n${checkpoint}`,
      "unpadded hash": `old 5\n${proofLine.replace("=", "")}\n${checkpoint}`,
      "no blank line": `old 5\n${proofLine}${checkpoint.replace(/\n\n/g, "\n")}`,
      "no checkpoint": `old 5\n${proofLine}\n`,
      "checkpoint without signatures": `old 5\n\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n`,
      "invalid UTF-8": Buffer.concat([Buffer.from(`old 5\n\n`), Buffer.from([0xfe]), Buffer.from(checkpoint)]),
      "too large": `old 5\n\n${"a".repeat(MAX_WITNESS_REQUEST_BYTES)}`,
    };
    for (const [label, body] of Object.entries(bad)) {
      expect(codeOf(() => parseAddCheckpointRequest(body)), label).to.equal("AUDIT_WITNESS_REQUEST_MALFORMED");
    }
    // 63 proof lines is the limit, not an error.
    expect(parseAddCheckpointRequest(`old 5\n${proofLine.repeat(63)}\n${checkpoint}`).proof).to.have.length(63);
    expect(codeOf(() => formatAddCheckpointRequest({ oldSize: 1, proof: [Buffer.alloc(20)], checkpoint }))).to.equal(
      "AUDIT_WITNESS_REQUEST_MALFORMED",
    );
  });
});
