/**
 * Requests that name their legal instrument, across two real gateways: the
 * case records the instrument, its clocks follow it (an EPOC emergency: 8
 * hours), a refusal may cite only the instrument's grounds (checked by the
 * sender and again by the receiver), a partial refusal lets the rest go on,
 * and a request that cannot be executed is counted apart from refusals.
 */
import { expect } from "chai";
import { createNetwork, example, localRequest, peerRequest, type TestNetwork } from "../fixtures.js";
import { caseAt, postStep, sealStatus, startOn, step, submit, TestClock, waitForStatus, type RunningGateway } from "./helpers.js";

const HOUR = 3_600_000;

/** An example request addressed from GB to US, without its own deadline (which lies in the past of this run). */
function between(name: string): Record<string, unknown> {
  const { deadline: _deadline, ...request } = example("mla-request", name);
  return { ...request, requestingAuthority: "GB-UKCA", requestedAuthority: "US-DOJ-OIA" };
}

describe("requests by legal instrument across two gateways", function () {
  let network: TestNetwork;
  const clock = new TestClock();
  let gb: RunningGateway;
  let us: RunningGateway;

  before(async function () {
    network = await createNetwork();
    gb = await startOn(network.gb, clock);
    us = await startOn(network.us, clock);
  });

  after(async function () {
    await gb?.gateway.stop();
    await us?.gateway.stop();
    network?.cleanup();
  });

  it("EPOC emergency: 8 hours to answer, no political-offence ground; unable to execute is no refusal", async function () {
    const caseId = await submit(network.gb, network.us, between("valid-epoc-emergency-identification"));
    const usView = (await caseAt(network.us, caseId)).json;
    expect(usView.clocks.instrument).to.equal("epoc");
    expect(usView.clocks.completion).to.include({ state: "running", from: "receipt", dueAt: new Date(Date.parse(usView.receivedAt) + 8 * HOUR).toISOString() });
    expect((await caseAt(network.gb, caseId)).json.clocks.completion.dueAt).to.equal(usView.clocks.completion.dueAt);

    const political = await postStep(network.us, caseId, { step: "refuse", grounds: [{ ground: "political-offence", explanation: "The threats were made in the course of a political campaign." }] });
    expect(political.status, political.text).to.equal(422);
    expect(political.json.error.code).to.equal("CASE_GROUND_NOT_ALLOWED");
    expect(political.json.error.details).to.include({ ground: "political-offence", instrument: "epoc" });
    const disproportionate = await postStep(network.us, caseId, { step: "refuse", grounds: [{ ground: "disproportionate", explanation: "Two days of login records for a threat is more than is needed here." }] });
    expect(disproportionate.json.error.details).to.include({ insteadStep: "consult" });

    await step(network.us, caseId, { step: "unable-to-execute", unable: [{ reason: "data-deleted", explanation: "The provider deleted the login records after 24 hours under its retention rules.", assistanceItems: [0] }] });
    const gbView = await waitForStatus(network.gb, caseId, "unable-to-execute");
    expect(gbView.steps.at(-1)).to.deep.include({ step: "unable-to-execute", grounds: ["data-deleted"] });
    const kpi = await localRequest(network.gb.localPort, "GET", "/api/v1/reports/kpi", { token: network.gb.tokens.auditor });
    expect(kpi.status, kpi.text).to.equal(200);
    const epoc = kpi.json.outbound.byInstrument.epoc;
    expect(epoc.unableToExecute).to.deep.include({ count: 1 });
    expect(epoc.refusals.count).to.equal(0);
  });

  it("EIO: a partial refusal refuses one item and the rest is executed; grounds the EIO does not know are refused by the receiver too", async function () {
    const caseId = await submit(network.gb, network.us, between("valid-eio-bank-records-and-video-hearing"));
    await step(network.us, caseId, { step: "acknowledge", executingAuthority: { name: "US Attorney's Office, District of Columbia", reference: "DC-25-8812" } });
    await step(network.us, caseId, { step: "accept" });
    const partial = await step(network.us, caseId, {
      step: "refuse",
      partial: true,
      grounds: [{ ground: "compulsory-measure-not-available", explanation: "A witness cannot be compelled to appear by video for a foreign prosecutor here.", assistanceItems: [1], instrumentRef: "EIO-11-1-h" }],
    });
    expect(partial).to.include({ from: "accepted", status: "accepted" });
    await step(network.us, caseId, { step: "postpone", postponement: { reason: "ongoing-investigation", until: "2030-01-15", explanation: "Obtaining the statements now would reveal a domestic investigation of the same account holder." } });
    const paused = await waitForStatus(network.gb, caseId, "postponed");
    expect(paused.clocks.completion.state).to.equal("paused");
    await step(network.us, caseId, { step: "resume" });
    const executed = await step(network.us, caseId, { step: "executed", delivered: { text: "Bank statements delivered by courier." } });
    await waitForStatus(network.gb, caseId, "executed");

    // A peer gone rogue refuses an EIO on a political ground after the fact: GB, the receiver, refuses the step.
    const usDetail = (await caseAt(network.us, caseId)).json;
    const now = new Date(Date.now() + clock.offsetMs);
    const rogue = { kind: "status-update", schemaVersion: 2, caseId, step: "refuse", status: "refused", at: now.toISOString(), grounds: [{ ground: "political-offence", explanation: "The investors were members of an opposition party in another state." }] };
    // From executed no refusal is possible anyway; from the request, the ground is what GB checks.
    const answer = await peerRequest(network.gb.peerPort, "POST", "/peer/v1/envelopes", {
      credentials: network.us.tlsCredentials(),
      ca: network.gb.rootPem(),
      body: await sealStatus(network.us, network.gb, caseId, usDetail.envelopes[0].envelopeId as string, rogue, now),
    });
    expect(answer.status, answer.text).to.equal(422);
    expect(answer.json.error.code).to.equal("CASE_GROUND_NOT_ALLOWED");
    expect((await caseAt(network.gb, caseId)).json.steps.at(-1).envelopeId).to.equal(executed["envelopeId"]);
  });
});
