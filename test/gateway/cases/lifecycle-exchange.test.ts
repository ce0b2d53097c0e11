/**
 * Whole case lifecycles across two real gateways (GB-UKCA requesting,
 * US-DOJ-OIA requested): every step is a signed status-update envelope, and
 * after each scenario both sides hold the same state and the same history.
 */
import { expect } from "chai";
import { count, createNetwork, FAST_DELIVERY, localRequest, peerRequest, waitFor, type TestNetwork } from "../fixtures.js";
import { checkDeadlines } from "../../../gateway/cases/deadlines.js";
import { caseCustody } from "../../../gateway/audit/custody.js";
import {
  agreedHistory,
  caseAt,
  configureClocks,
  DAY,
  postStep,
  sealStatus,
  startOn,
  step,
  submit,
  TestClock,
  waitForDelivered,
  waitForStatus,
  type RunningGateway,
} from "./helpers.js";
import { example } from "../fixtures.js";
import { forEachEngine } from "../../store/engines.js";

const DUAL_CRIMINALITY = "The conduct described, the mere possession of the listed files, is not an offence under the law of the requested state.";
const DISPROPORTIONATE = "Disclosure of eighteen months of content data is disproportionate to a suspected fraud of the amount stated.";

forEachEngine("case lifecycle across two gateways", (engine) => {
  let network: TestNetwork;
  const clock = new TestClock();
  let gb: RunningGateway;
  let us: RunningGateway;

  before(async function () {
    network = await createNetwork({ store: engine.name });
    // Deadlines are checked by the tests that move the clock, not by a timer.
    configureClocks(network.gb, { checkIntervalSeconds: 86400 });
    configureClocks(network.us, { checkIntervalSeconds: 86400 });
    gb = await startOn(network.gb, clock);
    us = await startOn(network.us, clock);
  });

  after(async function () {
    await gb?.gateway.stop();
    await us?.gateway.stop();
    await network?.cleanup();
  });

  it("refusal with grounds: acknowledge, start review, refuse; the requester closes; both timelines match", async function () {
    const caseId = await submit(network.gb, network.us);
    const ack = await step(network.us, caseId, { step: "acknowledge", note: "Registered under OIA 182-25-4417." });
    expect(ack).to.include({ caseId, step: "acknowledge", from: "received", status: "acknowledged" });
    await step(network.us, caseId, { step: "start-review" });
    const refusal = await step(network.us, caseId, {
      step: "refuse",
      grounds: [
        { ground: "dual-criminality", explanation: DUAL_CRIMINALITY },
        { ground: "disproportionate", explanation: DISPROPORTIONATE },
      ],
    });
    expect(refusal["status"]).to.equal("refused");

    const history = await agreedHistory(network.gb, network.us, caseId, "refused", 3);
    expect(history.map((h) => [h["step"], h["from"], h["to"], h["side"], h["by"], h["state"]])).to.deep.equal([
      ["acknowledge", "received", "acknowledged", "requested", "US-DOJ-OIA", "applied"],
      ["start-review", "acknowledged", "under-review", "requested", "US-DOJ-OIA", "applied"],
      ["refuse", "under-review", "refused", "requested", "US-DOJ-OIA", "applied"],
    ]);
    expect(history[2]!["grounds"]).to.deep.equal(["dual-criminality", "disproportionate"]);
    expect(history[2]!["envelopeId"]).to.equal(refusal["envelopeId"]);

    await step(network.gb, caseId, { step: "close", note: "The prosecution will reformulate the request." });
    const closed = await agreedHistory(network.gb, network.us, caseId, "closed", 4);
    expect(closed[3]).to.include({ step: "close", side: "requesting", by: "GB-UKCA", from: "refused", to: "closed" });

    // Every status change is in both audit logs, with the envelope's digest; never the explanation.
    for (const side of [network.gb, network.us]) {
      const detail = (await caseAt(side, caseId)).json;
      const changes = (detail.events as Array<{ kind: string; envelopeId?: string; envelopeDigest?: string; details: Record<string, unknown> }>).filter(
        (e) => e.kind === "status.changed" && e.details["step"] !== undefined,
      );
      expect(changes.map((e) => [e.details["step"], e.details["from"], e.details["to"]])).to.deep.equal([
        ["acknowledge", "received", "acknowledged"],
        ["start-review", "acknowledged", "under-review"],
        ["refuse", "under-review", "refused"],
        ["close", "refused", "closed"],
      ]);
      for (const change of changes) {
        const envelope = (detail.envelopes as Array<{ envelopeId: string; envelopeDigest: string }>).find((e) => e.envelopeId === change.envelopeId);
        expect(envelope?.envelopeDigest, `${side.authority} ${String(change.details["step"])}`).to.equal(change.envelopeDigest);
      }
      expect(JSON.stringify(detail.events)).to.not.contain("possession of the listed files");
    }
    // The auditor's chain of custody of the case lists them too.
    const custody = await us.gateway.context.store.read((tx) => caseCustody(tx, caseId));
    expect(custody.events.filter((e) => e.kind === "status.changed").map((e) => e.details["step"])).to.deep.equal(["acknowledge", "start-review", "refuse", "close"]);
  });

  it("refuses an invalid step with 409 CASE_TRANSITION_INVALID naming the allowed steps, and stores nothing", async function () {
    const caseId = await submit(network.gb, network.us);
    await step(network.us, caseId, { step: "acknowledge" });
    await waitForStatus(network.gb, caseId, "acknowledged");
    // GB shows the step before US has recorded GB's receipt for it (an audit entry at US).
    await waitForDelivered(network.us, caseId);
    const before = { us: (await count(us.gateway.context.store, "envelopes")), gb: (await count(gb.gateway.context.store, "envelopes")), usAudit: (await count(us.gateway.context.store, "audit_entries")) };

    const early = await postStep(network.us, caseId, { step: "executed" });
    expect(early.status, early.text).to.equal(409);
    expect(early.json.error.code).to.equal("CASE_TRANSITION_INVALID");
    expect(early.json.error.details.allowed).to.deep.equal([
      "forward",
      "start-review",
      "request-more-info",
      "consult",
      "propose-alternative-measure",
      "offer-conditions",
      "confidentiality-not-possible",
      "accept",
      "notify-delay",
      "refuse",
      "unable-to-execute",
    ]);

    // A step of the other side, from the right state.
    const wrongSide = await postStep(network.gb, caseId, { step: "accept" });
    expect(wrongSide.status).to.equal(409);
    expect(wrongSide.json.error.code).to.equal("CASE_TRANSITION_INVALID");
    expect(wrongSide.json.error.details.allowed).to.deep.equal(["withdraw"]);

    const noGrounds = await postStep(network.us, caseId, { step: "refuse" });
    expect(noGrounds.status).to.equal(422);
    expect(noGrounds.json.error.code).to.equal("DOCUMENT_INVALID");
    expect(noGrounds.json.error.details.errors.map((e: { path: string; code: string }) => `${e.path} ${e.code}`)).to.deep.equal(["/grounds required"]);
    expect(noGrounds.json.error.details.errors[0].hint).to.be.a("string").and.not.equal("");

    const shortExplanation = await postStep(network.us, caseId, { step: "refuse", grounds: [{ ground: "other", explanation: "no" }] });
    expect(shortExplanation.status).to.equal(422);

    const unknownStep = await postStep(network.us, caseId, { step: "reject", status: "refused" });
    expect(unknownStep.status).to.equal(422);
    expect(unknownStep.json.error.details.errors.map((e: { path: string; code: string }) => `${e.path} ${e.code}`)).to.deep.equal(["/step enum", "/status not-allowed"]);

    const unknownCase = await postStep(network.us, "00000000-0000-4000-8000-000000000000", { step: "acknowledge" });
    expect(unknownCase.status).to.equal(404);
    expect(unknownCase.json.error.code).to.equal("CASE_UNKNOWN");

    const auditor = await localRequest(network.us.localPort, "POST", `/api/v1/cases/${caseId}/status`, { token: network.us.tokens.auditor, body: { step: "accept" } });
    expect(auditor.status).to.equal(403);

    expect({ us: (await count(us.gateway.context.store, "envelopes")), gb: (await count(gb.gateway.context.store, "envelopes")), usAudit: (await count(us.gateway.context.store, "audit_entries")) }).to.deep.equal(before);
    expect((await caseAt(network.us, caseId)).json.status).to.equal("acknowledged");
  });

  it("takes one of two identical steps posted at once on one gateway, and refuses the other with 409", async function () {
    const caseId = await submit(network.gb, network.us);
    const answers = await Promise.all([postStep(network.us, caseId, { step: "acknowledge" }), postStep(network.us, caseId, { step: "acknowledge" })]);
    expect(answers.map((a) => a.status).sort()).to.deep.equal([201, 409]);
    expect(answers.find((a) => a.status === 409)!.json.error.code).to.equal("CASE_TRANSITION_INVALID");
    // Two different steps at once: whichever commits second is re-checked against the first — after
    // start-review, accept still follows; after accept, start-review no longer may.
    const both = await Promise.all([postStep(network.us, caseId, { step: "start-review" }), postStep(network.us, caseId, { step: "accept" })]);
    const taken = both.filter((a) => a.status === 201).map((a) => a.json.step as string);
    expect(both.filter((a) => a.status !== 201).map((a) => `${a.status} ${String(a.json.error.code)}`)).to.deep.equal(taken.length === 2 ? [] : ["409 CASE_TRANSITION_INVALID"]);
    const history = await agreedHistory(network.gb, network.us, caseId, "accepted", 1 + taken.length);
    expect(history.map((h) => h["step"])).to.deep.equal(taken.length === 2 ? ["acknowledge", "start-review", "accept"] : ["acknowledge", "accept"]);
  });

  it("refuses, at the receiving gateway, a status update that does not fit the state machine (409), and stores nothing of it", async function () {
    const caseId = await submit(network.gb, network.us);
    const detail = (await caseAt(network.us, caseId)).json;
    const requestEnvelope = detail.envelopes[0].envelopeId as string;
    const now = clock.now();
    const post = (body: string) => peerRequest(network.us.peerPort, "POST", "/peer/v1/envelopes", { credentials: network.gb.tlsCredentials(), ca: network.us.rootPem(), body });
    let before = { envelopes: (await count(us.gateway.context.store, "envelopes")), audit: (await count(us.gateway.context.store, "audit_entries")) };

    // GB (the requesting side) claims the requested side's step.
    const accept = { kind: "status-update", caseId, step: "accept", status: "accepted", at: now.toISOString() };
    const wrongSide = await post(await sealStatus(network.gb, network.us, caseId, requestEnvelope, accept, now));
    expect(wrongSide.status, wrongSide.text).to.equal(409);
    expect(wrongSide.json.error.code).to.equal("CASE_TRANSITION_INVALID");

    // A withdrawal that claims another resulting status.
    const lying = { kind: "status-update", caseId, step: "withdraw", status: "closed", at: now.toISOString() };
    const mismatch = await post(await sealStatus(network.gb, network.us, caseId, requestEnvelope, lying, now));
    expect(mismatch.status).to.equal(409);
    expect(mismatch.json.error.code).to.equal("CASE_TRANSITION_INVALID");

    // A step that names no predecessor.
    const withdraw = { kind: "status-update", caseId, step: "withdraw", status: "withdrawn", at: now.toISOString() };
    const orphan = await post(await sealStatus(network.gb, network.us, caseId, undefined, withdraw, now));
    expect(orphan.status).to.equal(409);
    expect(orphan.json.error.code).to.equal("CASE_TRANSITION_INVALID");

    expect({ envelopes: (await count(us.gateway.context.store, "envelopes")), audit: (await count(us.gateway.context.store, "audit_entries")) }).to.deep.equal(before);

    // A step that follows an envelope of another case.
    const other = await submit(network.gb, network.us);
    const otherRequest = (await caseAt(network.us, other)).json.envelopes[0].envelopeId as string;
    before = { envelopes: (await count(us.gateway.context.store, "envelopes")), audit: (await count(us.gateway.context.store, "audit_entries")) };
    const astray = await post(await sealStatus(network.gb, network.us, caseId, otherRequest, withdraw, now));
    expect(astray.status).to.equal(409);
    expect(astray.json.error.code).to.equal("CASE_TRANSITION_INVALID");

    // A step that follows one not received yet: not refused for good, the sender retries.
    const early = await post(await sealStatus(network.gb, network.us, caseId, "5d1b2c3a-0000-4000-8000-00000000abcd", withdraw, now));
    expect(early.status).to.equal(425);
    expect(early.json.error.code).to.equal("CASE_STEP_EARLY");

    // The document's caseId must be the envelope's.
    const elsewhere = { ...withdraw, caseId: "0f0f0f0f-0000-4000-8000-000000000000" };
    const foreign = await post(await sealStatus(network.gb, network.us, caseId, requestEnvelope, elsewhere, now));
    expect(foreign.status).to.equal(422);
    expect(foreign.json.error.code).to.equal("DOCUMENT_INVALID");

    expect({ envelopes: (await count(us.gateway.context.store, "envelopes")), audit: (await count(us.gateway.context.store, "audit_entries")) }).to.deep.equal(before);
    expect((await caseAt(network.us, caseId)).json.status).to.equal("received");

    // The same, well formed, is accepted.
    const fine = await post(await sealStatus(network.gb, network.us, caseId, requestEnvelope, withdraw, now));
    expect(fine.status, fine.text).to.equal(201);
    expect((await caseAt(network.us, caseId)).json.status).to.equal("withdrawn");
  });

  it("more information round trip: the completion clock pauses while the answers are awaited, the answers arrive sealed", async function () {
    const caseId = await submit(network.gb, network.us);
    const [gbView, usView] = [(await caseAt(network.gb, caseId)).json, (await caseAt(network.us, caseId)).json];
    // Both sides start the clocks from the same instant: US's receipt, signed.
    expect(gbView.receivedAt).to.be.a("string");
    expect(gbView.receivedAt).to.equal(usView.receivedAt);
    const receivedAt = Date.parse(usView.receivedAt);
    expect(usView.clocks.completion).to.include({ state: "running", days: 30, pausedMs: 0, dueAt: new Date(receivedAt + 30 * DAY).toISOString() });

    const asked = await step(network.us, caseId, {
      step: "request-more-info",
      questions: ["Which of the fourteen emails were sent from IP addresses outside the United Kingdom?"],
    });
    await waitForStatus(network.gb, caseId, "more-info-requested");
    const paused = (await caseAt(network.us, caseId)).json.clocks;
    expect(paused.completion.state).to.equal("paused");
    expect(paused.hop.holder).to.equal("requesting");

    clock.advance(3 * DAY);
    const answered = await step(network.gb, caseId, {
      step: "provide-more-info",
      answers: ["Nine of them, all from addresses in the Netherlands."],
      note: "The provider's logs are attached to the prosecution file.",
    });
    expect(answered).to.include({ from: "more-info-requested", status: "under-review" });
    await waitForStatus(network.us, caseId, "under-review");

    const history = await agreedHistory(network.gb, network.us, caseId, "under-review", 2);
    const pausedMs = Date.parse(history[1]!["at"] as string) - Date.parse(history[0]!["at"] as string);
    expect(pausedMs).to.be.at.least(3 * DAY);
    for (const side of [network.gb, network.us]) {
      const completion = (await caseAt(side, caseId)).json.clocks.completion;
      expect(completion, side.authority).to.deep.include({ state: "running", pausedMs, dueAt: new Date(receivedAt + 30 * DAY + pausedMs).toISOString() });
    }
    // The supplement reached US sealed, and reads back as sent.
    const supplement = await localRequest(network.us.localPort, "GET", `/api/v1/cases/${caseId}/documents/${String(answered["envelopeId"])}`, { token: network.us.tokens.caseworker });
    expect(supplement.json.answers).to.deep.equal(["Nine of them, all from addresses in the Netherlands."]);
    expect(supplement.json.step).to.equal("provide-more-info");
    expect(asked["status"]).to.equal("more-info-requested");

    await step(network.us, caseId, { step: "accept", conditions: ["The data may be used only in the proceedings described in the request."] });
    await step(network.us, caseId, { step: "report-progress", delivered: { text: "Subscriber data produced by the provider." } });
    await step(network.us, caseId, { step: "executed", delivered: { text: "Traffic and content data produced by the provider." } });
    await waitForStatus(network.gb, caseId, "executed");
    await step(network.gb, caseId, { step: "close" });
    const final = await agreedHistory(network.gb, network.us, caseId, "closed", 6);
    expect(final.map((h) => h["to"])).to.deep.equal(["more-info-requested", "under-review", "accepted", "partially-executed", "executed", "closed"]);
    const done = (await caseAt(network.us, caseId)).json.clocks.completion;
    expect(done.state).to.equal("met");
    clock.offsetMs = 0;
  });

  it("withdrawal: the requester withdraws; the requested side can no longer act; the requester closes", async function () {
    const caseId = await submit(network.gb, network.us);
    await step(network.us, caseId, { step: "acknowledge" });
    await waitForStatus(network.gb, caseId, "acknowledged");
    await step(network.gb, caseId, { step: "withdraw", note: "The suspect has been charged on other evidence." });
    await waitForStatus(network.us, caseId, "withdrawn");
    const refused = await postStep(network.us, caseId, { step: "accept" });
    expect(refused.status).to.equal(409);
    expect(refused.json.error.details.allowed).to.deep.equal([]);
    const usView = (await caseAt(network.us, caseId)).json;
    expect(usView.allowedSteps).to.deep.equal([]);
    expect(usView.clocks.completion.state).to.equal("stopped");
    expect(usView.clocks.hop).to.equal(null);
    await step(network.gb, caseId, { step: "close" });
    const history = await agreedHistory(network.gb, network.us, caseId, "closed", 3);
    expect(history.map((h) => `${String(h["by"])} ${String(h["step"])}`)).to.deep.equal(["US-DOJ-OIA acknowledge", "GB-UKCA withdraw", "GB-UKCA close"]);
  });

  it("concurrent steps: the requester withdraws while the requested side accepts; both settle on withdrawn, the acceptance superseded", async function () {
    const caseId = await submit(network.gb, network.us);
    await step(network.us, caseId, { step: "acknowledge" });
    await agreedHistory(network.gb, network.us, caseId, "acknowledged", 1);

    // Cut the two gateways off from each other (no delivery at all) and let both act.
    await gb.gateway.stop();
    await us.gateway.stop();
    gb = await startOn(network.gb, clock, { ...FAST_DELIVERY, concurrency: 0 });
    us = await startOn(network.us, clock, { ...FAST_DELIVERY, concurrency: 0 });
    const withdrawn = await step(network.gb, caseId, { step: "withdraw" });
    const accepted = await step(network.us, caseId, { step: "accept" });
    expect([(await caseAt(network.gb, caseId)).json.status, (await caseAt(network.us, caseId)).json.status]).to.deep.equal(["withdrawn", "accepted"]);

    // Reconnect: each outbox delivers its step to the other side.
    await gb.gateway.stop();
    await us.gateway.stop();
    gb = await startOn(network.gb, clock);
    us = await startOn(network.us, clock);
    const history = await waitFor("both sides to hold both steps", async () => {
      const [a, b] = await Promise.all([caseAt(network.gb, caseId), caseAt(network.us, caseId)]);
      return a.json.steps.length === 3 && b.json.steps.length === 3 ? [a.json, b.json] : undefined;
    });
    const [gbView, usView] = history;
    expect(gbView.status).to.equal("withdrawn");
    expect(usView.status).to.equal("withdrawn");
    const settled = await agreedHistory(network.gb, network.us, caseId, "withdrawn", 3);
    expect(settled.map((h) => [h["step"], h["state"], h["supersededBy"]])).to.deep.equal([
      ["acknowledge", "applied", null],
      ["withdraw", "applied", null],
      ["accept", "superseded", withdrawn["envelopeId"]],
    ]);
    expect(settled[2]!["envelopeId"]).to.equal(accepted["envelopeId"]);
    // US recorded the rollback of its acceptance.
    const rolledBack = (usView.events as Array<{ kind: string; envelopeId?: string; details: Record<string, unknown> }>).find(
      (e) => e.kind === "status.superseded" && e.envelopeId === accepted["envelopeId"],
    );
    expect(rolledBack?.details["supersededBy"]).to.equal(withdrawn["envelopeId"]);
  });

  it("a preservation request is its own kind of case: shorter completion clock, and an expiry clock once the data is preserved", async function () {
    const request = example("preservation-request", "valid-email-account");
    const caseId = await submit(network.gb, network.us, request);
    const usView = (await caseAt(network.us, caseId)).json;
    expect(usView.kind).to.equal("preservation-request");
    // urgent quick freeze: 1 day to preserve
    expect(usView.clocks.completion.days).to.equal(1);
    await step(network.us, caseId, { step: "accept" });
    const preserved = await step(network.us, caseId, { step: "executed", note: "Mailbridge confirms the account's data is preserved." });
    await waitForStatus(network.gb, caseId, "executed");
    const [a, b] = [(await caseAt(network.gb, caseId)).json.clocks, (await caseAt(network.us, caseId)).json.clocks];
    expect(a.preservationExpiry).to.deep.equal(b.preservationExpiry);
    const preservedAt = (await caseAt(network.us, caseId)).json.steps[1].at as string;
    expect(a.preservationExpiry).to.deep.include({ days: 90, preservedAt, holder: "requesting", stopped: false, dueAt: new Date(Date.parse(preservedAt) + 90 * DAY).toISOString() });
    expect(preserved["status"]).to.equal("executed");
    // 90 days later, with no follow-up, both sides alert: the requesting side must act.
    clock.offsetMs = Date.parse(preservedAt) + 90 * DAY + 1000 - Date.now();
    for (const side of [gb, us]) {
      const missed = (await checkDeadlines(side.gateway.context)).filter((d) => d.caseId === caseId);
      expect(missed.map((d) => `${d.clock} ${d.holderAuthority}`), side.authority.authority).to.deep.equal(["preservation-expiry GB-UKCA"]);
    }
    clock.offsetMs = 0;
    await step(network.gb, caseId, { step: "close", note: "The MLA request has been sent." });
    await waitForStatus(network.us, caseId, "closed");
    expect((await caseAt(network.us, caseId)).json.clocks.preservationExpiry.stopped).to.equal(true);
  });
});
