/**
 * Deadlines on an injected clock, across two real gateways: emergency cases
 * first in every list, overdue and due-soon lists, and a missed deadline
 * alerted exactly once (a warning log line and a `deadline.missed` audit
 * entry) — by a call the test makes, and by the gateway's own periodic check.
 * The first suite sends requests of document version 1 (no instrument),
 * whose clocks are the settings per peer; instrument clocks: clocks.test.ts.
 * Nothing sleeps for a deadline: the clock is moved.
 */
import { expect } from "chai";
import { checkDeadlines } from "../../../gateway/cases/deadlines.js";
import { createNetwork, localRequest, waitFor, type TestNetwork } from "../fixtures.js";
import { configureClocks, caseAt, DAY, mlaRequest, mlaRequestV1, startOn, step, submit, TestClock, waitForDelivered, waitForStatus, type RunningGateway } from "./helpers.js";

interface Deadline {
  caseId: string;
  clock: string;
  priority: string;
  dueAt: string;
  holder: string;
  holderAuthority: string;
}

describe("case deadlines", function () {
  let network: TestNetwork;
  const clock = new TestClock();
  let gb: RunningGateway;
  let us: RunningGateway;
  const ids: Record<"normal" | "urgent" | "emergency", string> = { normal: "", urgent: "", emergency: "" };
  let t0 = 0;

  const list = async (side: "gb" | "us", path: string): Promise<Deadline[]> => {
    const authority = network[side];
    const answer = await localRequest(authority.localPort, "GET", path, { token: authority.tokens.caseworker });
    expect(answer.status, answer.text).to.equal(200);
    return answer.json.deadlines as Deadline[];
  };
  const label = (d: Deadline): string => `${Object.entries(ids).find(([, id]) => id === d.caseId)?.[0] ?? d.caseId} ${d.clock}`;

  before(async function () {
    network = await createNetwork();
    // Only the test checks deadlines here (the periodic check has its own test below).
    configureClocks(network.gb, { checkIntervalSeconds: 86400 });
    // US gives GB's normal requests 20 days.
    configureClocks(network.us, { checkIntervalSeconds: 86400, peers: { "GB-UKCA": { completionDays: { normal: 20 } } } });
    gb = await startOn(network.gb, clock);
    us = await startOn(network.us, clock);
    for (const level of ["normal", "urgent", "emergency"] as const) ids[level] = await submit(network.gb, network.us, mlaRequestV1(level));
    t0 = Date.parse((await caseAt(network.us, ids.normal)).json.receivedAt as string);
  });

  after(async function () {
    await gb?.gateway.stop();
    await us?.gateway.stop();
    network?.cleanup();
  });

  it("lists emergency cases first, on both sides", async function () {
    for (const side of [network.gb, network.us]) {
      const answer = await localRequest(side.localPort, "GET", "/api/v1/cases", { token: side.tokens.caseworker });
      const priorities = (answer.json.cases as Array<{ caseId: string; priority: string }>).map((c) => c.priority);
      expect(priorities, side.authority).to.deep.equal(["emergency", "urgent", "normal"]);
    }
  });

  it("applies the peer's clock configuration (US gives GB's normal requests 20 days; GB keeps the default 30)", async function () {
    expect((await caseAt(network.us, ids.normal)).json.clocks.completion.days).to.equal(20);
    expect((await caseAt(network.gb, ids.normal)).json.clocks.completion.days).to.equal(30);
  });

  it("lists deadlines due soon and overdue, emergency first, as the clock moves", async function () {
    expect(await list("us", "/api/v1/cases/overdue")).to.deep.equal([]);
    const soon = await list("us", "/api/v1/cases/due-soon");
    // Within 2 days: only the emergency's 1-day completion.
    expect(soon.map(label)).to.deep.equal(["emergency completion"]);
    expect(soon[0]).to.include({ holder: "requested", holderAuthority: "US-DOJ-OIA", dueAt: new Date(Date.parse((await caseAt(network.us, ids.emergency)).json.receivedAt) + DAY).toISOString() });

    clock.offsetMs = t0 + 2 * DAY - Date.now();
    expect((await list("us", "/api/v1/cases/overdue")).map(label)).to.deep.equal(["emergency completion"]);
    // GB watches the same deadline: US is late.
    const gbOverdue = await list("gb", "/api/v1/cases/overdue");
    expect(gbOverdue.map(label)).to.deep.equal(["emergency completion"]);
    expect(gbOverdue[0]!.holderAuthority).to.equal("US-DOJ-OIA");
    const soonAt2 = await list("us", "/api/v1/cases/due-soon?days=4");
    expect(soonAt2.map(label)).to.deep.equal(["emergency hop", "urgent hop", "normal hop"]);

    clock.offsetMs = t0 + 6 * DAY - Date.now();
    expect((await list("us", "/api/v1/cases/overdue")).map(label)).to.deep.equal(["emergency completion", "emergency hop", "urgent hop", "normal hop"]);
    const bad = await localRequest(network.us.localPort, "GET", "/api/v1/cases/due-soon?days=soon", { token: network.us.tokens.caseworker });
    expect(bad.status).to.equal(400);
    expect(bad.json.error.code).to.equal("USAGE");
    clock.offsetMs = 0;
  });

  it("alerts a missed deadline exactly once: a deadline.missed audit entry and a warning log line", async function () {
    clock.offsetMs = t0 + 2 * DAY - Date.now();
    const first = await checkDeadlines(us.gateway.context);
    expect(first.map(label)).to.deep.equal(["emergency completion"]);
    expect(await checkDeadlines(us.gateway.context)).to.deep.equal([]);
    const alerts = us.logs.filter((line) => line["message"] === "deadline missed");
    expect(alerts).to.have.length(1);
    expect(alerts[0]).to.include({ level: "warn", alert: "deadline.missed", caseId: ids.emergency, clock: "completion", holder: "US-DOJ-OIA", priority: "emergency" });

    clock.offsetMs = t0 + 6 * DAY - Date.now();
    expect((await checkDeadlines(us.gateway.context)).map(label)).to.deep.equal(["emergency hop", "urgent hop", "normal hop"]);
    expect(await checkDeadlines(us.gateway.context)).to.deep.equal([]);
    clock.offsetMs = t0 + 11 * DAY - Date.now();
    expect((await checkDeadlines(us.gateway.context)).map(label)).to.deep.equal(["urgent completion"]);
    clock.offsetMs = t0 + 21 * DAY - Date.now();
    // US's 20 days for GB's normal request.
    expect((await checkDeadlines(us.gateway.context)).map(label)).to.deep.equal(["normal completion"]);

    const events = (await caseAt(network.us, ids.emergency)).json.events as Array<{ kind: string; actor: string; caseId: string; details: Record<string, unknown> }>;
    const missed = events.filter((e) => e.kind === "deadline.missed");
    expect(missed.map((e) => e.details["clock"])).to.deep.equal(["completion", "hop"]);
    expect(missed[0]).to.deep.include({ actor: "gateway", caseId: ids.emergency });
    expect(missed[0]!.details).to.include({ holder: "US-DOJ-OIA", side: "requested", status: "received", priority: "emergency" });
    // GB alerts too, once, naming US as the late side.
    const gbMissed = await checkDeadlines(gb.gateway.context);
    expect(gbMissed.map(label)).to.deep.equal(["emergency completion", "emergency hop", "urgent hop", "urgent completion", "normal hop"]);
    expect(gbMissed.every((d) => d.holderAuthority === "US-DOJ-OIA")).to.equal(true);
    expect(await checkDeadlines(gb.gateway.context)).to.deep.equal([]);
    clock.offsetMs = 0;
  });

  it("starts a new hop with every step: the holder must act again within 5 days", async function () {
    await step(network.us, ids.normal, { step: "acknowledge" });
    await waitForStatus(network.gb, ids.normal, "acknowledged");
    // Not moving the clock under US's delivery, which is still verifying GB's receipt of the step.
    await waitForDelivered(network.us, ids.normal);
    const detail = (await caseAt(network.us, ids.normal)).json;
    const ackAt = Date.parse(detail.steps[0].at as string);
    expect(detail.clocks.hop).to.deep.include({ holder: "requested", dueAt: new Date(ackAt + 5 * DAY).toISOString(), key: detail.steps[0].envelopeId });
    clock.offsetMs = ackAt + 5 * DAY + 1000 - Date.now();
    const missed = await checkDeadlines(us.gateway.context);
    expect(missed.filter((d) => d.caseId === ids.normal).map(label)).to.deep.equal(["normal hop"]);
    clock.offsetMs = 0;
  });
});

describe("case deadlines, checked by the running gateway", function () {
  let network: TestNetwork;
  const clock = new TestClock();
  let gb: RunningGateway;
  let us: RunningGateway;

  before(async function () {
    network = await createNetwork();
    configureClocks(network.us, { checkIntervalSeconds: 1 });
    gb = await startOn(network.gb, clock);
    us = await startOn(network.us, clock);
  });

  after(async function () {
    await gb?.gateway.stop();
    await us?.gateway.stop();
    network?.cleanup();
  });

  it("alerts on its own when the (injected) clock passes a deadline, once", async function () {
    const caseId = await submit(network.gb, network.us, mlaRequest("emergency"));
    const received = Date.parse((await caseAt(network.us, caseId)).json.receivedAt as string);
    clock.offsetMs = received + DAY + 1000 - Date.now();
    const entries = await waitFor("the periodic check to alert", async () => {
      const events = (await caseAt(network.us, caseId)).json.events as Array<{ kind: string; details: Record<string, unknown> }>;
      const missed = events.filter((e) => e.kind === "deadline.missed");
      return missed.length > 0 ? missed : undefined;
    });
    expect(entries).to.have.length(1);
    expect(entries[0]!.details["clock"]).to.equal("completion");
    // Already alerted: a check now adds nothing.
    expect(await checkDeadlines(us.gateway.context)).to.deep.equal([]);
    const events = (await caseAt(network.us, caseId)).json.events as Array<{ kind: string }>;
    expect(events.filter((e) => e.kind === "deadline.missed")).to.have.length(1);
    expect(us.logs.filter((line) => line["message"] === "deadline missed" && line["caseId"] === caseId)).to.have.length(1);
    clock.offsetMs = 0;
  });
});
