/**
 * The receiver is down for a while: GB accepts the request (201), keeps it in
 * its outbox and says so in the health view, retries with backoff, and
 * delivers the same envelope once US is back on the same home and ports.
 */
import { join } from "node:path";
import { expect } from "chai";
import type { Gateway } from "../../gateway/gateway.js";
import { verifyReceipt } from "../../gateway/envelope/receipt.js";
import { loadPeerTrust } from "../../pki/peers.js";
import { count, example, localRequest, waitFor, type TestNetwork, startNetwork, stopNetwork } from "./fixtures.js";
import { forEachEngine } from "../store/engines.js";

forEachEngine("gateway delivery: receiver down for a while", (engine) => {
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway | undefined;

  before(async function () {
    ({ network, gb, us } = await startNetwork({ store: engine.name }));
  });

  after(() => stopNetwork({ network, gb, us }));

  it("queues while US is stopped, retries, and delivers once US starts again", async function () {
    await us!.stop();
    us = undefined;

    const submitted = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", {
      token: network.gb.tokens.caseworker,
      body: example("mla-request", "valid-email-records"),
    });
    expect(submitted.status, submitted.text).to.equal(201);
    const { caseId, envelopeId } = submitted.json as { caseId: string; envelopeId: string };

    // GB retries and records why it could not deliver.
    const pending = await waitFor("a failed attempt to be recorded", async () => {
      const detail = await localRequest(network.gb.localPort, "GET", `/api/v1/cases/${caseId}`, { token: network.gb.tokens.caseworker });
      const delivery = detail.json.envelopes[0].delivery as { state: string; attempts: number; lastError: string | null };
      return delivery.attempts >= 2 ? { status: detail.json.status as string, delivery } : undefined;
    });
    expect(pending.status).to.equal("submitted");
    expect(pending.delivery.state).to.equal("pending");
    expect(pending.delivery.lastError).to.be.a("string");

    const health = await localRequest(network.gb.localPort, "GET", "/api/v1/health", { token: network.gb.tokens.operator });
    expect(health.status).to.equal(200);
    expect(health.json.status).to.equal("degraded");
    expect(health.json.peers[0]).to.include({ authority: "US-DOJ-OIA", reachable: false });
    expect(health.json.outbox.pending).to.equal(1);
    expect(health.json.outbox.oldestPendingSince).to.be.a("string");
    const metrics = await localRequest(network.gb.localPort, "GET", "/metrics");
    expect(metrics.text).to.match(/^valise_outbox_depth 1$/m);
    expect(metrics.text).to.match(/^valise_delivery_attempts_total\{outcome="retry"\} [1-9]\d*$/m);

    us = network.us.gateway();
    const addresses = await us.start();
    expect(addresses.peerPort).to.equal(network.us.peerPort);

    const detail = await waitFor("GB's case to be received", async () => {
      const answer = await localRequest(network.gb.localPort, "GET", `/api/v1/cases/${caseId}`, { token: network.gb.tokens.caseworker });
      return answer.json.status === "received" ? answer.json : undefined;
    });
    const [envelope] = detail.envelopes;
    expect(envelope.envelopeId).to.equal(envelopeId);
    expect(envelope.delivery.state).to.equal("delivered");
    expect(envelope.delivery.attempts).to.be.at.least(3);
    const usTrust = loadPeerTrust(join(network.gb.home, "peers"), "US-DOJ-OIA");
    await verifyReceipt(envelope.receipt, {
      expected: { envelopeId, envelopeDigest: envelope.envelopeDigest, from: "GB-UKCA", to: "US-DOJ-OIA" },
      trustFor: (authority) => (authority === "US-DOJ-OIA" ? { root: usTrust.root, crl: usTrust.crl } : undefined),
      now: new Date(),
    });

    // US holds that one envelope, once, under the id GB minted at submission.
    expect((await count(us.context.store, "envelopes", "direction = 'inbound'"))).to.equal(1);
    expect((await count(us.context.store, "envelopes", "envelope_id = ? AND digest = ?", envelopeId, envelope.envelopeDigest))).to.equal(1);
    const inbound = await localRequest(network.us.localPort, "GET", `/api/v1/cases/${caseId}`, { token: network.us.tokens.caseworker });
    expect(inbound.status).to.equal(200);
    expect(inbound.json.status).to.equal("received");

    const after = await localRequest(network.gb.localPort, "GET", "/api/v1/health", { token: network.gb.tokens.operator });
    expect(after.json.status).to.equal("ok");
    expect(after.json.peers[0].reachable).to.equal(true);
    expect(after.json.outbox).to.deep.equal({ pending: 0, failed: 0, oldestPendingSince: null, oldestPendingAgeSeconds: null, stuck: false });
  });
});
