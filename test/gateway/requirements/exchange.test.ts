/**
 * Two gateways and a requirements profile: US publishes one, GB fetches it
 * over the peer API; a GB request that breaks it is refused locally with
 * US's explanation (in French when asked in French) and nothing is sent;
 * fixed, it is delivered and the receipt names the profile version; US
 * changes its profile and GB picks up the new version — by fetching it, and
 * when US answers a request checked against the old one with the version it
 * requires. A request that reaches US without complying is received with no
 * clock running.
 */
import http from "node:http";
import { expect } from "chai";
import type { Gateway } from "../../../gateway/gateway.js";
import { homePaths } from "../../../gateway/home.js";
import { documentValidator } from "../../../schemas/validate.js";
import { homeSigner, publishProfile } from "../../../gateway/requirements/publish.js";
import { sealEnvelope } from "../../../gateway/envelope/seal.js";
import { randomUUID } from "node:crypto";
import { count, example, localRequest, PASSPHRASE, peerRequest, waitFor, type HttpAnswer, type TestAuthority, type TestNetwork, startNetwork, stopNetwork } from "../fixtures.js";

/** The local API with extra headers (Accept-Language). */
function localCall(port: number, method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method, path, agent: false, headers: { authorization: `Bearer ${token}`, ...(data === undefined ? {} : { "content-type": "application/json", "content-length": String(data.length) }), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: text === "" ? undefined : JSON.parse(text) });
        });
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

async function publish(authority: TestAuthority, profile: Record<string, unknown>): Promise<number> {
  const published = await publishProfile(
    { paths: homePaths(authority.home), validator: documentValidator(), authority: authority.authority, signer: await homeSigner(authority.pki(), PASSPHRASE), now: new Date() },
    profile,
  );
  return published.version;
}

function usProfile(version: number, contentDays = 90): Record<string, unknown> {
  const profile = example("requirements-profile", "valid-us-doj-oia") as any;
  profile.version = version;
  profile.rules.find((r: { id: string }) => r.id === "us-content-period").days = contentDays;
  return profile;
}

function claims(jws: string): Record<string, any> {
  return JSON.parse(Buffer.from(jws.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, any>;
}

const fixedRequest = (): Record<string, any> => {
  const request = example("mla-request", "valid-email-records") as any;
  request.assistance[2].dateRange = { from: "2025-03-01", to: "2025-05-29" }; // 90 days
  return request;
};

describe("requirements profiles between two gateways", function () {
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway;

  before(async function () {
    ({ network, gb, us } = await startNetwork());
  });

  after(() => stopNetwork({ network, gb, us }));

  const fetchUs = (): Promise<HttpAnswer> => localCall(network.gb.localPort, "POST", "/api/v1/requirements/peers/US-DOJ-OIA/fetch", network.gb.tokens.operator);
  const submit = (document: unknown, language?: string): Promise<HttpAnswer> =>
    localCall(network.gb.localPort, "POST", "/api/v1/requests", network.gb.tokens.caseworker, document, language === undefined ? {} : { "accept-language": language });

  it("serves no profile until one is published", async function () {
    expect((await fetchUs()).json).to.deep.equal({ authority: "US-DOJ-OIA", outcome: "none", version: null });
    const held = await localCall(network.gb.localPort, "GET", "/api/v1/requirements/peers/US-DOJ-OIA", network.gb.tokens.caseworker);
    expect([held.status, held.json.error.code]).to.deep.equal([404, "REQUIREMENTS_NOT_FOUND"]);
  });

  it("US publishes, GB fetches it over the peer API and records it in its audit log", async function () {
    expect(await publish(network.us, usProfile(1))).to.equal(1);
    const fetched = await fetchUs();
    expect(fetched.json).to.deep.equal({ authority: "US-DOJ-OIA", outcome: "updated", version: 1 });
    expect(await count(gb.context.store, "audit_entries", "kind = ?", "requirements.updated")).to.equal(1);
    expect((await fetchUs()).json.outcome).to.equal("unchanged");
    const held = await localCall(network.gb.localPort, "GET", "/api/v1/requirements/peers/US-DOJ-OIA", network.gb.tokens.caseworker, undefined, { "accept-language": "fr" });
    expect(held.status).to.equal(200);
    expect(held.json.version).to.equal(1);
    expect(held.json.view.rules.find((r: { id: string }) => r.id === "us-content-period").explanation.language).to.equal("fr");
  });

  it("refuses a request that breaks US's profile before sending, with US's explanation in French", async function () {
    const envelopesBefore = await count(gb.context.store, "envelopes");
    const answer = await submit(example("mla-request", "valid-email-records"), "fr-FR, fr;q=0.9, en;q=0.5");
    expect(answer.status).to.equal(422);
    expect(answer.json.error.code).to.equal("REQUIREMENTS_NOT_MET");
    expect(answer.json.error.details.requirements).to.deep.equal({ authority: "US-DOJ-OIA", version: 1 });
    const errors = answer.json.error.details.errors as Array<Record<string, string>>;
    expect(errors.map((e) => [e["path"], e["code"], e["rule"], e["language"]])).to.deep.equal([["/assistance/2/dateRange", "requirement", "us-content-period", "fr"]]);
    expect(errors[0]?.["hint"]).to.contain("mandat de perquisition");
    // Nothing sealed, stored or queued.
    expect(await count(gb.context.store, "envelopes")).to.equal(envelopesBefore);
    expect(await count(gb.context.store, "cases")).to.equal(0);
    expect(await count(us.context.store, "cases")).to.equal(0);
    // Without Accept-Language the profile's own language.
    const english = await submit(example("mla-request", "valid-email-records"));
    expect(english.json.error.details.errors[0].language).to.equal("en");
  });

  it("delivers the fixed request; the routing header and the receipt name the profile version, and both clocks start", async function () {
    const answer = await submit(fixedRequest(), "fr");
    expect(answer.status, answer.text).to.equal(201);
    const { caseId, envelopeId } = answer.json as { caseId: string; envelopeId: string };
    const detail = await waitFor("GB to hold US's receipt", async () => {
      const view = await localRequest(network.gb.localPort, "GET", `/api/v1/cases/${caseId}`, { token: network.gb.tokens.caseworker });
      return view.json.envelopes[0].receipt === null ? undefined : view.json;
    });
    expect(claims(detail.envelopes[0].receipt).requirements).to.deep.equal({ version: 1, compliant: true });
    expect(detail.receivedAt).to.be.a("string");
    const [body] = await gb.context.store.inspect<{ wire: string }>("SELECT wire FROM envelope_bodies WHERE envelope_id = ?", [envelopeId]);
    expect(claims(`x.${JSON.parse(body!.wire).payload}.x`).requirements).to.equal(1);
    const atUs = await localRequest(network.us.localPort, "GET", `/api/v1/cases/${caseId}`, { token: network.us.tokens.caseworker });
    expect(atUs.json.receivedAt).to.equal(detail.receivedAt);
    const checked = await us.context.store.inspect<{ entry: string }>("SELECT entry FROM audit_entries WHERE kind = ? AND envelope_id = ?", ["requirements.checked", envelopeId]);
    expect(JSON.parse(checked[0]!.entry).details).to.deep.equal({ version: 1, compliant: true, failedRules: [] });
  });

  it("GB picks up US's new version: a request checked against the old one is answered with the version required, and GB fetches it", async function () {
    expect(await publish(network.us, usProfile(2, 60))).to.equal(2);
    // GB still holds version 1: its check passes and the request is sealed naming version 1.
    const answer = await submit(fixedRequest());
    expect(answer.status, answer.text).to.equal(201);
    const { caseId } = answer.json as { caseId: string };
    const failed = await waitFor("GB to give up on the outdated request", async () => {
      const view = await localRequest(network.gb.localPort, "GET", `/api/v1/cases/${caseId}`, { token: network.gb.tokens.caseworker });
      return view.json.envelopes[0].delivery.state === "failed" ? view.json.envelopes[0].delivery : undefined;
    });
    expect(failed.lastError).to.match(/^REQUIREMENTS_OUTDATED: /);
    expect(await count(us.context.store, "cases", "case_id = ?", caseId)).to.equal(0);
    const held = await waitFor("GB to hold version 2", async () => {
      const view = await localCall(network.gb.localPort, "GET", "/api/v1/requirements/peers/US-DOJ-OIA", network.gb.tokens.caseworker);
      return view.json.version === 2 ? view.json : undefined;
    });
    expect(held.versions).to.deep.equal([1, 2]);
    // The same request is now refused on the spot, under version 2.
    const again = await submit(fixedRequest());
    expect([again.status, again.json.error.code, again.json.error.details.requirements.version]).to.deep.equal([422, "REQUIREMENTS_NOT_MET", 2]);
  });

  it("receives a request that names the version in force but does not comply, with no clock running", async function () {
    const document = example("mla-request", "valid-email-records"); // 122 days of content: fails us-content-period
    const caseId = randomUUID();
    const gbPki = network.gb.pki();
    const sealed = await sealEnvelope({
      document,
      type: "mla-request",
      from: "GB-UKCA",
      to: "US-DOJ-OIA",
      caseId,
      priority: "normal",
      requirements: 2,
      signer: { privateKey: gbPki.loadPrivateKey("sign", PASSPHRASE), certificates: [gbPki.currentCertificate("sign"), gbPki.rootCertificate()] },
      recipient: { publicKey: network.us.pki().currentCertificate("encrypt").publicKey },
    });
    const delivered = await peerRequest(network.us.peerPort, "POST", "/peer/v1/envelopes", { credentials: network.gb.tlsCredentials(), ca: network.us.rootPem(), body: JSON.stringify(sealed.envelope) });
    expect(delivered.status, delivered.text).to.equal(201);
    expect(claims(delivered.json.receipt).requirements).to.deep.equal({ version: 2, compliant: false });
    const atUs = await localRequest(network.us.localPort, "GET", `/api/v1/cases/${caseId}`, { token: network.us.tokens.caseworker });
    expect(atUs.json.status).to.equal("received");
    expect(atUs.json.receivedAt).to.equal(null);
    // A redelivery gets the same word on compliance.
    const again = await peerRequest(network.us.peerPort, "POST", "/peer/v1/envelopes", { credentials: network.gb.tlsCredentials(), ca: network.us.rootPem(), body: JSON.stringify(sealed.envelope) });
    expect(claims(again.json.receipt).requirements).to.deep.equal({ version: 2, compliant: false });
  });

  it("refuses a request naming no version, or another one, with the version required, storing nothing", async function () {
    for (const requirements of [undefined, 1, 3]) {
      const gbPki = network.gb.pki();
      const sealed = await sealEnvelope({
        document: fixedRequest(),
        type: "mla-request",
        from: "GB-UKCA",
        to: "US-DOJ-OIA",
        caseId: randomUUID(),
        priority: "normal",
        ...(requirements === undefined ? {} : { requirements }),
        signer: { privateKey: gbPki.loadPrivateKey("sign", PASSPHRASE), certificates: [gbPki.currentCertificate("sign"), gbPki.rootCertificate()] },
        recipient: { publicKey: network.us.pki().currentCertificate("encrypt").publicKey },
      });
      const before = await count(us.context.store, "envelopes");
      const answer = await peerRequest(network.us.peerPort, "POST", "/peer/v1/envelopes", { credentials: network.gb.tlsCredentials(), ca: network.us.rootPem(), body: JSON.stringify(sealed.envelope) });
      expect([answer.status, answer.json.error.code]).to.deep.equal([422, "REQUIREMENTS_OUTDATED"]);
      expect(answer.json.error.details).to.deep.equal({ required: 2, checked: requirements ?? null });
      expect(await count(us.context.store, "envelopes")).to.equal(before);
    }
  });
});
