/**
 * The receiver checks what it stores (issue 10, "Trust fixes"): a document
 * must be of its envelope type's kind, and a request's parties and urgency
 * must agree with the routing header; internal document types and unknown
 * types are refused with a code, not stored or answered 5xx. Both APIs answer
 * bad %-encoding and garbage compressed bodies with a coded 4xx; concurrent
 * deliveries of one envelope all get its receipt; error answers are bounded.
 * Real gateways, real certificates, mutual TLS.
 */
import http from "node:http";
import { randomUUID } from "node:crypto";
import { expect } from "chai";
import type { Gateway } from "../../gateway/gateway.js";
import type { Priority } from "../../gateway/envelope/types.js";
import { count, createNetwork, example, localRequest, peerRequest, sealFrom, type HttpAnswer, type TestNetwork, type TlsCredentials } from "./fixtures.js";

describe("gateway receiver: documents checked against their envelope", function () {
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway;
  let credentials: TlsCredentials;
  let ca: string;
  const request = example("mla-request", "valid-email-records");

  const usDb = () => us.context.store;
  const inbound = () => count(usDb(), "envelopes", "direction = 'inbound'");
  const deliver = (body: Uint8Array | string, path = "/peer/v1/envelopes", headers: Record<string, string> = {}): Promise<HttpAnswer> =>
    peerRequest(network.us.peerPort, "POST", path, { ca, credentials, body, headers });
  const sealToUs = (document: Record<string, unknown>, options: { caseId?: string; type?: string; priority?: Priority } = {}) => sealFrom(network.gb, network.us, document, options);

  /** Delivers `document` and expects a 4xx `code` with nothing stored. */
  async function refused(document: Record<string, unknown>, code: string, options: { caseId?: string; type?: string; priority?: Priority } = {}): Promise<HttpAnswer> {
    const before = { envelopes: await inbound(), cases: await count(usDb(), "cases"), audit: await count(usDb(), "audit_entries") };
    const answer = await deliver((await sealToUs(document, options)).bytes);
    expect(answer.json?.error?.code, answer.text).to.equal(code);
    expect(answer.status).to.be.within(400, 499);
    expect({ envelopes: await inbound(), cases: await count(usDb(), "cases"), audit: await count(usDb(), "audit_entries") }).to.deep.equal(before);
    return answer;
  }

  before(async function () {
    network = await createNetwork();
    gb = network.gb.gateway();
    us = network.us.gateway();
    await gb.start();
    await us.start();
    credentials = network.gb.tlsCredentials();
    ca = network.us.rootPem();
  });

  after(async function () {
    await gb?.stop();
    await us?.stop();
    network?.cleanup();
  });

  describe("parties and urgency", function () {
    it("refuses a requestingAuthority that is not the sender (422 ENVELOPE_PARTY_MISMATCH)", async function () {
      const answer = await refused({ ...request, requestingAuthority: "FR-MJ-BEPI" }, "ENVELOPE_PARTY_MISMATCH");
      expect(answer.status).to.equal(422);
      expect(answer.json.error.details).to.include({ field: "requestingAuthority", document: "FR-MJ-BEPI", header: "GB-UKCA" });
    });

    it("refuses a requestedAuthority of another state (422 ENVELOPE_PARTY_MISMATCH)", async function () {
      const answer = await refused({ ...request, requestedAuthority: "DE-BFJ" }, "ENVELOPE_PARTY_MISMATCH");
      expect(answer.json.error.details).to.include({ field: "requestedAuthority", document: "DE-BFJ", header: "US-DOJ-OIA" });
    });

    it("refuses an urgency other than the routing priority, both ways (422 ENVELOPE_URGENCY_MISMATCH)", async function () {
      const emergency = { ...request, urgency: { level: "emergency", reason: "A child is missing and the account is the only lead we have." } };
      const routedNormal = await refused(emergency, "ENVELOPE_URGENCY_MISMATCH", { priority: "normal" });
      expect(routedNormal.json.error.details).to.deep.equal({ document: "emergency", header: "normal" });
      await refused(request, "ENVELOPE_URGENCY_MISMATCH", { priority: "emergency" });
    });

    it("still accepts a request whose parties and urgency agree with its header", async function () {
      const answer = await deliver((await sealToUs(request)).bytes);
      expect(answer.status, answer.text).to.equal(201);
    });
  });

  describe("document types", function () {
    let caseId: string;

    before(async function () {
      caseId = randomUUID();
      const opened = await deliver((await sealToUs(request, { caseId })).bytes);
      expect(opened.status, opened.text).to.equal(201);
    });

    it("refuses the five internal document types in a shared case (422 ENVELOPE_DOCUMENT_TYPE_NOT_ALLOWED)", async function () {
      const internal: Array<[string, Record<string, unknown>]> = [
        ["receipt", example("receipt", "valid-with-log")],
        ["audit-entry", example("audit-entry", "valid-envelope-received")],
        ["trust-bundle", (await network.gb.bundle()) as unknown as Record<string, unknown>],
        ["envelope", example("envelope", "valid-request")],
        ["audit-export", example("audit-export", "valid-us-log-after-one-request")],
      ];
      for (const [type, document] of internal) {
        const answer = await refused(document, "ENVELOPE_DOCUMENT_TYPE_NOT_ALLOWED", { caseId, type });
        expect(answer.status, type).to.equal(422);
        expect(answer.json.error.details.type, type).to.equal(type);
      }
    });

    it("refuses an unknown type with a code, not a 5xx", async function () {
      for (const type of ["no-such-type", "common", "x"]) {
        const answer = await refused({ ...request, kind: type }, "ENVELOPE_DOCUMENT_TYPE_NOT_ALLOWED", { caseId, type });
        expect(answer.status, type).to.equal(422);
      }
    });

    it("refuses a document of another kind than its envelope type", async function () {
      const answer = await refused(example("receipt", "valid-with-log"), "ENVELOPE_DOCUMENT_TYPE_NOT_ALLOWED", { type: "mla-request" });
      expect(answer.json.error.details).to.include({ type: "mla-request" });
      await refused({ ...example("preservation-request", "valid-email-account") }, "ENVELOPE_DOCUMENT_TYPE_NOT_ALLOWED", { type: "mla-request", priority: "urgent" });
    });
  });

  describe("malformed HTTP on both APIs", function () {
    const badPaths = ["/%ZZ", "/%E0%A4%A", "/%", "/%C0%AF", "/a%2", "/%ED%A0%80"];

    it("answers malformed %-encoding in a path parameter with 400 REQUEST_PATH_MALFORMED", async function () {
      for (const bad of badPaths) {
        const peer = await peerRequest(network.us.peerPort, "GET", `/peer/v1/evidence${bad}/x`, { ca, credentials });
        expect(`${peer.status} ${String(peer.json?.error?.code)}`, `peer ${bad}`).to.match(/^4\d\d (REQUEST_PATH_MALFORMED|NOT_FOUND)$/);
        const put = await peerRequest(network.us.peerPort, "PUT", `/peer/v1/evidence${bad}/${randomUUID()}`, { ca, credentials, body: "x" });
        expect(`${put.status} ${String(put.json?.error?.code)}`, `peer PUT ${bad}`).to.equal("400 REQUEST_PATH_MALFORMED");
        for (const path of [`/api/v1/cases${bad}`, `/api/v1/cases${bad}/documents/x`, `/api/v1/audit/custody${bad}`]) {
          const local = await localRequest(network.us.localPort, "GET", path, { token: network.us.tokens.caseworker });
          const auditor = await localRequest(network.us.localPort, "GET", path, { token: network.us.tokens.auditor });
          for (const answer of [local, auditor]) expect(answer.status, `${path} ${answer.text}`).to.be.below(500);
        }
        const caseworker = await localRequest(network.us.localPort, "GET", `/api/v1/cases${bad}`, { token: network.us.tokens.caseworker });
        expect(`${caseworker.status} ${String(caseworker.json?.error?.code)}`, bad).to.equal("400 REQUEST_PATH_MALFORMED");
      }
    });

    it("answers garbage gzip, deflate and br bodies with 400 REQUEST_ENCODING_INVALID, storing nothing", async function () {
      const before = await inbound();
      for (const encoding of ["gzip", "deflate", "br"]) {
        const headers = { "content-encoding": encoding };
        const peer = await deliver(Buffer.from("definitely not compressed"), "/peer/v1/envelopes", headers);
        expect(`${peer.status} ${String(peer.json?.error?.code)}`, `peer ${encoding}`).to.equal("400 REQUEST_ENCODING_INVALID");
        const local = await rawLocal(network.us.localPort, "/api/v1/requests", network.us.tokens.caseworker, Buffer.from("\x1f\x8b garbage"), headers);
        expect(`${local.status} ${String(local.json?.error?.code)}`, `local ${encoding}`).to.equal("400 REQUEST_ENCODING_INVALID");
      }
      expect(await inbound()).to.equal(before);
    });
  });

  it("gives concurrent deliveries of one request the same receipt, over separate TLS connections", async function () {
    const sealed = await sealToUs(request);
    const answers = await Promise.all(Array.from({ length: 24 }, () => deliver(sealed.bytes)));
    const statuses = answers.map((a) => `${a.status} ${String(a.json?.error?.code ?? "")}`);
    expect(statuses.filter((s) => !s.startsWith("200") && !s.startsWith("201")), statuses.join(", ")).to.deep.equal([]);
    expect(answers.filter((a) => a.status === 201)).to.have.length(1);
    expect(new Set(answers.map((a) => a.json.receipt)).size).to.equal(1);
    expect(await count(usDb(), "envelopes", "envelope_id = ?", sealed.envelopeId)).to.equal(1);
    expect(await count(usDb(), "cases", "case_id = ?", sealed.header.caseId)).to.equal(1);
  });

  it("bounds the error answer to a large invalid request, saying how many errors were left out", async function () {
    const persons = Array.from({ length: 8000 }, (_, i) => ({ role: "nobody", name: `p${i}`, extra: "x".repeat(100) }));
    const body = { ...request, persons, offence: { description: "y".repeat(20_000) } };
    const size = Buffer.byteLength(JSON.stringify(body));
    expect(size).to.be.above(1_000_000);
    const answer = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", { token: network.gb.tokens.caseworker, body });
    expect(answer.status, answer.text.slice(0, 300)).to.equal(422);
    expect(answer.json.error.code).to.equal("DOCUMENT_INVALID");
    expect(answer.json.error.details.errors).to.have.length(50);
    expect(answer.json.error.details.errorsOmitted).to.be.above(1000);
    expect(Buffer.byteLength(answer.text)).to.be.below(64 * 1024);
  });
});

/** A POST to the local API with a raw body and extra headers. */
function rawLocal(port: number, path: string, token: string, body: Buffer, headers: Record<string, string>): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method: "POST", path, agent: false, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": String(body.length), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
