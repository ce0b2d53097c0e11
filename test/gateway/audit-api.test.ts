/**
 * The auditor's local API over a real exchange: the checkpoint with its
 * cosignatures, entries by range, inclusion and consistency proofs that
 * verify against the signed checkpoint, a case's custody — role auditor
 * only, hostile query strings refused, and never any document content.
 */
import { expect } from "chai";
import { createNetwork, localRequest, example, type HttpAnswer, type TestNetwork } from "./fixtures.js";
import { exchangeRequest, logPublicKey, manualWitnessGateway } from "./witness/helpers.js";
import type { Gateway } from "../../gateway/gateway.js";
import { verifyCheckpoint, checkpointOrigin } from "../../gateway/audit/checkpoint.js";
import { verifyCosignature, witnessName } from "../../gateway/audit/cosignature.js";
import { verifyConsistency, verifyInclusion } from "../../gateway/audit/merkle-verify.js";
import { leafHash } from "../../gateway/audit/merkle.js";
import { canonicalize } from "../../gateway/envelope/canonical-json.js";

const US = "US-DOJ-OIA";
const b64 = (hash: string): Buffer => Buffer.from(hash, "base64");

describe("gateway local API: the auditor's view of the log", function () {
  this.timeout(60_000);
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway;
  let caseId: string;
  const answers: HttpAnswer[] = [];

  const audit = async (path: string, token = network.us.tokens.auditor): Promise<HttpAnswer> => {
    const answer = await localRequest(network.us.localPort, "GET", `/api/v1/audit${path}`, { token });
    answers.push(answer);
    return answer;
  };

  before(async function () {
    network = await createNetwork();
    gb = manualWitnessGateway(network.gb);
    us = manualWitnessGateway(network.us);
    await gb.start();
    await us.start();
    caseId = await exchangeRequest(network.gb);
    await us.witness.runNow({ sign: true });
  });

  after(async function () {
    await gb?.stop();
    await us?.stop();
    network?.cleanup();
  });

  it("serves the latest checkpoint, signed by the log key and cosigned by the peer", async function () {
    const answer = await audit("/checkpoint");
    expect(answer.status).to.equal(200);
    const { size, note, cosignedNote, cosignatures } = answer.json as { size: number; note: string; cosignedNote: string; cosignatures: Array<{ witness: string }> };
    expect(verifyCheckpoint(note, { origin: checkpointOrigin(US), publicKey: logPublicKey(network.us) }).checkpoint.size).to.equal(size);
    expect(cosignatures.map((c) => c.witness)).to.deep.equal([witnessName("GB-UKCA")]);
    verifyCosignature(cosignedNote, { name: witnessName("GB-UKCA"), publicKey: logPublicKey(network.gb) });
    expect((await audit(`/checkpoint?size=${size + 1000}`)).json.error.code).to.equal("NOT_FOUND");
  });

  it("pages entries by range and proves each one's inclusion in the signed tree", async function () {
    const checkpoint = (await audit("/checkpoint")).json as { size: number; rootHash: string };
    const page = await audit(`/entries?from=0&count=${checkpoint.size}`);
    expect(page.status).to.equal(200);
    const { entries, size } = page.json as { entries: Array<{ index: number }>; size: number };
    expect(entries.map((e) => e.index)).to.deep.equal([...Array(checkpoint.size).keys()]);
    expect(size).to.be.at.least(checkpoint.size);
    for (const entry of entries) {
      const proof = (await audit(`/proof/inclusion?index=${entry.index}&size=${checkpoint.size}`)).json as { proof: string[]; rootHash: string };
      expect(proof.rootHash).to.equal(checkpoint.rootHash);
      verifyInclusion(leafHash(Buffer.from(canonicalize(entry), "utf8")), entry.index, checkpoint.size, proof.proof.map(b64), b64(checkpoint.rootHash));
    }
    const first = await audit("/entries?from=0&count=1");
    expect((first.json as { entries: Array<{ index: number }>; next: number }).entries.map((e) => e.index)).to.deep.equal([0]);
    expect(first.json.next).to.equal(1);
  });

  it("proves consistency between two signed sizes", async function () {
    const older = (await audit("/checkpoint")).json as { size: number; rootHash: string };
    await exchangeRequest(network.gb);
    (await us.context.checkpoints.sign());
    const newer = (await audit("/checkpoint")).json as { size: number; rootHash: string };
    expect(newer.size).to.be.greaterThan(older.size);
    const answer = (await audit(`/proof/consistency?old=${older.size}&new=${newer.size}`)).json as { proof: string[]; oldRootHash: string; newRootHash: string };
    expect([answer.oldRootHash, answer.newRootHash]).to.deep.equal([older.rootHash, newer.rootHash]);
    verifyConsistency(older.size, newer.size, b64(older.rootHash), b64(newer.rootHash), answer.proof.map(b64));
  });

  it("gives a case's custody: the envelope with its digest and issued receipt, each event with its log index", async function () {
    const answer = await audit(`/custody/${caseId}`);
    expect(answer.status).to.equal(200);
    const { envelopes, events } = answer.json as { envelopes: Array<{ envelopeDigest: string; receipt: { role: string; log: { index: number } } }>; events: Array<{ kind: string; index: number }> };
    expect(envelopes).to.have.length(1);
    expect(envelopes[0]!.envelopeDigest).to.match(/^[0-9a-f]{64}$/);
    expect(envelopes[0]!.receipt.role).to.equal("issued");
    expect(events.map((e) => e.kind)).to.deep.equal(["envelope.received"]);
    expect(envelopes[0]!.receipt.log.index).to.equal(events[0]!.index);
    expect((await audit("/custody/00000000-0000-4000-8000-000000000000")).json.error.code).to.equal("CASE_UNKNOWN");
  });

  it("is for auditors only, and refuses hostile query strings with USAGE", async function () {
    expect((await audit("/checkpoint", network.us.tokens.caseworker)).status).to.equal(403);
    expect((await audit("/entries", network.us.tokens.operator)).status).to.equal(403);
    expect((await localRequest(network.us.localPort, "GET", "/api/v1/audit/checkpoint", {})).status).to.equal(401);
    for (const query of ["/entries?from=-1", "/entries?count=0", "/entries?count=10001", "/entries?from=1e3", "/proof/inclusion", "/proof/inclusion?index=999999", "/proof/consistency?old=5&new=2", "/proof/consistency?old=0x1&new=2"]) {
      const answer = await audit(query);
      expect([query, answer.status, answer.json?.error?.code]).to.deep.equal([query, 400, "USAGE"]);
    }
  });

  it("never shows document content to the auditor", function () {
    const request = example("mla-request", "valid-email-records");
    const secrets = [request["reference"] as string, "CPS-ECD-MAN-25-0981"];
    for (const answer of answers) for (const secret of secrets) expect(answer.text).to.not.contain(secret);
    expect(answers.length).to.be.greaterThan(10);
  });
});
