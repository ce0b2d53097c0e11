/**
 * Two gateways, one still on the previous version of the document forms:
 * US-DOJ-OIA reads version 1 only (valise.json `documentVersions: [1]`, and
 * its trust bundle says so); GB-UKCA reads 1 and 2. A request in the version
 * the peer reads is delivered and read on both sides, never rewritten; one
 * in a version it does not read is refused before sealing by the sender,
 * and by the receiver if it arrives anyway; status updates travel in the
 * highest version both read, and a step version 1 lacks is refused.
 */
import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { count, createNetwork, example, localRequest, PASSPHRASE, peerRequest, sealFrom, type TestAuthority, type TestNetwork } from "./fixtures.js";
import { createTrustBundle } from "../../pki/bundle.js";
import { updatePeer } from "../../pki/peers.js";
import { caseAt, mlaRequest, mlaRequestV1, postStep, startOn, step, submit, TestClock, waitForStatus, type RunningGateway } from "./cases/helpers.js";

function readOnlyVersion1(authority: TestAuthority): void {
  const path = join(authority.home, "valise.json");
  const config = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  writeFileSync(path, `${JSON.stringify({ ...config, documentVersions: [1] }, null, 2)}\n`);
}

async function documentAt(authority: TestAuthority, caseId: string, envelopeId: string): Promise<Record<string, unknown>> {
  const answer = await localRequest(authority.localPort, "GET", `/api/v1/cases/${caseId}/documents/${envelopeId}`, { token: authority.tokens.caseworker });
  expect(answer.status, answer.text).to.equal(200);
  return answer.json as Record<string, unknown>;
}

describe("document versions on the wire: a peer still on version 1", function () {
  let network: TestNetwork;
  const clock = new TestClock();
  let gb: RunningGateway;
  let us: RunningGateway;

  before(async function () {
    network = await createNetwork();
    readOnlyVersion1(network.us);
    // GB holds US's bundle as US's gateway states it: version 1 only.
    await updatePeer(join(network.gb.home, "peers"), await createTrustBundle(network.us.pki(), PASSPHRASE, new Date(Date.now() + 2000), { documentVersions: [1] }), new Date(Date.now() + 3000));
    gb = await startOn(network.gb, clock);
    us = await startOn(network.us, clock);
  });

  after(async function () {
    await gb?.gateway.stop();
    await us?.gateway.stop();
    network?.cleanup();
  });

  it("learns from the trust bundle which versions a peer reads", function () {
    expect(gb.gateway.context.peers.get("US-DOJ-OIA").documentVersions).to.deep.equal([1]);
    expect(us.gateway.context.peers.get("GB-UKCA").documentVersions).to.deep.equal([1, 2]);
  });

  it("refuses to seal a request in a version the peer does not read, naming the version it reads, and stores nothing", async function () {
    const before = await count(gb.gateway.context.store, "cases");
    const answer = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", { token: network.gb.tokens.caseworker, body: mlaRequest() });
    expect(answer.status, answer.text).to.equal(422);
    expect(answer.json.error.code).to.equal("DOCUMENT_INVALID");
    const [error] = answer.json.error.details.errors as Array<{ path: string; code: string; hint: string }>;
    expect(error).to.deep.include({ path: "/schemaVersion", code: "version-not-accepted" });
    expect(error!.hint).to.contain("version 1");
    expect(await count(gb.gateway.context.store, "cases")).to.equal(before);
  });

  it("delivers a version 1 request, read as written on both sides; status updates travel in version 1", async function () {
    const request = mlaRequestV1();
    const caseId = await submit(network.gb, network.us, request);
    const usView = (await caseAt(network.us, caseId)).json;
    const requestEnvelope = usView.envelopes[0].envelopeId as string;
    // Never upgraded, never rewritten: the very document GB's caseworker wrote.
    expect(await documentAt(network.us, caseId, requestEnvelope)).to.deep.equal(request);
    expect(await documentAt(network.gb, caseId, requestEnvelope)).to.deep.equal(request);
    // No instrument: the clocks per peer, in days.
    expect(usView.clocks.completion.days).to.equal(30);

    const ack = await step(network.us, caseId, { step: "acknowledge" });
    await waitForStatus(network.gb, caseId, "acknowledged");
    const sent = await documentAt(network.gb, caseId, ack["envelopeId"] as string);
    expect(sent).to.not.have.property("schemaVersion");
    expect(sent).to.include({ kind: "status-update", step: "acknowledge" });

    // Steps and grounds of version 2 do not reach a version 1 reader.
    const unable = await postStep(network.us, caseId, { step: "unable-to-execute", unable: [{ reason: "data-not-held", explanation: "The provider holds no account under the address given in the request." }] });
    expect(unable.status, unable.text).to.equal(422);
    expect(unable.json.error).to.deep.include({ code: "CASE_STEP_NOT_ALLOWED" });
    expect(unable.json.error.details).to.include({ step: "unable-to-execute", reason: "version" });
    const newGround = await postStep(network.us, caseId, { step: "refuse", grounds: [{ ground: "pending-proceedings", explanation: "The same conduct is under investigation by the US Attorney for the district." }] });
    expect(newGround.status, newGround.text).to.equal(422);
    expect(newGround.json.error.code).to.equal("DOCUMENT_INVALID");

    await step(network.us, caseId, { step: "refuse", grounds: [{ ground: "dual-criminality", explanation: "The conduct described is not an offence under the law of the requested state." }] });
    await waitForStatus(network.gb, caseId, "refused");
    // GB reads version 2, US does not: GB's step goes in version 1 too.
    const closed = await step(network.gb, caseId, { step: "close" });
    await waitForStatus(network.us, caseId, "closed");
    expect(await documentAt(network.us, caseId, closed["envelopeId"] as string)).to.not.have.property("schemaVersion");
  });

  it("reads the version 1 gateway's own request", async function () {
    const request = { ...mlaRequestV1(), requestingAuthority: "US-DOJ-OIA", requestedAuthority: "GB-UKCA" };
    const caseId = await submit(network.us, network.gb, request);
    const gbView = (await caseAt(network.gb, caseId)).json;
    expect(await documentAt(network.gb, caseId, gbView.envelopes[0].envelopeId as string)).to.deep.equal(request);
    expect(gbView.clocks.instrument).to.equal(undefined);
  });

  it("refuses at the receiver a document in a version it does not read (DOCUMENT_VERSION_NOT_ACCEPTED), storing nothing", async function () {
    const before = await count(us.gateway.context.store, "envelopes");
    const sealed = await sealFrom(network.gb, network.us, example("mla-request", "valid-email-records"));
    const answer = await peerRequest(network.us.peerPort, "POST", "/peer/v1/envelopes", { credentials: network.gb.tlsCredentials(), ca: network.us.rootPem(), body: JSON.stringify(sealed.envelope) });
    expect(answer.status, answer.text).to.equal(422);
    expect(answer.json.error.code).to.equal("DOCUMENT_VERSION_NOT_ACCEPTED");
    expect(answer.json.error.details).to.deep.include({ kind: "mla-request", version: 2, accepted: [1] });
    expect(await count(us.gateway.context.store, "envelopes")).to.equal(before);
  });
});
