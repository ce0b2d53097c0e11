/**
 * "Deadline due soon" on the event feed, on an injected clock: a hop
 * deadline entering the due-soon window is announced once (a second check
 * announces nothing), a new hop after a step is announced again, and a
 * deadline already passed is not "due soon".
 */
import { expect } from "chai";
import { announceDueSoon } from "../../../gateway/events/due-soon.js";
import { createNetwork, localRequest, type TestNetwork } from "../fixtures.js";
import { configureClocks, DAY, startOn, step, submit, TestClock, waitForStatus, type RunningGateway } from "../cases/helpers.js";

describe("deadline.due-soon events", function () {
  let network: TestNetwork;
  const clock = new TestClock();
  let gb: RunningGateway;
  let us: RunningGateway;

  before(async function () {
    network = await createNetwork();
    configureClocks(network.gb, { checkIntervalSeconds: 86400 });
    configureClocks(network.us, { checkIntervalSeconds: 86400, dueSoonDays: 2 });
    gb = await startOn(network.gb, clock);
    us = await startOn(network.us, clock);
  });

  after(async function () {
    await gb?.gateway.stop();
    await us?.gateway.stop();
    network?.cleanup();
  });

  it("announces a hop deadline once when it comes within dueSoonDays, and again for the next hop", async function () {
    const caseId = await submit(network.gb, network.us);
    const feed = async (): Promise<Array<{ kind: string; caseId: string; data: Record<string, unknown> }>> =>
      (await localRequest(network.us.localPort, "GET", `/api/v1/events?kind=deadline.due-soon&caseId=${caseId}`, { token: network.us.tokens.caseworker })).json.events;
    // Day 1 of a 5-day hop: not yet due soon.
    clock.advance(1 * DAY);
    expect(await announceDueSoon(us.gateway.context)).to.deep.equal([]);
    // Day 3.5: within two days of the hop deadline.
    clock.advance(2.5 * DAY);
    const first = await announceDueSoon(us.gateway.context);
    expect(first.map((d) => d.clock)).to.include("hop");
    expect(await announceDueSoon(us.gateway.context)).to.deep.equal([]);
    const announced = await feed();
    expect(announced.filter((e) => e.data["clock"] === "hop")).to.have.length(1);
    expect(announced[0]!.data).to.include({ side: "requested", holder: "US-DOJ-OIA", status: "received" });
    // A step starts a new hop: its own deadline is announced when due soon.
    await step(network.us, caseId, { step: "acknowledge" });
    await waitForStatus(network.gb, caseId, "acknowledged");
    clock.advance(3.5 * DAY);
    await announceDueSoon(us.gateway.context);
    expect((await feed()).filter((e) => e.data["clock"] === "hop")).to.have.length(2);
    // Passed: overdue, not due soon.
    clock.advance(3 * DAY);
    expect((await announceDueSoon(us.gateway.context)).filter((d) => d.clock === "hop")).to.deep.equal([]);
  });
});
