/**
 * A running gateway follows its own PKI: `valise pki rotate|revoke`, run
 * while GB's gateway runs (as a separate process in the first test, in this
 * process after that: they share only the home folder either way), reach
 * the gateway without a restart. It never seals with a revoked sign key (it seals with the rotated
 * one, or refuses with OWN_SIGNER_UNUSABLE), presents a rotated tls
 * certificate as server and as client, and its health turns `degraded` for
 * a revoked or expired certificate of its own.
 */
import tls from "node:tls";
import { join } from "node:path";
import { expect } from "chai";
import { createGateway, type Gateway } from "../../gateway/gateway.js";
import { createLogger } from "../../gateway/log.js";
import { updatePeer } from "../../pki/peers.js";
import { jwkThumbprint } from "../../pki/keys.js";
import { parseCertificateDer } from "../../pki/certificate.js";
import { count, example, FAST_DELIVERY, localRequest, PASSPHRASE, peerRequest, sealFrom, waitFor, type TestAuthority, type TestNetwork, startNetwork, stopNetwork } from "./fixtures.js";
import { valiseOk } from "./cli-process.js";
import { valise } from "../scripts/cli-helpers.js";

const request = example("mla-request", "valid-email-records");

/** `valise …args --json` run in this process (a child process costs seconds per command); its JSON output. */
async function operator(args: readonly string[]): Promise<any> {
  const run = await valise([...args, "--json"], { VALISE_PASSPHRASE: PASSPHRASE });
  if (run.exit !== 0) throw new Error(`valise ${args.join(" ")} exited ${run.exit}: ${run.stdout}${run.stderr}`);
  return run.json();
}

/** `receiver` takes `sender`'s current bundle, as `valise peers update` does, and its gateway re-reads its peers now. */
async function peersUpdate(receiver: TestAuthority, gateway: Gateway, sender: TestAuthority): Promise<void> {
  await updatePeer(join(receiver.home, "peers"), await sender.bundle());
  gateway.context.peers.refresh(true);
}

/** The serial of the certificate a TLS server presents. */
function servedSerial(port: number, client: TestAuthority, server: TestAuthority): Promise<string> {
  return new Promise((resolve, reject) => {
    const credentials = client.tlsCredentials();
    const socket = tls.connect({ host: "127.0.0.1", port, ca: server.rootPem(), ...credentials, minVersion: "TLSv1.3" }, () => {
      const serial = parseCertificateDer(socket.getPeerCertificate().raw).serial;
      socket.destroy();
      resolve(serial);
    });
    socket.once("error", reject);
  });
}

describe("gateway: a running gateway follows its own PKI", function () {
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway;

  const health = async (authority: TestAuthority) => (await localRequest(authority.localPort, "GET", "/api/v1/health", { token: authority.tokens.operator })).json;
  const ownSign = async (authority: TestAuthority) => (await health(authority)).identity.find((c: { use: string }) => c.use === "sign");
  const submit = (authority: TestAuthority, body: Record<string, unknown> = request) =>
    localRequest(authority.localPort, "POST", "/api/v1/requests", { token: authority.tokens.caseworker, body });
  const delivered = (caseId: string) =>
    waitFor(`case ${caseId} to be received by US`, async () => {
      const answer = await localRequest(network.gb.localPort, "GET", `/api/v1/cases/${caseId}`, { token: network.gb.tokens.caseworker });
      return answer.json.status === "received" ? answer.json : undefined;
    });

  before(async function () {
    ({ network, gb, us } = await startNetwork());
  });

  after(() => stopNetwork({ network, gb, us }));

  it("seals with the rotated sign key once the old one is revoked (keyCompromise), and the peer accepts it", async function () {
    const old = network.gb.pki().currentCertificate("sign").serial;
    const rotated = (await operator(["pki", "rotate", "sign", "--home", network.gb.home])).rotated as { serial: string };
    await valiseOk(["pki", "revoke", old, "--reason", "keyCompromise", "--home", network.gb.home]); // a separate process
    await peersUpdate(network.us, us, network.gb); // US now refuses the old key

    const submitted = await submit(network.gb);
    expect(submitted.status, submitted.text).to.equal(201);
    const detail = await delivered(submitted.json.caseId);
    expect(detail.envelopes[0].envelopeId).to.equal(submitted.json.envelopeId);

    const newKid = await jwkThumbprint(network.gb.pki().currentCertificate("sign").publicKey);
    const sent = (await gb.context.store.inspect("SELECT signer_kid FROM envelopes WHERE envelope_id = ?", [submitted.json.envelopeId]))[0] as { signer_kid: string };
    expect(sent.signer_kid).to.equal(newKid);
    const received = (await us.context.store.inspect("SELECT signer_kid FROM envelopes WHERE envelope_id = ?", [submitted.json.envelopeId]))[0] as { signer_kid: string };
    expect(received.signer_kid).to.equal(newKid);

    const view = await health(network.gb);
    expect(view.identity.find((c: { use: string }) => c.use === "sign")).to.include({ serial: rotated.serial, status: "ok" });
    expect(view.status).to.equal("ok");
    // The reload is in the audit log, naming the serials in use.
    const reloads = (await gb.context.store.inspect("SELECT entry FROM audit_entries WHERE kind = 'identity.reloaded' ORDER BY idx", [])) as Array<{ entry: string }>;
    expect(reloads.map((row) => JSON.parse(row.entry).details.serials.sign)).to.include(rotated.serial);
  });

  it("refuses to seal (503 OWN_SIGNER_UNUSABLE, nothing stored) and reports degraded while its sign key is revoked and not replaced", async function () {
    const current = network.gb.pki().currentCertificate("sign").serial;
    await operator(["pki", "revoke", current, "--reason", "keyCompromise", "--home", network.gb.home]);

    // No wait: the key is checked against the CRL on disk before every seal.
    const envelopes = await count(gb.context.store, "envelopes");
    const refused = await submit(network.gb);
    expect(refused.status, refused.text).to.equal(503);
    expect(refused.json.error.code).to.equal("OWN_SIGNER_UNUSABLE");
    expect(refused.json.error.details).to.include({ reason: "revoked", serial: current });
    expect(await count(gb.context.store, "envelopes")).to.equal(envelopes);

    // Receiving needs a receipt signed by that key: refused before anything is stored.
    const inbound = await sealFrom(network.us, network.gb, { ...request, requestingAuthority: "US-DOJ-OIA", requestedAuthority: "GB-UKCA" });
    const answer = await peerRequest(network.gb.peerPort, "POST", "/peer/v1/envelopes", { ca: network.gb.rootPem(), credentials: network.us.tlsCredentials(), body: inbound.bytes });
    expect(answer.status, answer.text).to.equal(503);
    expect(answer.json.error.code).to.equal("OWN_SIGNER_UNUSABLE");
    expect(await count(gb.context.store, "envelopes", "envelope_id = ?", inbound.envelopeId)).to.equal(0);

    const view = await health(network.gb);
    expect(view.status).to.equal("degraded");
    expect(view.identity.find((c: { use: string }) => c.use === "sign")).to.include({ serial: current, status: "revoked" });

    // A rotation brings it back, still without a restart.
    const rotated = (await operator(["pki", "rotate", "sign", "--home", network.gb.home])).rotated as { serial: string };
    await waitFor("GB to load the rotated sign key", async () => ((await ownSign(network.gb)).serial === rotated.serial ? true : undefined));
    await peersUpdate(network.us, us, network.gb);
    const submitted = await submit(network.gb);
    expect(submitted.status, submitted.text).to.equal(201);
    await delivered(submitted.json.caseId);
    expect((await health(network.gb)).status).to.equal("ok");
  });

  it("presents a rotated tls certificate as server and as client; the old one, revoked, is refused by the peer", async function () {
    // US rotates its tls certificate: new connections to US see the new one.
    const usOld = network.us.pki().currentCertificate("tls").serial;
    expect(await servedSerial(network.us.peerPort, network.gb, network.us)).to.equal(usOld);
    const usNew = (await operator(["pki", "rotate", "tls", "--home", network.us.home])).rotated as { serial: string };
    await waitFor("US to serve its rotated tls certificate", async () => ((await servedSerial(network.us.peerPort, network.gb, network.us)) === usNew.serial ? true : undefined));

    // GB rotates and revokes its old tls certificate; US learns the revocation.
    const gbOld = network.gb.pki().currentCertificate("tls").serial;
    const gbNew = (await operator(["pki", "rotate", "tls", "--home", network.gb.home])).rotated as { serial: string };
    await operator(["pki", "revoke", gbOld, "--reason", "keyCompromise", "--home", network.gb.home]);
    await waitFor("GB to load its rotated tls certificate", async () =>
      (await health(network.gb)).identity.find((c: { use: string }) => c.use === "tls").serial === gbNew.serial ? true : undefined,
    );
    await peersUpdate(network.us, us, network.gb);
    await peersUpdate(network.gb, gb, network.us);

    // GB's delivery client presents the new certificate: US (which refuses the old one) accepts it.
    const submitted = await submit(network.gb);
    expect(submitted.status, submitted.text).to.equal(201);
    await delivered(submitted.json.caseId);
    const view = await health(network.gb);
    expect(view.identity.every((c: { status: string }) => c.status === "ok"), JSON.stringify(view.identity)).to.equal(true);
  });

  it("reports an expired own certificate as degraded and does not sign with it", async function () {
    const fr = await network.addAuthority("FR-MJ-BEPI");
    const notAfter = fr.pki().currentCertificate("sign").notAfter;
    const later = new Date(notAfter.getTime() + 24 * 3600 * 1000);
    const gateway = createGateway({
      home: fr.home,
      passphrase: PASSPHRASE,
      now: () => later,
      logger: createLogger({ authority: fr.authority, silent: true }),
      delivery: FAST_DELIVERY,
      trustRefreshMs: 0,
    });
    await gateway.start();
    try {
      const view = (await localRequest(fr.localPort, "GET", "/api/v1/health", { token: fr.tokens.operator })).json;
      expect(view.status).to.equal("degraded");
      expect(view.identity.find((c: { use: string }) => c.use === "sign")).to.include({ status: "expired" });
      expect(() => gateway.context.identity.signer).to.throw().with.property("code", "OWN_SIGNER_UNUSABLE");
    } finally {
      await gateway.stop();
    }
  });
});
