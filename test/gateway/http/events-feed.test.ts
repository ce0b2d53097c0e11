/**
 * The event feed and the paged case list over real HTTP between two running
 * gateways: a request and its steps appear in both feeds once each, in
 * order, by long-poll and by Server-Sent Events (resumed with
 * Last-Event-ID); cursors are signed and bound to their list and filters.
 */
import http from "node:http";
import { expect } from "chai";
import type { Gateway } from "../../../gateway/gateway.js";
import { example, localRequest, waitFor, type TestNetwork, startNetwork, stopNetwork } from "../fixtures.js";
import { localApiOpenApi } from "../../../gateway/http/openapi/document.js";
import { responseChecker } from "./openapi-responses.js";

const contract = responseChecker();

/** The example request under `reference`, its deadline 60 days ahead (the example's own date has passed: its case would be overdue). */
function upcomingRequest(reference: string): Record<string, unknown> {
  const request = example("mla-request", "valid-email-records") as Record<string, unknown>;
  const dueBy = new Date(Date.now() + 60 * 24 * 3600 * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  return { ...request, reference, deadline: { ...(request["deadline"] as Record<string, unknown>), dueBy } };
}

interface SseEvent {
  id: string;
  event: string;
  data: { eventId: string; kind: string; caseId?: string; data: Record<string, unknown> };
}

/** Opens the feed as SSE; collects events until `stop` is called. */
function openStream(port: number, token: string, lastEventId?: string): { events: SseEvent[]; status: Promise<number>; stop: () => void } {
  const events: SseEvent[] = [];
  let resolveStatus: (status: number) => void = () => undefined;
  const status = new Promise<number>((resolve) => (resolveStatus = resolve));
  const req = http.request(
    {
      host: "127.0.0.1",
      port,
      path: "/api/v1/events",
      agent: false,
      headers: { authorization: `Bearer ${token}`, accept: "text/event-stream", ...(lastEventId === undefined ? {} : { "last-event-id": lastEventId }) },
    },
    (res) => {
      resolveStatus(res.statusCode ?? 0);
      let buffer = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(block.split("\n").filter((line) => !line.startsWith(":") && line.includes(": ")).map((line) => [line.slice(0, line.indexOf(": ")), line.slice(line.indexOf(": ") + 2)]));
          if (fields["data"] !== undefined) events.push({ id: fields["id"]!, event: fields["event"]!, data: JSON.parse(fields["data"]) });
        }
      });
      res.on("error", () => undefined);
    },
  );
  req.on("error", () => undefined);
  req.end();
  return { events, status, stop: () => req.destroy() };
}

describe("event feed and paged lists (local API)", function () {
  let network: TestNetwork;
  let gb: Gateway;
  let us: Gateway;
  let caseId: string;

  before(async function () {
    ({ network, gb, us } = await startNetwork());
  });

  after(() => stopNetwork({ network, gb, us }));

  it("a long-poll waits for the inbound request and returns it once, with a cursor that resumes after it", async function () {
    const token = network.us.tokens.caseworker;
    const first = await localRequest(network.us.localPort, "GET", "/api/v1/events", { token });
    expect(first.status, first.text).to.equal(200);
    expect(first.json.events).to.deep.equal([]);
    const waiting = localRequest(network.us.localPort, "GET", `/api/v1/events?after=${first.json.next}&wait=30`, { token });
    const submitted = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", { token: network.gb.tokens.caseworker, body: upcomingRequest("GB/OPS/4711") });
    expect(submitted.status, submitted.text).to.equal(201);
    caseId = submitted.json.caseId;
    const polled = await waiting;
    expect(polled.status, polled.text).to.equal(200);
    contract.check("GET", "/api/v1/events", 200, polled.json);
    contract.check("POST", "/api/v1/requests", 201, submitted.json);
    expect(polled.json.events.map((e: { kind: string }) => e.kind)).to.deep.equal(["request.received"]);
    expect(polled.json.events[0]).to.include({ caseId });
    expect(polled.json.events[0].data).to.include({ type: "mla-request", from: "GB-UKCA" });
    const again = await localRequest(network.us.localPort, "GET", `/api/v1/events?after=${polled.json.next}`, { token });
    expect(again.json.events).to.deep.equal([]);
  });

  it("streams the feed as SSE on both sides through acknowledge and request-more-info, each event once, resumable by Last-Event-ID", async function () {
    const usStream = openStream(network.us.localPort, network.us.tokens.caseworker);
    const gbStream = openStream(network.gb.localPort, network.gb.tokens.caseworker);
    expect(await usStream.status).to.equal(200);
    expect(await gbStream.status).to.equal(200);
    const step = await localRequest(network.us.localPort, "POST", `/api/v1/cases/${caseId}/status`, { token: network.us.tokens.caseworker, body: { step: "acknowledge" } });
    expect(step.status, step.text).to.equal(201);
    contract.check("POST", "/api/v1/cases/{caseId}/status", 201, step.json);
    const more = await localRequest(network.us.localPort, "POST", `/api/v1/cases/${caseId}/status`, {
      token: network.us.tokens.caseworker,
      body: { step: "request-more-info", questions: ["Which account holder is meant by the second identifier?"] },
    });
    expect(more.status, more.text).to.equal(201);
    const changes = (s: { events: SseEvent[] }): string[] => s.events.filter((e) => e.event === "status.changed").map((e) => `${e.data.data["from"]}>${e.data.data["to"]}`);
    await waitFor("GB's stream to see both steps", () => (changes(gbStream).includes("acknowledged>more-info-requested") ? true : undefined));
    await waitFor("US's stream to see both steps", () => (changes(usStream).includes("acknowledged>more-info-requested") ? true : undefined));
    expect(usStream.events.map((e) => e.event)).to.deep.equal(["request.received", "status.changed", "status.changed"]);
    expect(changes(gbStream)).to.deep.equal(["submitted>received", "received>acknowledged", "acknowledged>more-info-requested"]);
    for (const s of [usStream, gbStream]) expect(new Set(s.events.map((e) => e.data.eventId)).size).to.equal(s.events.length);
    usStream.stop();
    gbStream.stop();

    // Resumed after the first event: the rest, and nothing twice.
    const resumed = openStream(network.us.localPort, network.us.tokens.caseworker, usStream.events[0]!.id);
    await waitFor("the resumed stream", () => (resumed.events.length >= 2 ? true : undefined));
    expect(resumed.events.map((e) => e.data.eventId)).to.deep.equal(usStream.events.slice(1).map((e) => e.data.eventId));
    resumed.stop();
  });

  it("filters the feed by case and kind; a cursor under other filters, of another list, or forged is refused with its code", async function () {
    const token = network.us.tokens.caseworker;
    const byKind = await localRequest(network.us.localPort, "GET", "/api/v1/events?kind=status.changed", { token });
    expect(byKind.json.events.map((e: { kind: string }) => e.kind)).to.deep.equal(["status.changed", "status.changed"]);
    const other = await localRequest(network.us.localPort, "GET", `/api/v1/events?after=${byKind.json.next}`, { token });
    expect(other.status).to.equal(400);
    contract.check("GET", "/api/v1/events", 400, other.json);
    expect(other.json.error.code).to.equal("CURSOR_LIST_MISMATCH");
    const [payload, tag] = String(byKind.json.next).split(".");
    const forgedPayload = Buffer.from(JSON.stringify({ l: "events", f: { kind: "status.changed" }, p: [-1] })).toString("base64url");
    for (const forged of [`${forgedPayload}.${tag}`, `${payload}.${"A".repeat(22)}`, "not-a-cursor", "x".repeat(5000)]) {
      const answer = await localRequest(network.us.localPort, "GET", `/api/v1/events?kind=status.changed&after=${forged}`, { token });
      expect(answer.status, forged.slice(0, 20)).to.equal(400);
      expect(answer.json.error.code).to.equal("CURSOR_INVALID");
    }
    const asCases = await localRequest(network.us.localPort, "GET", `/api/v1/cases?cursor=${byKind.json.next}`, { token });
    expect(asCases.json.error.code).to.equal("CURSOR_LIST_MISMATCH");
    const unknown = await localRequest(network.us.localPort, "GET", "/api/v1/events?kinds=status.changed", { token });
    expect(unknown.status).to.equal(400);
    expect(unknown.json.error.code).to.equal("USAGE");
    const tooLong = await localRequest(network.us.localPort, "GET", "/api/v1/events?wait=61", { token });
    expect(tooLong.json.error.code).to.equal("USAGE");
  });

  it("pages the case list with a cursor and filters by the requester's reference, peer, urgency and updatedSince", async function () {
    const token = network.gb.tokens.caseworker;
    for (let i = 0; i < 3; i += 1) {
      const answer = await localRequest(network.gb.localPort, "POST", "/api/v1/requests", { token, body: upcomingRequest(`GB/PAGE/${i}`) });
      expect(answer.status, answer.text).to.equal(201);
    }
    const seen: string[] = [];
    let path = "/api/v1/cases?limit=2";
    for (;;) {
      const page = await localRequest(network.gb.localPort, "GET", path, { token });
      expect(page.status, page.text).to.equal(200);
      contract.check("GET", "/api/v1/cases", 200, page.json);
      expect(page.json.cases.length).to.be.at.most(2);
      seen.push(...page.json.cases.map((c: { caseId: string }) => c.caseId));
      if (page.json.next === null) break;
      path = `/api/v1/cases?limit=2&cursor=${page.json.next}`;
    }
    expect(seen).to.have.length(4);
    expect(new Set(seen).size).to.equal(4);
    const byReference = await localRequest(network.gb.localPort, "GET", "/api/v1/cases?reference=GB%2FOPS%2F4711", { token });
    expect(byReference.json.cases.map((c: { caseId: string }) => c.caseId)).to.deep.equal([caseId]);
    expect(byReference.json.cases[0].reference).to.equal("GB/OPS/4711");
    const atUs = await localRequest(network.us.localPort, "GET", "/api/v1/cases?reference=GB%2FOPS%2F4711&peer=GB-UKCA&urgency=normal", { token: network.us.tokens.caseworker });
    expect(atUs.json.cases.map((c: { caseId: string }) => c.caseId)).to.deep.equal([caseId]);
    const future = await localRequest(network.gb.localPort, "GET", "/api/v1/cases?updatedSince=2999-01-01T00:00:00Z", { token });
    expect(future.json).to.deep.equal({ cases: [], next: null });
    const filtered = await localRequest(network.gb.localPort, "GET", "/api/v1/cases?limit=1&direction=outbound", { token });
    const mixed = await localRequest(network.gb.localPort, "GET", `/api/v1/cases?limit=1&cursor=${filtered.json.next}`, { token });
    expect(mixed.json.error.code).to.equal("CURSOR_LIST_MISMATCH");
    for (const bad of ["urgency=high", "limit=0", "limit=501", "updatedSince=yesterday", "overdue=maybe", "colour=red"]) {
      const answer = await localRequest(network.gb.localPort, "GET", `/api/v1/cases?${bad}`, { token });
      expect(answer.status, bad).to.equal(400);
      expect(answer.json.error.code, bad).to.equal("USAGE");
    }
    const overdue = await localRequest(network.gb.localPort, "GET", "/api/v1/cases?overdue=true", { token });
    expect(overdue.json).to.deep.equal({ cases: [], next: null });
    const notOverdue = await localRequest(network.gb.localPort, "GET", "/api/v1/cases?overdue=false&limit=500", { token });
    expect(notOverdue.json.cases).to.have.length(4);
  });

  it("serves its OpenAPI description without a token, as the code builds it; a case detail matches it", async function () {
    const served = await localRequest(network.us.localPort, "GET", "/api/v1/openapi.json");
    expect(served.status).to.equal(200);
    expect(served.json).to.deep.equal(JSON.parse(JSON.stringify(localApiOpenApi())));
    const detail = await localRequest(network.us.localPort, "GET", `/api/v1/cases/${caseId}`, { token: network.us.tokens.caseworker });
    contract.check("GET", "/api/v1/cases/{caseId}", 200, detail.json);
    const unknown = await localRequest(network.us.localPort, "GET", "/api/v1/cases/00000000-0000-4000-8000-000000000000", { token: network.us.tokens.caseworker });
    contract.check("GET", "/api/v1/cases/{caseId}", 404, unknown.json);
  });
});
