/**
 * Witnessing between two real gateways over mutual TLS: after an exchange
 * each side's latest checkpoint carries the other's cosignature; the peer
 * log read endpoints; and the witness endpoint's refusals (stale `old` 409
 * with the known size, a request about another log 403, an unknown log 404,
 * a bad signature 403, old beyond the size 400, a bad proof 422 with an
 * alarm in the log, the alarms table and the health view).
 */
import { expect } from "chai";
import type { Gateway } from "../../../gateway/gateway.js";
import { createLogger } from "../../../gateway/log.js";
import { createGateway } from "../../../gateway/gateway.js";
import { withStoredTree } from "../../../gateway/audit/stored-tree.js";
import { checkpointOrigin, formatCheckpoint, signCheckpoint, verifyCheckpoint } from "../../../gateway/audit/checkpoint.js";
import { verifyCosignature, witnessName } from "../../../gateway/audit/cosignature.js";
import { consistencyProof, treeRoot } from "../../../gateway/audit/merkle.js";
import { verifyConsistency } from "../../../gateway/audit/merkle-verify.js";
import { parseNote } from "../../../gateway/audit/note.js";
import { formatAddCheckpointRequest } from "../../../gateway/audit/witness-request.js";
import { checkpointWithCosignatures } from "../../../gateway/audit/witness.js";
import { generateKeyPairSync } from "node:crypto";
import { createNetwork, localRequest, PASSPHRASE, peerRequest, trust, waitFor, type TestAuthority, type TestNetwork, type TlsCredentials } from "../fixtures.js";
import { exchangeRequest, logPublicKey, manualWitnessGateway, rows } from "./helpers.js";

const GB = "GB-UKCA";
const US = "US-DOJ-OIA";

describe("witnessing: scheduled cosigning after an exchange", function () {
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway;

  before(async function () {
    network = await createNetwork();
    const fast = (authority: TestAuthority): Gateway =>
      createGateway({
        home: authority.home,
        passphrase: PASSPHRASE,
        logger: createLogger({ authority: authority.authority, silent: true }),
        delivery: { initialBackoffMs: 50, maxBackoffMs: 500, idlePollMs: 100 },
        witness: { activityPollMs: 100, periodMs: 3_600_000 },
      });
    gb = fast(network.gb);
    us = fast(network.us);
    await gb.start();
    await us.start();
  });

  after(async function () {
    await gb?.stop();
    await us?.stop();
    network?.cleanup();
  });

  it("cosigns each side's checkpoint after a request is exchanged, without being asked", async function () {
    await exchangeRequest(network.gb);
    for (const [self, peer] of [
      [gb, US],
      [us, GB],
    ] as const) {
      const latest = await waitFor(`${peer}'s cosignature`, async () => {
        const checkpoint = (await self.context.checkpoints.latest());
        if (checkpoint === undefined) return undefined;
        const stored = (await rows<{ size: number }>(self.context.store, "audit_cosignatures", "witness = ? AND size = ?", witnessName(peer), checkpoint.size));
        return stored.length === 1 ? checkpoint : undefined;
      });
      const note = await self.context.store.read((tx) => checkpointWithCosignatures(tx, latest.size));
      const peerKey = logPublicKey(peer === US ? network.us : network.gb);
      const cosigned = verifyCosignature(note!, { name: witnessName(peer), publicKey: peerKey });
      expect(cosigned.checkpoint.size).to.equal(latest.size);
    }
  });
});

describe("witnessing: the peer log endpoints", function () {
  let network: TestNetwork;
  let fr: TestAuthority; // a third authority US trusts
  let gb: Gateway;
  let us: Gateway;
  let gbCredentials: TlsCredentials;

  const toUs = (method: string, path: string, options: { body?: string; credentials?: TlsCredentials; headers?: Record<string, string> } = {}) =>
    peerRequest(network.us.peerPort, method, path, {
      ca: network.us.rootPem(),
      credentials: options.credentials ?? gbCredentials,
      ...(options.body === undefined ? {} : { body: options.body }),
      headers: { "content-type": "text/plain", ...options.headers },
    });
  const usKnowsOfGb = async (): Promise<number> => (await rows<{ size: number }>(us.context.store, "witnessed_logs", "origin = ?", checkpointOrigin(GB)))[0]?.size ?? 0;

  before(async function () {
    network = await createNetwork();
    fr = await network.addAuthority("FR-MJ-BEPI");
    await trust(network.us, fr);
    gb = manualWitnessGateway(network.gb);
    us = manualWitnessGateway(network.us);
    await gb.start();
    await us.start();
    gbCredentials = network.gb.tlsCredentials();
    await exchangeRequest(network.gb);
  });

  after(async function () {
    await gb?.stop();
    await us?.stop();
    network?.cleanup();
  });

  it("cosigns on runNow and persists both sides: the cosignature store and the witness state", async function () {
    const [gbRun, usRun] = await Promise.all([gb.witness.runNow({ sign: true }), us.witness.runNow({ sign: true })]);
    expect(gbRun.find((s) => s.peer === US)?.outcome).to.equal("cosigned");
    expect(usRun.find((s) => s.peer === GB)?.outcome).to.equal("cosigned");

    const gbLatest = (await gb.context.checkpoints.latest())!;
    const usLatest = (await us.context.checkpoints.latest())!;
    // What GB stored is US's cosignature over GB's checkpoint, and US recorded that checkpoint as witnessed.
    const [line] = (await rows<{ line: string; size: number }>(gb.context.store, "audit_cosignatures", "witness = ?", witnessName(US)));
    expect(line?.size).to.equal(gbLatest.size);
    verifyCosignature(gbLatest.note + line!.line, { name: witnessName(US), publicKey: logPublicKey(network.us) });
    expect(await usKnowsOfGb()).to.equal(gbLatest.size);
    expect((await rows<{ size: number }>(gb.context.store, "witnessed_logs", "origin = ?", checkpointOrigin(US)))[0]?.size).to.equal(usLatest.size);
    // Nothing new: the next run has nothing to submit.
    expect((await gb.witness.runNow()).find((s) => s.peer === US)?.outcome).to.equal("current");
  });

  it("serves the latest checkpoint with the collected cosignatures appended", async function () {
    const answer = await toUs("GET", "/peer/v1/log/checkpoint");
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.headers["content-type"]).to.match(/^text\/plain/);
    const { checkpoint } = verifyCheckpoint(answer.text, { origin: checkpointOrigin(US), publicKey: logPublicKey(network.us) });
    expect(checkpoint.size).to.equal((await us.context.checkpoints.latest())!.size);
    verifyCosignature(answer.text, { name: witnessName(GB), publicKey: logPublicKey(network.gb) });
    expect(parseNote(answer.text).signatures.map((s) => s.name)).to.deep.equal([checkpointOrigin(US), witnessName(GB)]);
  });

  it("serves consistency proofs as base64 lines or JSON, and refuses impossible sizes", async function () {
    const size = (await us.context.checkpoints.latest())!.size;
    const [root1, rootN] = await us.context.store.read((tx) => withStoredTree(tx, size, (tree) => [treeRoot(tree, 1), treeRoot(tree, size)]));
    const lines = await toUs("GET", `/peer/v1/log/proof/consistency?old=1&new=${size}`);
    expect(lines.status, lines.text).to.equal(200);
    const proof = lines.text.split("\n").filter((line) => line.length > 0).map((line) => Buffer.from(line, "base64"));
    verifyConsistency(1, size, root1!, rootN!, proof);
    const json = await toUs("GET", `/peer/v1/log/proof/consistency?old=1&new=${size}`, { headers: { accept: "application/json" } });
    expect(json.json).to.deep.equal({ old: 1, new: size, proof: proof.map((hash) => hash.toString("base64")) });
    for (const query of [`old=2&new=1`, `old=0&new=${size + 1}`, `old=01&new=2`, `old=-1&new=2`, `new=2`]) {
      const refused = await toUs("GET", `/peer/v1/log/proof/consistency?${query}`);
      expect(refused.status, query).to.equal(400);
      expect(refused.json.error.code, query).to.equal("AUDIT_INVALID_ARGUMENT");
    }
  });

  it("answers a stale old size with 409 and the size it last cosigned (text/x.tlog.size)", async function () {
    const known = await usKnowsOfGb();
    expect(known).to.be.greaterThan(0);
    const note = (await gb.context.checkpoints.latest())!.note;
    const answer = await toUs("POST", "/peer/v1/witness/add-checkpoint", { body: formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: note }) });
    expect(answer.status).to.equal(409);
    expect(answer.headers["content-type"]).to.equal("text/x.tlog.size");
    expect(answer.text).to.equal(`${known}\n`);
  });

  it("refuses old beyond the size (400), another peer's log (403), an unknown log (404), a bad signature (403), garbage (400)", async function () {
    const gbNote = (await gb.context.checkpoints.latest())!.note;
    const gbSize = (await gb.context.checkpoints.latest())!.size;
    const post = (body: string, credentials?: TlsCredentials) => toUs("POST", "/peer/v1/witness/add-checkpoint", { body, ...(credentials === undefined ? {} : { credentials }) });

    const beyond = await post(formatAddCheckpointRequest({ oldSize: gbSize + 1, proof: [], checkpoint: gbNote }));
    expect([beyond.status, beyond.json?.error?.code]).to.deep.equal([400, "WITNESS_OLD_SIZE_INVALID"]);

    // GB's genuine checkpoint, but sent over FR's certificate: FR may not get GB's log cosigned.
    const foreign = await post(formatAddCheckpointRequest({ oldSize: await usKnowsOfGb(), proof: [], checkpoint: gbNote }), fr.tlsCredentials());
    expect([foreign.status, foreign.json?.error?.code]).to.deep.equal([403, "WITNESS_ORIGIN_FORBIDDEN"]);

    const stranger = generateKeyPairSync("ed25519").privateKey;
    const body = (origin: string): string => formatCheckpoint({ origin, size: 1, rootHash: Buffer.alloc(32, 7), extensions: [] });
    const unknown = await post(formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: signCheckpoint(body("valise/DE-BFJ"), { name: "valise/DE-BFJ", privateKey: stranger }) }));
    expect([unknown.status, unknown.json?.error?.code]).to.deep.equal([404, "WITNESS_UNKNOWN_LOG"]);

    const forged = await post(formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: signCheckpoint(body(checkpointOrigin(GB)), { name: checkpointOrigin(GB), privateKey: stranger }) }));
    expect([forged.status, forged.json?.error?.code]).to.deep.equal([403, "AUDIT_SIGNATURE_INVALID"]);

    const garbage = await post("old 0\nnot base64!\n\n");
    expect([garbage.status, garbage.json?.error?.code]).to.deep.equal([400, "AUDIT_WITNESS_REQUEST_MALFORMED"]);
    expect((await rows(us.context.store, "log_alarms"))).to.have.length(0);
  });

  it("recovers from a lost answer: a 409 tells the log what was cosigned, and it retries from there", async function () {
    await exchangeRequest(network.gb);
    const checkpoint = (await gb.context.checkpoints.sign());
    // US cosigns GB's checkpoint, but GB never sees the answer.
    const known = await usKnowsOfGb();
    const proof = await gb.context.store.read((tx) => withStoredTree(tx, checkpoint.size, (tree) => consistencyProof(tree, known, checkpoint.size)));
    const direct = await toUs("POST", "/peer/v1/witness/add-checkpoint", { body: formatAddCheckpointRequest({ oldSize: known, proof, checkpoint: checkpoint.note }) });
    expect(direct.status, direct.text).to.equal(200);
    expect(await usKnowsOfGb()).to.equal(checkpoint.size);

    const [submission] = (await gb.witness.runNow()).filter((s) => s.peer === US);
    expect(submission).to.deep.include({ outcome: "cosigned", size: checkpoint.size });
    const note = await gb.context.store.read((tx) => checkpointWithCosignatures(tx, checkpoint.size));
    verifyCosignature(note!, { name: witnessName(US), publicKey: logPublicKey(network.us) });
  });

  it("answers a bad proof with 422 and raises an alarm: an audit entry, a log_alarms row, the health view", async function () {
    await exchangeRequest(network.gb);
    const checkpoint = (await gb.context.checkpoints.sign());
    const known = await usKnowsOfGb();
    const proof = await gb.context.store.read((tx) => withStoredTree(tx, checkpoint.size, (tree) => consistencyProof(tree, known, checkpoint.size)));
    expect(proof.length).to.be.greaterThan(0);
    proof[0] = Buffer.alloc(32, 0xab); // tampered
    const answer = await toUs("POST", "/peer/v1/witness/add-checkpoint", { body: formatAddCheckpointRequest({ oldSize: known, proof, checkpoint: checkpoint.note }) });
    expect([answer.status, answer.json?.error?.code]).to.deep.equal([422, "AUDIT_CONSISTENCY_FAILED"]);
    expect(await usKnowsOfGb()).to.equal(known); // not cosigned

    const alarms = (await rows<{ origin: string; reason: string; evidence: string }>(us.context.store, "log_alarms"));
    expect(alarms).to.have.length(1);
    expect(alarms[0]).to.include({ origin: checkpointOrigin(GB), reason: "consistency proof failed" });
    expect(JSON.parse(alarms[0]!.evidence).claimed.note).to.equal(checkpoint.note);
    const entries = (await rows<{ entry: string }>(us.context.store, "audit_entries", "kind = 'log.inconsistent'"));
    expect(entries).to.have.length(1);
    expect(JSON.parse(entries[0]!.entry)).to.deep.include({ actor: `peer:${GB}` });

    const health = await localRequest(network.us.localPort, "GET", "/api/v1/health", { token: network.us.tokens.operator });
    expect(health.status).to.equal(200);
    expect(health.json.status).to.equal("degraded");
    expect(health.json.peers.find((p: { authority: string }) => p.authority === GB)).to.deep.include({ logConsistent: false, witnessedSize: known });
    expect(health.json.logAlarms).to.have.length(1);
    expect(health.json.checkpoint.cosignedBy).to.be.an("array");

    // The honest submission of the same checkpoint is still cosigned: the alarm blocks nothing consistent.
    const [submission] = (await gb.witness.runNow()).filter((s) => s.peer === US);
    expect(submission?.outcome).to.equal("cosigned");
  });
});
