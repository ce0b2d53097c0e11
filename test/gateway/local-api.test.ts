/**
 * The local API over real HTTP, between two running gateways: a caseworker's
 * request travels GB → US with a verified receipt, a received document is
 * read (and the read audited), invalid requests get field-level 422s and
 * store nothing, and every refusal of a token has its code.
 */
import { join } from "node:path";
import { expect } from "chai";
import type { Gateway } from "../../gateway/gateway.js";
import { revokeToken } from "../../gateway/auth/tokens.js";
import { withHomeStore } from "../../gateway/store/home-store.js";
import { openHome } from "../../gateway/home.js";
import { verifyReceipt } from "../../gateway/envelope/receipt.js";
import { loadPeerTrust } from "../../pki/peers.js";
import { count, example, localRequest, waitFor, type TestNetwork, startNetwork, stopNetwork } from "./fixtures.js";

describe("gateway local API", function () {
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway;
  const request = example("mla-request", "valid-email-records");
  let submitted: { caseId: string; envelopeId: string };

  before(async function () {
    ({ network, gb, us } = await startNetwork());
  });

  after(() => stopNetwork({ network, gb, us }));

  it("submits a request: 201 {caseId, envelopeId}, delivered to US, GB's case received with a verified receipt", async function () {
    const answer = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", { token: network.gb.tokens.caseworker, body: request });
    expect(answer.status, answer.text).to.equal(201);
    expect(answer.json.caseId).to.match(/^[0-9a-f-]{36}$/);
    expect(answer.json.envelopeId).to.match(/^[0-9a-f-]{36}$/);
    submitted = { caseId: answer.json.caseId, envelopeId: answer.json.envelopeId };

    const inbound = await waitFor("the case at US", async () => {
      const cases = await localRequest(network.us.localPort, "GET", "/api/v1/cases?direction=inbound", { token: network.us.tokens.caseworker });
      expect(cases.status).to.equal(200);
      return (cases.json.cases as Array<{ caseId: string; status: string; peer: string; kind: string }>).find((c) => c.caseId === submitted.caseId);
    });
    expect(inbound).to.include({ status: "received", peer: "GB-UKCA", kind: "mla-request" });

    const outbound = await waitFor("GB's case to be received", async () => {
      const detail = await localRequest(network.gb.localPort, "GET", `/api/v1/cases/${submitted.caseId}`, { token: network.gb.tokens.caseworker });
      expect(detail.status).to.equal(200);
      return detail.json.status === "received" ? detail.json : undefined;
    });
    expect(outbound.direction).to.equal("outbound");
    expect(outbound.envelopes).to.have.length(1);
    const [envelope] = outbound.envelopes;
    expect(envelope.envelopeId).to.equal(submitted.envelopeId);
    expect(envelope.delivery.state).to.equal("delivered");
    expect(envelope.receipt).to.be.a("string");
    expect((outbound.events as Array<{ kind: string }>).map((e) => e.kind)).to.include.members(["envelope.sent", "receipt.received"]);
    // The receipt GB shows verifies against US's pinned trust, for exactly this envelope.
    const usTrust = loadPeerTrust(join(network.gb.home, "peers"), "US-DOJ-OIA");
    const verified = await verifyReceipt(envelope.receipt, {
      expected: { envelopeId: submitted.envelopeId, envelopeDigest: envelope.envelopeDigest, from: "GB-UKCA", to: "US-DOJ-OIA" },
      trustFor: (authority) => (authority === "US-DOJ-OIA" ? { root: usTrust.root, crl: usTrust.crl } : undefined),
      now: new Date(),
    });
    expect(verified.receipt.envelopeId).to.equal(submitted.envelopeId);
  });

  it("returns a received document to a caseworker at US and writes an access.read audit entry", async function () {
    expect(submitted, "the submission test ran first").to.not.equal(undefined);
    const document = await localRequest(network.us.localPort, "GET", `/api/v1/cases/${submitted.caseId}/documents/${submitted.envelopeId}`, {
      token: network.us.tokens.caseworker,
    });
    expect(document.status, document.text).to.equal(200);
    expect(document.json).to.deep.equal(request);

    const audit = await localRequest(network.us.localPort, "GET", "/api/v1/audit/entries", { token: network.us.tokens.auditor });
    expect(audit.status).to.equal(200);
    const reads = (audit.json.entries as Array<{ kind: string; envelopeId?: string; actor: string; details: Record<string, unknown> }>).filter(
      (entry) => entry.kind === "access.read" && entry.envelopeId === submitted.envelopeId,
    );
    expect(reads).to.have.length(1);
    expect(reads[0]!.actor).to.equal("token:case-system");
    expect(reads[0]!.details["role"]).to.equal("caseworker");
    // The audit log holds digests and metadata, never the document.
    expect(audit.text).to.not.contain(String(request["reference"]));
  });

  it("answers an unknown document with 404 NOT_FOUND and audits nothing", async function () {
    const before = (await count(us.context.store, "audit_entries"));
    const answer = await localRequest(network.us.localPort, "GET", `/api/v1/cases/${submitted.caseId}/documents/00000000-0000-4000-8000-000000000000`, {
      token: network.us.tokens.caseworker,
    });
    expect(answer.status).to.equal(404);
    expect(answer.json.error.code).to.equal("NOT_FOUND");
    expect((await count(us.context.store, "audit_entries"))).to.equal(before);
  });

  it("refuses an invalid request with 422 and every failing field {path, code, message, hint}, storing nothing", async function () {
    const db = gb.context.store;
    const before = { cases: await count(db, "cases"), envelopes: await count(db, "envelopes"), outbox: await count(db, "outbox") };
    const answer = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", {
      token: network.gb.tokens.caseworker,
      body: example("mla-request", "invalid-missing-facts"),
    });
    expect(answer.status, answer.text).to.equal(422);
    expect(answer.json.error.code).to.equal("DOCUMENT_INVALID");
    const errors = answer.json.error.details.errors as Array<Record<string, unknown>>;
    expect(errors.filter((e) => e["path"] === "/facts" && e["code"] === "required")).to.have.length(1);
    for (const error of errors) {
      expect(error).to.have.all.keys("path", "code", "message", "hint");
      for (const value of Object.values(error)) expect(value).to.be.a("string").and.not.equal("");
    }
    expect({ cases: await count(db, "cases"), envelopes: await count(db, "envelopes"), outbox: await count(db, "outbox") }).to.deep.equal(before);
  });

  it("refuses a request to an authority that is not a peer with 422 at /requestedAuthority", async function () {
    const before = (await count(gb.context.store, "cases"));
    const answer = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", {
      token: network.gb.tokens.caseworker,
      body: { ...request, requestedAuthority: "FR-MJ-BEPI" },
    });
    expect(answer.status, answer.text).to.equal(422);
    expect(answer.json.error.code).to.equal("DOCUMENT_INVALID");
    const paths = (answer.json.error.details.errors as Array<{ path: string; code: string; hint: string }>).map((e) => e.path);
    expect(paths).to.deep.equal(["/requestedAuthority"]);
    expect((await count(gb.context.store, "cases"))).to.equal(before);
  });

  it("refuses a body that is not JSON with a 4xx and a code", async function () {
    const answer = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", { token: network.gb.tokens.caseworker, rawBody: "{not json" });
    expect(answer.json.error.code).to.equal("REQUEST_MALFORMED");
    expect(answer.status).to.be.within(400, 499);
  });

  it("answers 401 UNAUTHENTICATED without a token or with an unknown one, and 403 FORBIDDEN for the wrong role", async function () {
    const none = await localRequest(network.gb.localPort, "GET", "/api/v1/cases");
    expect(none.json.error.code).to.equal("UNAUTHENTICATED");
    expect(none.status).to.equal(401);
    const unknown = await localRequest(network.gb.localPort, "GET", "/api/v1/cases", { token: "vls_not-a-token" });
    expect(unknown.json.error.code).to.equal("UNAUTHENTICATED");
    expect(unknown.status).to.equal(401);
    // A token of another gateway is not a token here.
    const foreign = await localRequest(network.gb.localPort, "GET", "/api/v1/cases", { token: network.us.tokens.caseworker });
    expect(foreign.status).to.equal(401);

    const auditorSubmits = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", { token: network.gb.tokens.auditor, body: request });
    expect(auditorSubmits.json.error.code).to.equal("FORBIDDEN");
    expect(auditorSubmits.status).to.equal(403);
    const caseworkerAudits = await localRequest(network.gb.localPort, "GET", "/api/v1/audit/entries", { token: network.gb.tokens.caseworker });
    expect(caseworkerAudits.json.error.code).to.equal("FORBIDDEN");
    expect(caseworkerAudits.status).to.equal(403);
    const operatorReadsCases = await localRequest(network.gb.localPort, "GET", "/api/v1/cases", { token: network.gb.tokens.operator });
    expect(operatorReadsCases.status).to.equal(403);
  });

  it("refuses a token once it is revoked (401), while the gateway runs", async function () {
    const { tokenId, token } = await network.gb.createToken("caseworker", "short-lived");
    const ok = await localRequest(network.gb.localPort, "GET", "/api/v1/cases", { token });
    expect(ok.status).to.equal(200);
    // The operator revokes it from another process's connection (here: another store on the same database).
    await withHomeStore(openHome(network.gb.home), "refuse", (store) => store.transaction((tx) => revokeToken(tx, tokenId, new Date())));
    const refused = await localRequest(network.gb.localPort, "GET", "/api/v1/cases", { token });
    expect(refused.json.error.code).to.equal("UNAUTHENTICATED");
    expect(refused.status).to.equal(401);
  });

  it("serves /healthz and Prometheus /metrics without a token", async function () {
    const health = await localRequest(network.gb.localPort, "GET", "/healthz");
    expect(health.status).to.equal(200);
    expect(health.json).to.deep.equal({ status: "ok", authority: "GB-UKCA" });

    const gbMetrics = await localRequest(network.gb.localPort, "GET", "/metrics");
    expect(gbMetrics.status).to.equal(200);
    expect(gbMetrics.headers["content-type"]).to.match(/^text\/plain/);
    for (const name of ["valise_envelopes_sent_total", "valise_envelopes_received_total", "valise_outbox_depth", "valise_delivery_attempts_total", "valise_delivery_latency_seconds"]) {
      expect(gbMetrics.text).to.contain(`# TYPE ${name} `);
    }
    expect(gbMetrics.text).to.match(/^valise_envelopes_sent_total\{type="mla-request"\} 1$/m);
    expect(gbMetrics.text).to.match(/^valise_outbox_depth 0$/m);
    const usMetrics = await localRequest(network.us.localPort, "GET", "/metrics");
    expect(usMetrics.text).to.match(/^valise_envelopes_received_total\{type="mla-request"\} 1$/m);
  });

  it("gives the operator a health view: the peer reachable, the outbox depth", async function () {
    const health = await localRequest(network.gb.localPort, "GET", "/api/v1/health", { token: network.gb.tokens.operator });
    expect(health.status, health.text).to.equal(200);
    expect(health.json.authority).to.equal("GB-UKCA");
    expect(health.json.status).to.equal("ok");
    expect(health.json.peers).to.have.length(1);
    expect(health.json.peers[0]).to.include({ authority: "US-DOJ-OIA", endpoint: network.us.endpoint, reachable: true });
    expect(health.json.outbox).to.deep.equal({ pending: 0, failed: 0, oldestPendingSince: null, oldestPendingAgeSeconds: null, stuck: false });
    const asCaseworker = await localRequest(network.gb.localPort, "GET", "/api/v1/health", { token: network.gb.tokens.caseworker });
    expect(asCaseworker.status).to.equal(403);
  });
});
