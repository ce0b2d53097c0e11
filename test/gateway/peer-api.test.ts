/**
 * The peer API's refusals with real sockets and real certificates: no
 * client certificate, a certificate of an unknown CA, a revoked client
 * certificate, and a valid certificate of one authority carrying an envelope
 * from another — each refused with nothing stored. Then redelivery: the same
 * id and bytes get the same receipt, the same id with other bytes a 409.
 */
import { join } from "node:path";
import { expect } from "chai";
import type { Gateway } from "../../gateway/gateway.js";
import { updatePeer } from "../../pki/peers.js";
import {
  count,
  createNetwork,
  example,
  localRequest,
  PASSPHRASE,
  peerRequest,
  sealFrom,
  tlsHandshake,
  trust,
  waitFor,
  type HttpAnswer,
  type TestAuthority,
  type TestNetwork,
  type TlsCredentials,
} from "./fixtures.js";

/** How a request that must be refused at the TLS layer ended (no HTTP answer expected). */
async function tlsFailure(attempt: Promise<HttpAnswer>): Promise<string> {
  try {
    const answer = await attempt;
    return `HTTP ${answer.status} ${String(answer.json?.error?.code)}`;
  } catch (error) {
    return `TLS ${String((error as NodeJS.ErrnoException).code)}`;
  }
}

describe("gateway peer API: mutual TLS refusals and redelivery", function () {
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway;
  let fr: TestAuthority; // a third authority US trusts
  let de: TestAuthority; // an authority nobody trusts
  let gbCredentials: TlsCredentials;
  const request = example("mla-request", "valid-email-records");
  const frRequest = { ...request, requestingAuthority: "FR-MJ-BEPI" };

  const usDb = () => us.context.store;
  const inbound = () => count(usDb(), "envelopes", "direction = 'inbound'");
  const usPeer = (body: Uint8Array | string | undefined, credentials: TlsCredentials | undefined, path = "/peer/v1/envelopes") =>
    peerRequest(network.us.peerPort, body === undefined ? "GET" : "POST", path, {
      ca: network.us.rootPem(),
      ...(credentials === undefined ? {} : { credentials }),
      ...(body === undefined ? {} : { body }),
    });

  before(async function () {
    network = await createNetwork();
    fr = await network.addAuthority("FR-MJ-BEPI");
    de = await network.addAuthority("DE-BFJ");
    await trust(network.us, fr);
    gb = network.gb.gateway();
    us = network.us.gateway();
    await gb.start();
    await us.start();
    gbCredentials = network.gb.tlsCredentials();
  });

  after(async function () {
    await gb?.stop();
    await us?.stop();
    network?.cleanup();
  });

  it("answers a peer with a valid certificate", async function () {
    expect(await tlsHandshake(network.us.peerPort, { ca: network.us.rootPem(), credentials: gbCredentials })).to.deep.equal({ accepted: true });
    const hello = await usPeer(undefined, gbCredentials, "/peer/v1/hello");
    expect(hello.status).to.equal(200);
    expect(hello.json.authority).to.equal("US-DOJ-OIA");
  });

  it("refuses a client without a certificate at the handshake, storing nothing", async function () {
    const sealed = await sealFrom(network.gb, network.us, request);
    expect(await tlsHandshake(network.us.peerPort, { ca: network.us.rootPem() })).to.deep.equal({ accepted: false, code: "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED" });
    expect(await tlsFailure(usPeer(sealed.bytes, undefined))).to.match(/^TLS /);
    expect(await inbound()).to.equal(0);
  });

  it("refuses a certificate from an unknown CA at the handshake, storing nothing", async function () {
    // Node checks the chain after OpenSSL's handshake and closes the socket (no alert, no session ticket).
    const outcome = await tlsHandshake(network.us.peerPort, { ca: network.us.rootPem(), credentials: de.tlsCredentials() });
    expect(outcome.accepted, JSON.stringify(outcome)).to.equal(false);
    const sealed = await sealFrom(de, network.us, { ...request, requestingAuthority: "DE-BFJ" });
    expect(await tlsFailure(usPeer(sealed.bytes, de.tlsCredentials()))).to.match(/^TLS /);
    expect(await inbound()).to.equal(0);
    const metrics = await localRequest(network.us.localPort, "GET", "/metrics");
    const refusals = /^valise_tls_handshake_refusals_total\{reason="handshake"\} (\d+)$/m.exec(metrics.text);
    expect(Number(refusals?.[1])).to.be.at.least(2);
  });

  it("refuses an envelope from FR over GB's valid certificate with 403 ENVELOPE_TLS_IDENTITY, storing nothing", async function () {
    const sealed = await sealFrom(fr, network.us, frRequest);
    const answer = await usPeer(sealed.bytes, gbCredentials);
    expect(answer.json.error.code, answer.text).to.equal("ENVELOPE_TLS_IDENTITY");
    expect(answer.status).to.equal(403);
    expect(await inbound()).to.equal(0);
    expect(await count(usDb(), "cases")).to.equal(0);
    // The same bytes over FR's own certificate are accepted: the TLS identity was the only fault.
    const own = await usPeer(sealed.bytes, fr.tlsCredentials());
    expect(own.status, own.text).to.equal(201);
    expect(own.json.envelopeId).to.equal(sealed.envelopeId);
    expect(await inbound()).to.equal(1);
  });

  it("refuses FR's client certificate once FR revokes it and US updates FR's bundle", async function () {
    const revokedCredentials = fr.tlsCredentials();
    const frPki = fr.pki();
    await frPki.revoke(frPki.currentCertificate("tls").serial, "keyCompromise", PASSPHRASE);
    await updatePeer(join(network.us.home, "peers"), await fr.bundle());

    // The gateway re-reads its peers within about a second; until then the old CRL lets the handshake through.
    const outcome = await waitFor(
      "US to refuse FR's revoked certificate at the handshake",
      async () => {
        const result = await tlsHandshake(network.us.peerPort, { ca: network.us.rootPem(), credentials: revokedCredentials });
        return result.accepted ? undefined : result;
      },
      5000,
      100,
    );
    expect(outcome.accepted).to.equal(false);

    const before = await inbound();
    const sealed = await sealFrom(fr, network.us, frRequest);
    expect(await tlsFailure(usPeer(sealed.bytes, revokedCredentials))).to.match(/^TLS /);
    expect(await inbound()).to.equal(before);
    expect(await count(usDb(), "envelopes", "envelope_id = ?", sealed.envelopeId)).to.equal(0);
  });

  describe("redelivery of an envelope US already holds", function () {
    let envelopeId: string;
    let wire: string;
    let receipt: string;

    before(async function () {
      const answer = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", { token: network.gb.tokens.caseworker, body: request });
      expect(answer.status, answer.text).to.equal(201);
      envelopeId = answer.json.envelopeId;
      const row = await waitFor("GB's delivery with a receipt", async () =>
        (
          await gb.context.store.inspect<{ wire: string; receipt: string }>(
            "SELECT b.wire, e.receipt FROM envelopes e JOIN envelope_bodies b ON b.envelope_id = e.envelope_id JOIN outbox o ON o.envelope_id = e.envelope_id WHERE e.envelope_id = ? AND o.state = 'delivered'",
            [envelopeId],
          )
        )[0],
      );
      wire = row.wire;
      receipt = row.receipt;
    });

    it("answers the same id and bytes with 200 and the same receipt, storing nothing new", async function () {
      const before = await inbound();
      const again = await usPeer(wire, gbCredentials);
      expect(again.status, again.text).to.equal(200);
      expect(again.json).to.deep.equal({ envelopeId, receipt });
      expect(await inbound()).to.equal(before);
    });

    it("refuses the same id with other bytes with 409 ENVELOPE_REPLAY, keeping the first", async function () {
      const storedRows = () => usDb().inspect<{ digest: string; wire: string }>("SELECT e.digest, b.wire FROM envelopes e JOIN envelope_bodies b ON b.envelope_id = e.envelope_id WHERE e.envelope_id = ?", [envelopeId]);
      const [stored] = await storedRows();
      const before = await inbound();
      const forged = await sealFrom(network.gb, network.us, request, { id: envelopeId });
      expect(forged.envelopeDigest).to.not.equal(stored!.digest);
      const answer = await usPeer(forged.bytes, gbCredentials);
      expect(answer.json.error.code, answer.text).to.equal("ENVELOPE_REPLAY");
      expect(answer.status).to.equal(409);
      expect(await inbound()).to.equal(before);
      expect(await storedRows()).to.deep.equal([stored]);
    });
  });
});
