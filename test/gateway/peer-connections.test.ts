/**
 * Connections of the peer and local APIs over real sockets: a keep-alive
 * TLS connection opened before its client certificate was revoked is closed
 * once the peer's new CRL arrives; every refused envelope is logged at warn
 * with the peer, the code and the envelope id; idle connections (no
 * handshake, no request, or nothing after a response) are closed after the
 * configured idle time.
 */
import net from "node:net";
import tls from "node:tls";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { createGateway, type Gateway } from "../../gateway/gateway.js";
import { updatePeer } from "../../pki/peers.js";
import { createNetwork, example, FAST_DELIVERY, PASSPHRASE, peerRequest, sealFrom, trust, waitFor, type TestAuthority, type TestNetwork } from "./fixtures.js";
import { captureLogger, type LogLine } from "./log-capture.js";

/** Sets the idle timeouts of `authority`'s APIs in its valise.json. */
function setIdleTimeouts(authority: TestAuthority, peerSeconds: number, localSeconds: number): void {
  const file = join(authority.home, "valise.json");
  const config = JSON.parse(readFileSync(file, "utf8")) as { peerApi: object; localApi: object };
  config.peerApi = { ...config.peerApi, idleTimeoutSeconds: peerSeconds };
  config.localApi = { ...config.localApi, idleTimeoutSeconds: localSeconds };
  writeFileSync(file, JSON.stringify(config, null, 2));
}

/** A socket and whether it has closed. */
function watched<T extends net.Socket>(socket: T): { socket: T; closed: () => true | undefined } {
  let closed = false;
  socket.on("close", () => {
    closed = true;
  });
  socket.on("error", () => undefined); // a reset is a close too
  return { socket, closed: () => (closed ? true : undefined) };
}

/** A mutual-TLS connection to `server`'s peer API as `client`, handshake done. */
async function peerConnection(server: TestAuthority, client: TestAuthority): Promise<tls.TLSSocket> {
  const socket = tls.connect({ host: "127.0.0.1", port: server.peerPort, ca: server.rootPem(), ...client.tlsCredentials(), minVersion: "TLSv1.3" });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", () => resolve());
    socket.once("error", reject);
  });
  return socket;
}

/** Sends one keep-alive GET on `socket` and resolves with the status line of the answer. */
function keepAliveGet(socket: net.Socket, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer): void => {
      text += chunk.toString("utf8");
      const head = text.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(text);
      if (head >= 0 && length !== null && text.length >= head + 4 + Number(length[1])) {
        socket.off("data", onData);
        resolve(text.slice(0, text.indexOf("\r\n")));
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
  });
}

describe("gateway peer API: live connections and refusals", function () {
  let network: TestNetwork;
  let fr: TestAuthority;
  let us: Gateway;
  let lines: LogLine[];

  before(async function () {
    network = await createNetwork();
    fr = await network.addAuthority("FR-MJ-BEPI");
    await trust(network.us, fr);
    // Idle connections are held long here: only a revocation may close them.
    setIdleTimeouts(network.us, 600, 600);
    const captured = captureLogger(network.us.authority);
    lines = captured.lines;
    us = createGateway({ home: network.us.home, passphrase: PASSPHRASE, logger: captured.logger, delivery: FAST_DELIVERY, trustRefreshMs: 0 });
    await us.start();
  });

  after(async function () {
    await us?.stop();
    network?.cleanup();
  });

  it("closes a keep-alive connection once its client certificate is revoked and the peer's bundle updated", async function () {
    const connection = watched(await peerConnection(network.us, fr));
    expect(await keepAliveGet(connection.socket, "/peer/v1/hello")).to.equal("HTTP/1.1 200 OK");
    expect(await keepAliveGet(connection.socket, "/peer/v1/hello")).to.equal("HTTP/1.1 200 OK");

    const frPki = fr.pki();
    await frPki.revoke(frPki.currentCertificate("tls").serial, "keyCompromise", PASSPHRASE);
    await updatePeer(join(network.us.home, "peers"), await fr.bundle()); // as valise peers update does

    await waitFor("US to close FR's connection", connection.closed);
    const closing = lines.find((line) => line.message === "closed a peer connection whose certificate no longer validates");
    expect(closing).to.include({ level: "warn", peer: "FR-MJ-BEPI", code: "PEER_TLS_IDENTITY", pkiCode: "PKI_CERT_REVOKED" });
  });

  it("logs every refused envelope at warn with the peer, the code and the envelope id", async function () {
    const request = example("mla-request", "valid-email-records");
    const post = (body: Uint8Array | string, client: TestAuthority) =>
      peerRequest(network.us.peerPort, "POST", "/peer/v1/envelopes", { ca: network.us.rootPem(), credentials: client.tlsCredentials(), body });
    const refusals = () => lines.filter((line) => line.message === "envelope refused");

    // Signed by a key GB revoked, once US holds GB's new CRL.
    const sealed = await sealFrom(network.gb, network.us, request);
    const gbPki = network.gb.pki();
    await gbPki.revoke(gbPki.currentCertificate("sign").serial, "keyCompromise", PASSPHRASE);
    await gbPki.rotate("sign", PASSPHRASE);
    await updatePeer(join(network.us.home, "peers"), await network.gb.bundle());
    us.context.peers.refresh(true);
    const revoked = await post(sealed.bytes, network.gb);
    expect(revoked.json.error.code, revoked.text).to.equal("ENVELOPE_SIGNER_REVOKED");

    // Not JSON at all: no envelope id to name.
    const malformed = await post("not an envelope", network.gb);
    expect(malformed.json.error.code).to.equal("ENVELOPE_MALFORMED");

    // Another authority's envelope over GB's certificate.
    const foreign = await sealFrom(fr, network.us, { ...request, requestingAuthority: "FR-MJ-BEPI" });
    const mismatch = await post(foreign.bytes, network.gb);
    expect(mismatch.json.error.code).to.equal("ENVELOPE_TLS_IDENTITY");

    expect(refusals().map((line) => ({ level: line.level, peer: line["peer"], code: line["code"], envelopeId: line["envelopeId"] }))).to.deep.equal([
      { level: "warn", peer: "GB-UKCA", code: "ENVELOPE_SIGNER_REVOKED", envelopeId: sealed.envelopeId },
      { level: "warn", peer: "GB-UKCA", code: "ENVELOPE_MALFORMED", envelopeId: null },
      { level: "warn", peer: "GB-UKCA", code: "ENVELOPE_TLS_IDENTITY", envelopeId: foreign.envelopeId },
    ]);
  });
});

describe("gateway APIs: idle connections are closed", function () {
  let network: TestNetwork;
  let gb: Gateway;

  before(async function () {
    network = await createNetwork();
    setIdleTimeouts(network.gb, 1, 1);
    gb = network.gb.gateway();
    await gb.start();
  });

  after(async function () {
    await gb?.stop();
    network?.cleanup();
  });

  it("closes a TCP connection to the peer API that never completes a TLS handshake", async function () {
    const connection = watched(net.connect(network.gb.peerPort, "127.0.0.1"));
    await waitFor("the peer API to close the connection", connection.closed);
  });

  it("closes a mutual-TLS connection that never sends a request, and one idle after a response", async function () {
    const silent = watched(await peerConnection(network.gb, network.us));
    const used = watched(await peerConnection(network.gb, network.us));
    expect(await keepAliveGet(used.socket, "/peer/v1/hello")).to.equal("HTTP/1.1 200 OK");
    await waitFor("the peer API to close the silent connection", silent.closed);
    await waitFor("the peer API to close the idle keep-alive connection", used.closed);
  });

  it("closes a local API connection that never sends a request, and one idle after a response", async function () {
    const silent = watched(net.connect(network.gb.localPort, "127.0.0.1"));
    const used = watched(net.connect(network.gb.localPort, "127.0.0.1"));
    await new Promise((resolve) => used.socket.once("connect", resolve));
    expect(await keepAliveGet(used.socket, "/healthz")).to.equal("HTTP/1.1 200 OK");
    await waitFor("the local API to close the silent connection", silent.closed);
    await waitFor("the local API to close the idle keep-alive connection", used.closed);
  });
});
