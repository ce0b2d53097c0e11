/**
 * What an operator sees of a running gateway: a request id on every local
 * and peer API request (the caller's X-Request-Id or traceparent when
 * usable) in the answer and in one access log line, never the token; the
 * build version in health and /metrics; per-peer delivery metrics.
 */
import { PassThrough } from "node:stream";
import { expect } from "chai";
import { createGateway, type Gateway } from "../../gateway/gateway.js";
import { createLogger } from "../../gateway/log.js";
import { buildInfo } from "../../gateway/build-info.js";
import { createNetwork, example, FAST_DELIVERY, localRequest, PASSPHRASE, peerRequest, waitFor, type TestNetwork } from "./fixtures.js";

interface LogLine {
  message: string;
  [field: string]: unknown;
}

describe("observability: request ids, access log, metrics, version", function () {
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway;
  const lines: LogLine[] = [];
  const raw: string[] = [];

  before(async function () {
    network = await createNetwork();
    const stream = new PassThrough();
    stream.setEncoding("utf8").on("data", (chunk: string) => {
      for (const line of chunk.split("\n").filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as LogLine);
      }
    });
    gb = createGateway({ home: network.gb.home, passphrase: PASSPHRASE, logger: createLogger({ authority: "GB-UKCA", stream, level: "info" }), delivery: FAST_DELIVERY });
    us = network.us.gateway();
    await gb.start();
    await us.start();
  });

  after(async function () {
    await gb?.stop();
    await us?.stop();
    network?.cleanup();
  });

  const call = (path: string, headers: Record<string, string>): Promise<Response> =>
    fetch(`http://127.0.0.1:${network.gb.localPort}${path}`, { headers: { authorization: `Bearer ${network.gb.tokens.caseworker}`, ...headers } });
  const accessLine = (requestId: string): Promise<LogLine> => waitFor(`the access line of ${requestId}`, () => lines.find((l) => l.message === "request" && l.requestId === requestId));

  it("takes the caller's X-Request-Id, answers it, and logs one access line without the token", async function () {
    const answer = await call("/api/v1/cases?status=submitted", { "x-request-id": "case-system-42" });
    expect(answer.status).to.equal(200);
    expect(answer.headers.get("x-request-id")).to.equal("case-system-42");
    const line = await accessLine("case-system-42");
    expect(line).to.include({ api: "local", method: "GET", path: "/api/v1/cases", status: 200 });
    expect(line["tokenId"]).to.be.a("string");
    expect(line["durationMs"]).to.be.a("number");
    expect(raw.join("\n")).to.not.contain(network.gb.tokens.caseworker);
    expect(lines.filter((l) => l.requestId === "case-system-42" && l.message === "request")).to.have.length(1);
  });

  it("takes a traceparent's trace id, and makes one up for an unusable header", async function () {
    const traced = await call("/api/v1/cases", { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" });
    expect(traced.headers.get("x-request-id")).to.equal("4bf92f3577b34da6a3ce929d0e0e4736");
    await accessLine("4bf92f3577b34da6a3ce929d0e0e4736");
    const hostile = await call("/api/v1/cases", { "x-request-id": 'x", "level":"error' });
    const made = hostile.headers.get("x-request-id")!;
    expect(made).to.match(/^[0-9a-f-]{36}$/);
    await accessLine(made);
    expect(raw.join("\n")).to.not.contain('"level":"error"');
    const refused = await fetch(`http://127.0.0.1:${network.gb.localPort}/api/v1/cases`, { headers: { "x-request-id": "no-token-1" } });
    expect(refused.status).to.equal(401);
    expect(await accessLine("no-token-1")).to.include({ status: 401 });
  });

  it("logs peer API requests with the peer's authority", async function () {
    const answer = await peerRequest(network.gb.peerPort, "GET", "/peer/v1/hello", { credentials: network.us.tlsCredentials(), ca: network.gb.rootPem(), headers: { "x-request-id": "us-hello-1" } });
    expect(answer.status).to.equal(200);
    expect(answer.headers["x-request-id"]).to.equal("us-hello-1");
    expect(await accessLine("us-hello-1")).to.include({ api: "peer", peer: "US-DOJ-OIA", path: "/peer/v1/hello", status: 200 });
  });

  it("shows the version in health and /metrics, and delivery metrics per peer", async function () {
    const submitted = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", { token: network.gb.tokens.caseworker, body: example("mla-request", "valid-email-records") });
    expect(submitted.status, submitted.text).to.equal(201);
    const metrics = await waitFor("a delivery counted for US", async () => {
      const text = (await localRequest(network.gb.localPort, "GET", "/metrics")).text;
      return /^valise_peer_deliveries_total\{peer="US-DOJ-OIA",outcome="delivered"\} 1$/m.test(text) ? text : undefined;
    });
    expect(metrics).to.match(/^valise_peer_delivery_latency_seconds_count\{peer="US-DOJ-OIA"\} 1$/m);
    const version = buildInfo().version;
    expect(version).to.match(/^\d+\.\d+\.\d+/);
    expect(metrics).to.contain(`valise_build_info{version="${version}",node="${process.version}"} 1`);
    const health = await localRequest(network.gb.localPort, "GET", "/api/v1/health", { token: network.gb.tokens.operator });
    expect(health.json.version).to.equal(version);
    expect(health.json.outbox).to.include({ pending: 0, stuck: false, oldestPendingAgeSeconds: null });
    expect(health.json.ownCertificates).to.deep.equal({ revoked: [], missingCurrent: [] });
  });
});
