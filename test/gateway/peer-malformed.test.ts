/**
 * Hostile bodies on POST /peer/v1/envelopes over valid mutual TLS (a peer's
 * gateway may be compromised or buggy): not JSON, JSON of the wrong shape,
 * over the 16 MiB limit, cut short, and trickled slowly. Each gets a coded
 * 4xx where an answer is possible, nothing is stored, and the gateway keeps
 * serving: a normal delivery still goes through.
 */
import https from "node:https";
import tls from "node:tls";
import { expect } from "chai";
import type { Gateway } from "../../gateway/gateway.js";
import { DEFAULT_ENVELOPE_LIMITS } from "../../gateway/envelope/limits.js";
import { count, createNetwork, example, localRequest, peerRequest, peerTlsOptions, waitFor, type HttpAnswer, type TestNetwork, type TlsCredentials } from "./fixtures.js";

/** What came back on a raw connection before it closed. */
interface RawExchange {
  readonly status: number | undefined;
  readonly body: string;
}

describe("gateway peer API: malformed bodies", function () {
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway;
  let credentials: TlsCredentials;
  let ca: string;
  const request = example("mla-request", "valid-email-records");

  const inbound = async () => (await count(us.context.store, "envelopes", "direction = 'inbound'"));
  const post = (body: string | Uint8Array, headers: Record<string, string> = {}): Promise<HttpAnswer> =>
    peerRequest(network.us.peerPort, "POST", "/peer/v1/envelopes", { ca, credentials, body, headers });

  /** Opens a mutual-TLS connection to US's peer API and lets `write` drive it; resolves with the answer when it closes. */
  const raw = (write: (socket: tls.TLSSocket) => void): Promise<RawExchange> =>
    new Promise((resolve, reject) => {
      const socket = tls.connect({ host: "127.0.0.1", port: network.us.peerPort, ca, cert: credentials.cert, key: credentials.key, passphrase: credentials.passphrase, minVersion: "TLSv1.3" });
      const chunks: Buffer[] = [];
      socket.on("secureConnect", () => write(socket));
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      socket.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code !== "ECONNRESET" && error.code !== "EPIPE") reject(error);
      });
      socket.on("close", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
        resolve({ status: status === undefined ? undefined : Number(status), body: text.slice(text.indexOf("\r\n\r\n") + 4) });
      });
    });

  /** Submits at GB and waits until US holds the envelope: the gateways still work. */
  const deliverOne = async (): Promise<void> => {
    const answer = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", { token: network.gb.tokens.caseworker, body: request });
    expect(answer.status, answer.text).to.equal(201);
    await waitFor("the envelope at US", async () => ((await count(us.context.store, "envelopes", "envelope_id = ?", answer.json.envelopeId)) === 1 ? true : undefined));
    await waitFor("GB's verified receipt", async () =>
      (await count(gb.context.store, "outbox", "envelope_id = ? AND state = 'delivered'", answer.json.envelopeId)) === 1 ? true : undefined,
    );
  };

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

  it("refuses a body that is not JSON with 400 ENVELOPE_MALFORMED", async function () {
    const answer = await post("this is not an envelope {");
    expect(answer.json?.error?.code, answer.text).to.equal("ENVELOPE_MALFORMED");
    expect(answer.status).to.equal(400);
    expect(await inbound()).to.equal(0);
  });

  it("refuses JSON of the wrong shape or types with 400 ENVELOPE_MALFORMED", async function () {
    for (const body of ['{"protected":5,"payload":[],"signature":null}', "[]", '"envelope"', "null", '{"protected":"","payload":"","signature":""}', "{}"]) {
      const answer = await post(body);
      expect(answer.json?.error?.code, `${body} → ${answer.text}`).to.equal("ENVELOPE_MALFORMED");
      expect(answer.status).to.equal(400);
    }
    const empty = await post("");
    expect(empty.json?.error?.code, empty.text).to.equal("ENVELOPE_MALFORMED");
    expect(empty.status).to.equal(400);
    expect(await inbound()).to.equal(0);
  });

  it("refuses a body over 16 MiB announced by Content-Length with 413 REQUEST_TOO_LARGE, without buffering it", async function () {
    const huge = Buffer.alloc(DEFAULT_ENVELOPE_LIMITS.maxEnvelopeBytes + 1024, 0x61);
    const answer = await post(huge);
    expect(answer.json?.error?.code, answer.text).to.equal("REQUEST_TOO_LARGE");
    expect(answer.status).to.equal(413);
    expect(await inbound()).to.equal(0);
  });

  it("cuts off a chunked body at 16 MiB with 413 REQUEST_TOO_LARGE", async function () {
    const answer = await new Promise<HttpAnswer>((resolve, reject) => {
      const req = https.request({ host: "127.0.0.1", port: network.us.peerPort, method: "POST", path: "/peer/v1/envelopes", ...peerTlsOptions({ ca, credentials }) }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: JSON.parse(text) });
        });
      });
      req.on("error", reject);
      const chunk = Buffer.alloc(1024 * 1024, 0x62);
      for (let i = 0; i < 17; i += 1) req.write(chunk);
      req.end();
    });
    expect(answer.json?.error?.code, answer.text).to.equal("REQUEST_TOO_LARGE");
    expect(answer.status).to.equal(413);
    expect(await inbound()).to.equal(0);
  });

  it("handles a body cut short (Content-Length larger than sent, then the socket ends) without storing it", async function () {
    const before = await localRequest(network.us.localPort, "GET", "/metrics");
    const rejected = (text: string): number => Number(/^valise_envelopes_rejected_total\{code="REQUEST_MALFORMED"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    const exchange = await raw((socket) => {
      socket.write(`POST /peer/v1/envelopes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"protected":"eyJhbGciOiJFZERTQSJ9","payload":"`);
      setTimeout(() => socket.end(), 50);
    });
    // The half-closed client still reads the coded answer.
    expect(exchange.status, exchange.body).to.equal(400);
    expect((JSON.parse(exchange.body) as { error: { code: string } }).error.code).to.equal("REQUEST_MALFORMED");
    await waitFor("the truncated body to be counted as rejected", async () => {
      const after = await localRequest(network.us.localPort, "GET", "/metrics");
      return rejected(after.text) > rejected(before.text) ? true : undefined;
    });
    expect(await inbound()).to.equal(0);
  });

  it("refuses headers over Node's limit with a coded 413, before any route runs", async function () {
    const exchange = await raw((socket) => {
      socket.write(`POST /peer/v1/envelopes HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${"p".repeat(20_000)}\r\nContent-Length: 2\r\n\r\n{}`);
    });
    expect(exchange.status, exchange.body).to.equal(413);
    expect((JSON.parse(exchange.body) as { error: { code: string } }).error.code).to.equal("REQUEST_TOO_LARGE");
    expect(await inbound()).to.equal(0);
  });

  it("keeps serving other peers and deliveries while a body trickles in slowly", async function () {
    let trickle: NodeJS.Timeout | undefined;
    let slowSocket: tls.TLSSocket | undefined;
    const slow = raw((socket) => {
      slowSocket = socket;
      socket.write("POST /peer/v1/envelopes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{");
      trickle = setInterval(() => socket.write(" "), 100);
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300)); // the slow request is in progress
      const hello = await peerRequest(network.us.peerPort, "GET", "/peer/v1/hello", { ca, credentials });
      expect(hello.status).to.equal(200);
      await deliverOne();
      const health = await localRequest(network.us.localPort, "GET", "/healthz");
      expect(health.status).to.equal(200);
      expect(slowSocket?.destroyed, "the slow request is still pending").to.equal(false);
    } finally {
      clearInterval(trickle);
      slowSocket?.destroy();
    }
    const exchange = await slow;
    expect(exchange.status).to.equal(undefined); // cut by the client: no answer, nothing stored
    expect(await inbound()).to.equal(1);
  });

  it("still delivers a normal envelope after all of the above", async function () {
    await deliverOne();
    expect(await inbound()).to.equal(2);
    const rejectedCodes = await localRequest(network.us.localPort, "GET", "/metrics");
    expect(rejectedCodes.text).to.match(/^valise_envelopes_rejected_total\{code="ENVELOPE_MALFORMED"\} [1-9]\d*$/m);
  });
});
